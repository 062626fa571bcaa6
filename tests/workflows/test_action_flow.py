"""The plan-action loop from code (``workflows.flows.ActionFlow``): an approved plan's actions become tasks in their
owners' inboxes (a person's assigned to them, an organisation's in the queue of its members on the team), each with
a PLAN_ACTION deadline; a done report completes the task; the next approved version replaces the previous version's
tasks; closing the case cancels them; an overdue action warns its owner and escalates like any deadline.

Every name and text is fictional.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from casework.models import (
    ActionStatus,
    Case,
    CloseReason,
    MembershipEndReason,
    Municipality,
    Organisation,
    Plan,
    PlanAction,
    PlanStatus,
    TeamMembership,
    User,
)
from casework.services import case_close, team_member_end
from casework.services import plans as plan_services
from casework.services.plan_actions import ActionInput, action_report, ownerless_actions
from notifications.models import Kind, Notification
from tests.casework import test_plan_action_services as cast
from tests.factories import add_member, open_case
from tests.factories.cases import service_partner
from workflows import selectors, tasks
from workflows.deadlines import PRAGUE, working_deadline
from workflows.flows import ActionFlow, CaseFlow
from workflows.models import AuthoritySettings, Deadline, DeadlineKind
from workflows.processes import ActionProcess

from . import test_plan_stage as plan_stage_tests
from .conftest import client_for
from .test_case_flow import one_task
from .test_plan_stage import CHILD_VIEWS, GOAL, decide, reassess_unchanged, to_plan_stage

# A fixture of test_plan_stage: another supervisor of the authority.
second_supervisor = plan_stage_tests.second_supervisor
# The plan-action services' cast: a case with a teacher, a paediatrician and two workers of a social service.
case = cast.case
doctor = cast.doctor
sas = cast.sas
sas_worker = cast.sas_worker
sas_colleague = cast.sas_colleague

SCHOOL_ACTION = "Škola zajistí doučování; zkušební úkol AFL-W1."
DOCTOR_ACTION = "Kontrola váhy jednou měsíčně; zkušební úkol AFL-W2."
SAS_ACTION = "SAS navštíví rodinu dvakrát týdně; zkušební úkol AFL-W3."
REPORT_TEXT = "Hotovo, doučování proběhlo; zkušební zpráva AFL-R1."


in_days = cast.in_days


# --- The cast -----------------------------------------------------------------------------------------------------


@pytest.fixture
def sas_off_team(sas: Organisation) -> User:
    """A worker of the same service who is on no team: never told, never queued."""
    return service_partner(org=sas)


def plan_actions(teacher: User, doctor: User, sas: Organisation) -> list[ActionInput]:
    return [
        ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(30), goal=0),
        ActionInput(what=DOCTOR_ACTION, owner_user_id=doctor.pk, due_on=in_days(20)),
        ActionInput(what=SAS_ACTION, owner_organisation_id=sas.pk, due_on=in_days(40), goal=1),
    ]


def submit_with(case: Case, coordinator: User, task: Any, actions: list[ActionInput] | None) -> Plan:
    """Fill the draft (with ``actions``; ``None`` keeps the carried ones) and submit it through its task."""
    plan = plan_services.plan_in_work(case)
    assert plan is not None
    plan_services.plan_save(
        plan=plan,
        by=coordinator,
        goals=[GOAL, "Rodina spolupracuje se SAS."],
        support_offered="SAS dvakrát týdně",
        child_views=CHILD_VIEWS,
        parents_views="",
        next_review_on=None,
        actions=actions,
    )
    tasks.task_complete(
        task=task, user=coordinator, work=lambda: plan_services.plan_submit(plan=plan, by=coordinator), purpose="submit"
    )
    plan.refresh_from_db()
    return plan


def approve_first(case: Case, coordinator: User, teacher: User, supervisor: User, actions: list[ActionInput]) -> Plan:
    """Through the case flow: inputs, assessment, the draft with ``actions``, a supervisor's approval."""
    plan = submit_with(case, coordinator, to_plan_stage(case, coordinator, teacher), actions)
    decide(case, supervisor)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CURRENT
    return plan


def actions_of(plan: Plan) -> list[PlanAction]:
    return list(PlanAction.objects.filter(plan=plan).order_by("position", "id"))


def action_task(action: PlanAction) -> Any:
    return Task.objects.get(process__actionprocess__action=action, flow_task=ActionFlow.do_action)


def process_of(action: PlanAction) -> ActionProcess:
    return ActionProcess.objects.get(action=action)


def task_notices(task: Any) -> set[int]:
    return set(
        Notification.objects.filter(
            kind=Kind.TASK_ASSIGNED, object_type="viewflow.task", object_id=str(task.pk)
        ).values_list("recipient_id", flat=True)
    )


@pytest.fixture
def approved(case: Case, coordinator: User, teacher: User, doctor: User, sas: Organisation, supervisor: User) -> Plan:
    return approve_first(case, coordinator, teacher, supervisor, plan_actions(teacher, doctor, sas))


# --- Approval → tasks ---------------------------------------------------------------------------------------------


def test_approval_gives_each_action_a_task_in_its_owners_inbox(
    case: Case,
    approved: Plan,
    teacher: User,
    doctor: User,
    sas: Organisation,
    sas_worker: User,
    sas_colleague: User,
    sas_off_team: User,
    supervisor: User,
) -> None:
    school, medical, service = actions_of(approved)
    assert ActionProcess.objects.filter(action__plan=approved).count() == 3
    for action in (school, medical, service):
        assert ActionProcess.objects.filter(action=action).count() == 1
        assert Task.objects.filter(process__actionprocess__action=action, flow_task=ActionFlow.do_action).count() == 1

    school_task, medical_task, service_task = (action_task(a) for a in (school, medical, service))
    # A person's action is theirs; an organisation's waits in the queue.
    assert (school_task.owner_id, school_task.status) == (teacher.pk, STATUS.ASSIGNED)
    assert (medical_task.owner_id, medical_task.status) == (doctor.pk, STATUS.ASSIGNED)
    assert (service_task.owner_id, service_task.status) == (None, STATUS.NEW)

    for action, task, owner in (
        (school, school_task, teacher),
        (medical, medical_task, doctor),
        (service, service_task, None),
    ):
        deadline = Deadline.objects.get(task=task)
        assert deadline.kind == DeadlineKind.PLAN_ACTION
        assert deadline.due_at == working_deadline(action.due_on)
        assert deadline.owner_id == (owner.pk if owner is not None else None)
        assert deadline.case_id == case.pk
        assert deadline.done_at is None

    # Told: the owner; for the organisation, its members on the team (not a colleague off the team).
    assert task_notices(school_task) == {teacher.pk}
    assert task_notices(medical_task) == {doctor.pk}
    assert task_notices(service_task) == {sas_worker.pk, sas_colleague.pk}
    assert sas_off_team.pk not in task_notices(service_task)
    sent = Notification.objects.filter(kind=Kind.TASK_ASSIGNED, object_id=str(service_task.pk))
    assert {(n.case_id, n.case_reference) for n in sent} == {(case.pk, case.reference)}


def test_the_inbox_lists_the_action(case: Case, approved: Plan, teacher: User, doctor: User) -> None:
    school, medical, _service = actions_of(approved)
    rows = selectors.my_tasks(user=teacher).rows
    assert [(r.task_id, r.task_type) for r in rows] == [(action_task(school).pk, "action")]
    assert rows[0].case_reference == case.reference
    assert rows[0].case_id == case.pk
    assert rows[0].due_at == working_deadline(school.due_on)
    assert [r.task_id for r in selectors.my_tasks(user=teacher, task_type="action").rows] == [action_task(school).pk]
    assert [r.task_id for r in selectors.my_tasks(user=doctor).rows] == [action_task(medical).pk]


def test_an_action_leaves_its_owners_inbox_when_their_last_day_has_passed(
    case: Case, approved: Plan, teacher: User, doctor: User
) -> None:
    """Issue 16, finding 6: the end date passing writes nothing, so the inbox's query itself asks for a membership
    valid now (DESIGN invariant 5)."""
    school, medical, _service = actions_of(approved)
    today = timezone.localdate()
    TeamMembership.objects.filter(case=case, user=teacher, ended_at__isnull=True).update(valid_until=today)
    with time_machine.travel(f"{(today + datetime.timedelta(days=1)).isoformat()} 08:00 +01:00", tick=False):
        assert selectors.my_tasks(user=teacher).rows == []
        assert client_for(teacher).get(f"/inbox/tasks/{action_task(school).pk}/").status_code == 404
        assert [r.task_id for r in selectors.my_tasks(user=doctor).rows] == [action_task(medical).pk]


def test_the_organisations_action_waits_in_its_members_queue(
    approved: Plan, teacher: User, sas_worker: User, sas_colleague: User, sas_off_team: User, supervisor: User
) -> None:
    service_task = action_task(actions_of(approved)[2])
    for member in (sas_worker, sas_colleague):
        rows = selectors.team_queue(user=member).rows
        assert [(r.task_id, r.task_type) for r in rows] == [(service_task.pk, "action")]
        assert [r.task_id for r in selectors.team_queue(user=member, task_type="action").rows] == [service_task.pk]
    for other in (teacher, sas_off_team, supervisor):
        assert service_task.pk not in [r.task_id for r in selectors.team_queue(user=other).rows]
    assert selectors.my_tasks(user=sas_worker).rows == []


# --- Reports → tasks done ----------------------------------------------------------------------------------------


def test_a_done_report_completes_the_task_and_the_process(approved: Plan, coordinator: User, teacher: User) -> None:
    school = actions_of(approved)[0]
    task = action_task(school)
    action_report(action=school, by=teacher, text=REPORT_TEXT, completes=True)
    task.refresh_from_db()
    assert task.status == STATUS.DONE
    assert task.owner_id == teacher.pk
    assert Deadline.objects.get(task=task).done_at is not None
    assert process_of(school).status == PROCESS.DONE
    assert selectors.my_tasks(user=teacher).rows == []
    assert Notification.objects.filter(recipient=coordinator, kind=Kind.ACTION_REPORTED).count() == 1


def test_a_progress_report_leaves_the_task_open(approved: Plan, teacher: User) -> None:
    school = actions_of(approved)[0]
    task = action_task(school)
    action_report(action=school, by=teacher, text=REPORT_TEXT)
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED
    assert Deadline.objects.get(task=task).done_at is None
    assert process_of(school).status == PROCESS.NEW
    assert [r.task_id for r in selectors.my_tasks(user=teacher).rows] == [task.pk]


def test_a_members_done_report_completes_the_organisations_queue_task(
    approved: Plan, sas_worker: User, sas_colleague: User
) -> None:
    service = actions_of(approved)[2]
    task = action_task(service)
    assert task.owner_id is None
    action_report(action=service, by=sas_colleague, text=REPORT_TEXT, completes=True)
    task.refresh_from_db()
    assert task.status == STATUS.DONE
    assert task.owner_id == sas_colleague.pk  # taken for the reporter first
    assert Deadline.objects.get(task=task).done_at is not None
    assert process_of(service).status == PROCESS.DONE
    assert selectors.team_queue(user=sas_worker).rows == []
    service.refresh_from_db()
    assert service.status == ActionStatus.DONE


def test_a_done_report_on_a_task_a_colleague_took_completes_it_for_the_reporter(
    approved: Plan, sas_worker: User, sas_colleague: User
) -> None:
    service = actions_of(approved)[2]
    task = action_task(service)
    tasks.task_claim(task=task, user=sas_worker)
    task.refresh_from_db()
    assert task.owner_id == sas_worker.pk
    assert Deadline.objects.get(task=task).owner_id == sas_worker.pk
    action_report(action=service, by=sas_colleague, text=REPORT_TEXT, completes=True)
    task.refresh_from_db()
    assert task.status == STATUS.DONE
    assert task.owner_id == sas_colleague.pk
    assert process_of(service).status == PROCESS.DONE


# --- The next version -------------------------------------------------------------------------------------------


def test_the_next_version_replaces_the_previous_versions_tasks(
    case: Case,
    approved: Plan,
    coordinator: User,
    teacher: User,
    doctor: User,
    sas_worker: User,
    second_supervisor: User,
) -> None:
    school, medical, service = actions_of(approved)
    action_report(action=school, by=teacher, text=REPORT_TEXT, completes=True)
    old_tasks = {a.pk: action_task(a) for a in (school, medical, service)}

    review = one_task(case, CaseFlow.review)
    tasks.task_complete(task=review, user=coordinator, work=lambda: None, purpose="review plan")
    reassess_unchanged(case, coordinator)  # the assessment is updated first (DOMAIN.md, step 9)
    draft = plan_services.plan_in_work(case)
    assert draft is not None
    assert draft.version == 2
    # Until the new version is approved, the current one's tasks stay in the inboxes.
    for action in (medical, service):
        old_tasks[action.pk].refresh_from_db()
        assert old_tasks[action.pk].status in (STATUS.ASSIGNED, STATUS.NEW)

    second = submit_with(case, coordinator, one_task(case, CaseFlow.draft_plan), None)
    decide(case, second_supervisor)
    second.refresh_from_db()
    assert second.status == PlanStatus.CURRENT

    # The previous version's open tasks are cancelled with their deadlines; the done one stays done.
    for action in (medical, service):
        task = old_tasks[action.pk]
        task.refresh_from_db()
        assert task.status == STATUS.CANCELED
        assert Deadline.objects.get(task=task).done_at is not None
        assert process_of(action).status == PROCESS.CANCELED
    old_tasks[school.pk].refresh_from_db()
    assert old_tasks[school.pk].status == STATUS.DONE

    # The carried actions have new tasks, in the same inboxes.
    carried = actions_of(second)
    assert [a.carried_from_id for a in carried] == [medical.pk, service.pk]
    new_medical, new_service = (action_task(a) for a in carried)
    assert (new_medical.owner_id, new_medical.status) == (doctor.pk, STATUS.ASSIGNED)
    assert (new_service.owner_id, new_service.status) == (None, STATUS.NEW)
    assert Deadline.objects.get(task=new_medical).due_at == working_deadline(medical.due_on)
    assert [r.task_id for r in selectors.my_tasks(user=doctor).rows] == [new_medical.pk]
    assert [r.task_id for r in selectors.team_queue(user=sas_worker).rows] == [new_service.pk]
    assert selectors.my_tasks(user=teacher).rows == []
    assert ActionProcess.objects.filter(status=PROCESS.NEW).count() == 2


def test_closing_the_case_cancels_the_action_tasks(
    case: Case, approved: Plan, coordinator: User, teacher: User, doctor: User, sas_worker: User
) -> None:
    action_tasks = [action_task(a) for a in actions_of(approved)]
    case_close(case=case, closed_by=coordinator, reason=CloseReason.GOALS_MET)
    for task in action_tasks:
        task.refresh_from_db()
        assert task.status == STATUS.CANCELED
        assert Deadline.objects.get(task=task).done_at is not None
    assert not ActionProcess.objects.filter(status=PROCESS.NEW).exists()
    assert selectors.my_tasks(user=teacher).rows == []
    assert selectors.my_tasks(user=doctor).rows == []
    assert selectors.team_queue(user=sas_worker).rows == []


# --- A member leaves the team --------------------------------------------------------------------------------------


def end(case: Case, member: User, coordinator: User) -> None:
    membership = TeamMembership.objects.current().get(case=case, user=member)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.CHANGED_JOB)


def test_an_owner_who_leaves_loses_the_task_and_the_action_waits_for_a_new_owner(
    case: Case, approved: Plan, coordinator: User, teacher: User, doctor: User
) -> None:
    school, medical, _service = actions_of(approved)
    school_task, medical_task = action_task(school), action_task(medical)
    assert ownerless_actions(case) == 0
    end(case, teacher, coordinator)
    school_task.refresh_from_db()
    assert school_task.status == STATUS.CANCELED
    assert Deadline.objects.get(task=school_task).done_at is not None
    assert process_of(school).status == PROCESS.CANCELED
    assert selectors.my_tasks(user=teacher).rows == []
    # The action itself stays open in the approved plan; the others are untouched.
    school.refresh_from_db()
    assert school.status == ActionStatus.OPEN
    medical_task.refresh_from_db()
    assert (medical_task.owner_id, medical_task.status) == (doctor.pk, STATUS.ASSIGNED)
    assert ownerless_actions(case) == 1


def test_the_coordinator_ending_the_membership_is_told_the_action_needs_a_new_owner(
    case: Case, approved: Plan, coordinator: User, teacher: User
) -> None:
    membership = TeamMembership.objects.current().get(case=case, user=teacher)
    url = reverse("team_member_end", kwargs={"case_id": case.pk, "membership_id": membership.pk})
    response = client_for(coordinator).post(
        url, {"reason": MembershipEndReason.CHANGED_JOB, "confirm": "on"}, follow=True
    )
    assert response.redirect_chain[-1][1] == 302
    with translation.override("cs"):
        expected = ngettext(
            "%(count)d open action of the current plan has no owner on the team any more: give it a new "
            "owner in the plan's next version.",
            "%(count)d open actions of the current plan have no owner on the team any more: give them "
            "a new owner in the plan's next version.",
            1,
        ) % {"count": 1}
    assert [str(m) for m in response.context["messages"]][-1] == expected


def test_an_organisations_action_goes_back_to_the_queue_then_away_with_its_last_member(
    case: Case, approved: Plan, coordinator: User, sas_worker: User, sas_colleague: User
) -> None:
    service = actions_of(approved)[2]
    task = action_task(service)
    tasks.task_claim(task=task, user=sas_worker)
    end(case, sas_worker, coordinator)
    task.refresh_from_db()
    # The colleague still on the team finds it in the queue again, with its deadline the organisation's.
    assert (task.owner_id, task.status) == (None, STATUS.NEW)
    deadline = Deadline.objects.get(task=task)
    assert (deadline.owner_id, deadline.owner_organisation_id, deadline.done_at) == (
        None,
        service.owner_organisation_id,
        None,
    )
    assert [r.task_id for r in selectors.team_queue(user=sas_colleague).rows] == [task.pk]
    assert ownerless_actions(case) == 0
    # The organisation's last member leaves: nobody on the team can do it any more.
    end(case, sas_colleague, coordinator)
    task.refresh_from_db()
    assert task.status == STATUS.CANCELED
    assert Deadline.objects.get(task=task).done_at is not None
    assert ownerless_actions(case) == 1


# --- Overdue actions escalate ------------------------------------------------------------------------------------


def at(day: str, time: str = "08:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day} {time}").replace(tzinfo=PRAGUE)


Notice = tuple[str, str, bool]  # recipient's username, kind, urgent


def test_an_overdue_action_warns_its_owner_then_escalates_per_the_authoritys_grace(
    time_machine: time_machine.TimeMachineFixture,
    olomouc: Municipality,
    coordinator: User,
    teacher: User,
    supervisor: User,
    second_supervisor: User,
) -> None:
    # Tuesday 1 December 2026; the action is due on Thursday 10 December. Olomouc warns 2 days before and allows
    # 3 days' grace: the coordinator on the 14th, the supervisors on the 17th.
    time_machine.move_to(at("2026-12-01", "09:00"), tick=False)
    AuthoritySettings.objects.create(municipality=olomouc, due_soon_days=2, escalation_grace_days=3)
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    plan = approve_first(
        case,
        coordinator,
        teacher,
        supervisor,
        [ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=datetime.date(2026, 12, 10))],
    )
    deadline = Deadline.objects.get(task=action_task(actions_of(plan)[0]))
    assert deadline.due_at == working_deadline(datetime.date(2026, 12, 10))

    def run(moment: datetime.datetime) -> list[Notice]:
        time_machine.move_to(moment, tick=False)
        before = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
        call_command("check_deadlines", stdout=io.StringIO())
        sent = Notification.objects.filter(id__gt=before).order_by("id")
        # Only this deadline speaks up (the review is months away), by id and reference only.
        assert {(n.object_type, n.object_id, n.case_reference) for n in sent} <= {
            ("workflows.deadline", str(deadline.pk), case.reference)
        }
        return list(sent.values_list("recipient__username", "kind", "urgent"))

    assert run(at("2026-12-07")) == []
    assert run(at("2026-12-09", "00:01")) == [("ucitelka", Kind.TASK_DUE_SOON, False)]
    assert run(at("2026-12-10", "23:59")) == []
    assert run(at("2026-12-11", "00:00")) == [("ucitelka", Kind.TASK_OVERDUE, False)]
    assert run(at("2026-12-13", "23:59")) == []  # within the 3 days' grace
    assert run(at("2026-12-14", "00:00")) == [("koord", Kind.ESCALATION, True)]
    assert run(at("2026-12-16", "23:59")) == []
    assert run(at("2026-12-17", "00:00")) == [("vedouci", Kind.ESCALATION, True), ("vedouci2", Kind.ESCALATION, True)]
    assert run(at("2027-01-31")) == []


def test_a_done_action_no_longer_escalates(
    time_machine: time_machine.TimeMachineFixture, coordinator: User, teacher: User, supervisor: User
) -> None:
    time_machine.move_to(at("2026-12-01", "09:00"), tick=False)
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    plan = approve_first(
        case,
        coordinator,
        teacher,
        supervisor,
        [ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=datetime.date(2026, 12, 10))],
    )
    action = actions_of(plan)[0]
    deadline = Deadline.objects.get(task=action_task(action))
    time_machine.move_to(at("2026-12-11", "09:00"), tick=False)
    call_command("check_deadlines", stdout=io.StringIO())
    assert Notification.objects.filter(object_id=str(deadline.pk), kind=Kind.TASK_OVERDUE).count() == 1
    action_report(action=action, by=teacher, text=REPORT_TEXT, completes=True)
    time_machine.move_to(at("2026-12-31"), tick=False)
    call_command("check_deadlines", stdout=io.StringIO())
    assert not Notification.objects.filter(object_id=str(deadline.pk), kind=Kind.ESCALATION).exists()


def test_an_overdue_organisation_action_warns_its_members_then_the_coordinator(
    time_machine: time_machine.TimeMachineFixture,
    coordinator: User,
    teacher: User,
    supervisor: User,
    sas: Organisation,
    sas_worker: User,
    sas_colleague: User,
) -> None:
    time_machine.move_to(at("2026-12-01", "09:00"), tick=False)
    case = open_case(coordinator=coordinator)
    for member in (teacher, sas_worker, sas_colleague):
        add_member(case, member, coordinator)
    approve_first(
        case,
        coordinator,
        teacher,
        supervisor,
        [ActionInput(what=SAS_ACTION, owner_organisation_id=sas.pk, due_on=datetime.date(2026, 12, 10))],
    )
    time_machine.move_to(at("2026-12-11", "00:01"), tick=False)
    call_command("check_deadlines", stdout=io.StringIO())
    overdue = Notification.objects.filter(kind=Kind.TASK_OVERDUE)
    assert set(overdue.values_list("recipient_id", flat=True)) == {sas_worker.pk, sas_colleague.pk}
    time_machine.move_to(at("2026-12-13", "00:01"), tick=False)
    call_command("check_deadlines", stdout=io.StringIO())
    assert list(Notification.objects.filter(kind=Kind.ESCALATION).values_list("recipient_id", flat=True)) == [
        coordinator.pk
    ]
