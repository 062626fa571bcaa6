"""The API's twin of the pages' access matrix world (tests/permissions/test_access_matrix.py): the same people and
cases, each case with a note in every compartment carrying a unique marker, plus what the API routes need — a plan
action owned by the school partner on the team's case (a task in their inbox), a report the school filed, a
notification for the school — and a write token for every role."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from casework.models import Municipality, PlanAction, Report
from casework.sealing import seal_values
from casework.services.reports import ReportDetails
from notifications.models import Kind, Notification
from permissions import audit
from services.models import Service
from tests.api.helpers import token_for
from tests.factories.services import provider, service
from tests.permissions.test_access_matrix import ROLES, World
from workflows.flows import report_receive
from workflows.flows.action import action_flows_for_plan
from workflows.tasks import task_get

ACTION_MARKER = "APIMARK-action-what"
REPORT_MARKER = "APIMARK-report-facts"


@dataclass
class ApiWorld:
    world: World
    tokens: dict[str, str]
    action_task_id: int
    school_report: Report
    school_notification: Notification
    service: Service
    extra: dict[str, object] = field(default_factory=dict)


def build(world: World, municipality: Municipality) -> ApiWorld:
    team = world.cases["team"]
    school = world.users["school"]
    plan = team.plan
    action = PlanAction(case=team.case, plan=plan, owner_user=school, due_on=timezone.localdate(), position=5)
    seal_values(action, {"what": f"Doučování {ACTION_MARKER}"})
    action.save()
    with audit.atomic():
        action_flows_for_plan(plan)
    from workflows.processes import ActionProcess

    process = ActionProcess.objects.get(action=action)
    task = process.task_set.get(flow_task__isnull=False, status__in=["ASSIGNED", "NEW", "STARTED"])
    assert task_get(task_id=task.pk) is not None
    report = report_receive(
        filed_by=school,
        details=ReportDetails(
            facts=f"Dítě chodí hladové {REPORT_MARKER}",
            child_given_name="Filip",
            child_family_name="Testovací",
            child_date_of_birth=datetime.date(2015, 3, 1),
        ),
    )
    notification = Notification.objects.create(
        recipient=school, kind=Kind.ACTION_REPORTED, case_id=team.case.pk, case_reference=team.case.reference
    )
    card = service(
        of=provider(organisation=world.users["service"].organisation),
        name="SAS Jabloňka",
        orps=(municipality,),
        age_min=0,
        age_max=18,
        capacity_total=10,
        free_places=2,
    )
    tokens = {role: token_for(world.users[role]) for role in ROLES}
    return ApiWorld(
        world=world,
        tokens=tokens,
        action_task_id=task.pk,
        school_report=report,
        school_notification=notification,
        service=card,
    )
