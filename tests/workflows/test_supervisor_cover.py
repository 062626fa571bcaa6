"""Supervisor cover routes the supervisors' work to the deputy for exactly the period: a report's triage, a plan's
approval and an overdue task's escalation reach a neighbouring ORP's head standing in (notification and team queue),
who may act on them and read the covered authority's cases through the gate — audited like anyone, four eyes
included — and none of it before the cover starts or after it ends (frozen time). Fictional data only."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from casework.models import Case, PlanStatus, ReportStatus, SupervisorCover, User
from casework.selectors.accounts import acting_supervisor_ids, supervisor_ids
from casework.services import plans as plan_services
from casework.services.cover import supervisor_cover_add, supervisor_cover_end
from notifications.models import Kind, Notification
from permissions.access import load_case_access, load_report_access
from permissions.models import AuditEvent
from tests.factories import add_member, open_case
from workflows import selectors
from workflows.models import DeadlineKind
from workflows.services import deadline_set, deadlines_check

from . import test_case_flow as flow_tests
from .conftest import child_identity, client_for, file_report, html, triage
from .test_plan_stage import fill, submit, to_plan_stage

pytestmark = pytest.mark.django_db

case = flow_tests.case
doctor = flow_tests.doctor

PRAGUE = ZoneInfo("Europe/Prague")
NAMED = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=PRAGUE)
FROM = datetime.datetime(2026, 12, 14, 0, 0, tzinfo=PRAGUE)
UNTIL = datetime.datetime(2026, 12, 24, 0, 0, tzinfo=PRAGUE)
DURING = datetime.datetime(2026, 12, 15, 10, 0, tzinfo=PRAGUE)
BEFORE = datetime.datetime(2026, 12, 10, 10, 0, tzinfo=PRAGUE)
AFTER = datetime.datetime(2026, 12, 28, 10, 0, tzinfo=PRAGUE)


@pytest.fixture
def cover(supervisor: User, foreign_supervisor: User) -> SupervisorCover:
    """The only supervisor of Olomouc is away 14 to 23 December; the head of Prostějov stands in."""
    with time_machine.travel(NAMED, tick=False):
        return supervisor_cover_add(
            supervisor=supervisor, deputy=foreign_supervisor, starts_at=FROM, ends_at=UNTIL, by=supervisor
        )


def _authority(user: User) -> int:
    assert user.organisation is not None
    return user.organisation.municipality_id


def _queue(user: User, task_type: str) -> list[str | None]:
    return [
        row.report_reference or row.case_reference for row in selectors.team_queue(user=user, task_type=task_type).rows
    ]


@pytest.mark.parametrize(("moment", "routed"), [(BEFORE, False), (DURING, True), (AFTER, False)])
def test_the_deputy_is_an_acting_supervisor_for_exactly_the_period(
    supervisor: User, foreign_supervisor: User, cover: SupervisorCover, moment: datetime.datetime, routed: bool
) -> None:
    with time_machine.travel(moment, tick=False):
        expected = sorted([supervisor.pk, foreign_supervisor.pk]) if routed else [supervisor.pk]
        assert supervisor_ids(_authority(supervisor)) == expected  # the absent one keeps hearing too
        # The deputy's own authority is unchanged.
        assert supervisor_ids(_authority(foreign_supervisor)) == [foreign_supervisor.pk]
        both = acting_supervisor_ids([_authority(supervisor), _authority(foreign_supervisor)])
        assert both[_authority(supervisor)] == expected


@pytest.mark.parametrize(("moment", "routed"), [(BEFORE, False), (DURING, True), (AFTER, False)])
def test_a_report_during_the_cover_reaches_the_deputy_who_triages_it(
    teacher: User,
    supervisor: User,
    coordinator: User,
    foreign_supervisor: User,
    cover: SupervisorCover,
    moment: datetime.datetime,
    routed: bool,
) -> None:
    with time_machine.travel(moment, tick=False):
        report = file_report(teacher, residence_municipality="Olomouc")
        told = set(Notification.objects.filter(kind=Kind.REPORT_RECEIVED).values_list("recipient_id", flat=True))
        assert (foreign_supervisor.pk in told) is routed
        assert supervisor.pk in told
        assert (report.reference in _queue(foreign_supervisor, "triage")) is routed
        access = load_report_access(foreign_supervisor, report)
        assert access.may_triage is routed
        page = client_for(foreign_supervisor).get(reverse("report_detail", args=[report.pk]))
        assert page.status_code == (200 if routed else 404)
        if routed:
            triage(
                report, foreign_supervisor, urgent=False, at_risk=True, coordinator=coordinator, child=child_identity()
            )
            assert report.status == ReportStatus.CASE_OPENED
            assert report.decided_by_id == foreign_supervisor.pk
            assert AuditEvent.objects.filter(
                actor=foreign_supervisor, object_type="casework.report", purpose="triage report"
            ).exists()
        else:
            assert AuditEvent.objects.filter(actor=foreign_supervisor, outcome="denied").exists()


def test_the_deputy_approves_a_plan_in_the_queue_but_never_their_own(
    case: Case,
    coordinator: User,
    teacher: User,
    supervisor: User,
    foreign_supervisor: User,
    cover: SupervisorCover,
) -> None:
    with time_machine.travel(DURING, tick=False):
        assert load_case_access(foreign_supervisor, case).is_lead
        task = to_plan_stage(case, coordinator, teacher)
        plan = submit(case, coordinator, task)
        approval = Notification.objects.filter(kind=Kind.TASK_ASSIGNED, recipient=foreign_supervisor).get()
        assert approval.case_reference == case.reference
        assert case.reference in _queue(foreign_supervisor, "plan_approval")
        # The deputy reads the case file through the gate, audited like anyone.
        assert client_for(foreign_supervisor).get(reverse("case_detail", args=[case.pk])).status_code == 200
        assert AuditEvent.objects.filter(actor=foreign_supervisor, case_id=case.pk, action="read").exists()
        plan_services.plan_return(plan=plan, by=foreign_supervisor, comment="Doplňte názor otce.")
        plan.refresh_from_db()
        assert plan.status != PlanStatus.SUBMITTED

    # Four eyes hold for the deputy: a version they drafted themselves waits for someone else.
    other = open_case(coordinator=coordinator)
    with time_machine.travel(DURING, tick=False):
        draft = plan_services.plan_draft_start(case=other, by=foreign_supervisor)
        fill(draft, foreign_supervisor)
        plan_services.plan_submit(plan=draft, by=foreign_supervisor)
        draft.refresh_from_db()
        assert draft.drafted_by_id == foreign_supervisor.pk
        with pytest.raises(PermissionDenied):
            plan_services.plan_approve(plan=draft, by=foreign_supervisor, next_review_on=datetime.date(2027, 3, 1))


def test_after_the_cover_the_deputy_sees_nothing_of_the_authority(
    case: Case, foreign_supervisor: User, cover: SupervisorCover
) -> None:
    with time_machine.travel(AFTER, tick=False):
        assert not load_case_access(foreign_supervisor, case).visible
        assert client_for(foreign_supervisor).get(reverse("case_detail", args=[case.pk])).status_code == 404
        assert case.reference not in html(client_for(foreign_supervisor).get(reverse("case_list")))


def test_ending_the_cover_early_ends_the_routing_at_once(
    case: Case, supervisor: User, foreign_supervisor: User, cover: SupervisorCover
) -> None:
    with time_machine.travel(DURING, tick=False):
        assert case.reference in html(client_for(foreign_supervisor).get(reverse("case_list")))
        supervisor_cover_end(cover_id=cover.pk, by=supervisor)
        assert supervisor_ids(_authority(supervisor)) == [supervisor.pk]
        assert client_for(foreign_supervisor).get(reverse("case_detail", args=[case.pk])).status_code == 404


@pytest.mark.parametrize(("moment", "routed"), [(BEFORE, False), (DURING, True)])
def test_an_escalation_during_the_cover_reaches_the_deputy(
    coordinator: User,
    teacher: User,
    supervisor: User,
    foreign_supervisor: User,
    cover: SupervisorCover,
    moment: datetime.datetime,
    routed: bool,
) -> None:
    opened = open_case(coordinator=coordinator)
    add_member(opened, teacher, coordinator)
    deadline_set(
        kind=DeadlineKind.INPUT,
        due_at=moment - datetime.timedelta(days=5),
        owner=teacher,
        case=opened,
        municipality=opened.municipality,
        reference=opened.reference,
        allow_past=True,
    )
    deadlines_check(now=moment)
    escalated = set(Notification.objects.filter(kind=Kind.ESCALATION).values_list("recipient_id", flat=True))
    assert supervisor.pk in escalated
    assert (foreign_supervisor.pk in escalated) is routed
