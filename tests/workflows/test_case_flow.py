"""The case flow's first stage: requesting inputs from team members in parallel, the inputs, the join, the
assessment and the plan task (workflows.flows.CaseFlow; docs/adr/0007-case-flow-assessment.md).

Every name and text is fictional.
"""

from __future__ import annotations

import datetime
import threading
from functools import partial
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.models import (
    Assessment,
    AssessmentInput,
    Case,
    CloseReason,
    CoordinatorAssignment,
    HandoverReason,
    InputStatus,
    MembershipEndReason,
    Organisation,
    TeamMembership,
    User,
)
from casework.services import assessments as assessment_services
from casework.services import case_close, coordinator_handover, team_member_end
from casework.services.assessments import InputRequest, assessment_input_provide, assessment_inputs_request
from notifications.models import Kind as NotificationKind
from notifications.models import Notification
from permissions.models import AuditEvent
from tests.factories.cases import add_member, health_partner, open_case, ospod_staff
from tests.scan import find_in_database
from workflows import selectors, tasks
from workflows.deadlines import ipod_due
from workflows.flows import CaseFlow
from workflows.models import Deadline, DeadlineKind
from workflows.processes import CaseProcess
from workflows.services import tasks as task_services

from .conftest import client_for, field_errors, html

TEACHER_INPUT = "Žák chodí pozdě, v hodinách usíná; zkušební vstup školy 7731."
DOCTOR_INPUT = "Při prohlídce podváha; zkušební vstup lékaře 8842."
NEEDS = "Pravidelná strava a dohled nad docházkou; zkušební potřeby 5511."
CAPACITY = "Matka se snaží, otec pracuje v zahraničí; zkušební schopnosti 5512."
ENVIRONMENT = "Malý byt, babička pomáhá; zkušební prostředí 5513."
VIEWS = "Chce zůstat doma a chodit na florbal; zkušební přání 5514."


# --- Helpers ------------------------------------------------------------------------------------------------------


def flow_tasks(case: Case, node: Any, *, open_only: bool = False) -> list[Any]:
    found = Task.objects.filter(process__caseprocess__case=case, flow_task=node).order_by("id")
    if open_only:
        found = found.filter(status__in=tasks.OPEN_STATUSES)
    return list(found)


def one_task(case: Case, node: Any) -> Any:
    found = flow_tasks(case, node, open_only=True)
    assert len(found) == 1, found
    return found[0]


def request(case: Case, coordinator: User, members: list[User], *, days: int = 14) -> None:
    task = one_task(case, CaseFlow.request_inputs)
    due = timezone.localdate() + datetime.timedelta(days=days)
    tasks.task_complete(
        task=task,
        user=coordinator,
        work=lambda: assessment_inputs_request(
            case=case, by=coordinator, requests=[InputRequest(member=m, due_on=due) for m in members]
        ),
        purpose="request assessment inputs",
    )


def _provide_as(task: Any, who: User) -> Any:
    return assessment_input_provide(assessment_input=CaseFlow.input_of(task), by=who, text="cizí vstup")


def input_task(case: Case, member: User) -> Any:
    return Task.objects.get(
        process__caseprocess__case=case, flow_task=CaseFlow.provide_input, owner=member, status__in=tasks.OPEN_STATUSES
    )


def provide(case: Case, member: User, text: str) -> None:
    task = input_task(case, member)
    tasks.task_complete(
        task=task,
        user=member,
        work=lambda: assessment_input_provide(assessment_input=CaseFlow.input_of(task), by=member, text=text),
        purpose="provide assessment input",
    )


@pytest.fixture
def doctor(olomouc: Any) -> User:
    return health_partner(municipality=olomouc)


@pytest.fixture
def case(coordinator: User, teacher: User, doctor: User) -> Case:
    opened = open_case(coordinator=coordinator)
    add_member(opened, teacher, coordinator)
    add_member(opened, doctor, coordinator)
    return opened


# --- The flow -----------------------------------------------------------------------------------------------------


def test_the_flow_starts_when_the_case_opens(case: Case, coordinator: User) -> None:
    assert CaseProcess.objects.filter(case=case).count() == 1
    task = one_task(case, CaseFlow.request_inputs)
    assert task.owner_id == coordinator.pk
    assert task.status == STATUS.ASSIGNED
    assert [row.task_id for row in selectors.my_tasks(user=coordinator).rows] == [task.pk]


def test_parallel_inputs_join_once_and_the_assessment_follows(
    case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    request(case, coordinator, [teacher, doctor])
    for member in (teacher, doctor):
        rows = selectors.my_tasks(user=member).rows
        assert len(rows) == 1
        assert rows[0].task_type == "input"
        assert rows[0].due_at is not None
        assert rows[0].case_reference == case.reference
    deadlines = Deadline.objects.filter(kind=DeadlineKind.INPUT, case=case)
    assert {d.owner_id for d in deadlines} == {teacher.pk, doctor.pk}

    provide(case, teacher, TEACHER_INPUT)
    assert flow_tasks(case, CaseFlow.write_assessment) == []
    provide(case, doctor, DOCTOR_INPUT)

    joins = flow_tasks(case, CaseFlow.join_inputs)
    assert len(joins) == 1
    assert joins[0].status == STATUS.DONE
    write = one_task(case, CaseFlow.write_assessment)
    assert write.owner_id == coordinator.pk
    assert set(AssessmentInput.objects.filter(case=case).values_list("status", flat=True)) == {InputStatus.PROVIDED}
    assert not Deadline.objects.open().filter(kind=DeadlineKind.INPUT).exists()


def test_the_assessment_then_the_plan_task_due_one_month_after_opening(
    case: Case, coordinator: User, teacher: User
) -> None:
    request(case, coordinator, [teacher])
    provide(case, teacher, TEACHER_INPUT)
    task = one_task(case, CaseFlow.write_assessment)
    tasks.task_complete(
        task=task,
        user=coordinator,
        work=lambda: assessment_services.assessment_write(
            case=case,
            by=coordinator,
            child_needs=NEEDS,
            parenting_capacity=CAPACITY,
            family_environment=ENVIRONMENT,
            child_views=VIEWS,
        ),
        purpose="write assessment",
    )
    assert Assessment.objects.filter(case=case).count() == 1
    plan = one_task(case, CaseFlow.draft_plan)
    assert plan.owner_id == coordinator.pk
    deadline = Deadline.objects.get(task=plan)
    assert deadline.kind == DeadlineKind.PLAN
    assert deadline.due_at == ipod_due(case.opened_at)


def test_someone_else_cannot_complete_a_members_input(
    case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    request(case, coordinator, [teacher, doctor])
    task = input_task(case, teacher)
    denials = AuditEvent.objects.filter(outcome="denied", object_type="viewflow.task", object_id=str(task.pk))
    for intruder in (doctor, coordinator):
        with pytest.raises(PermissionDenied):
            tasks.task_complete(
                task=task,
                user=intruder,
                work=partial(_provide_as, task, intruder),
                purpose="provide assessment input",
            )
    assert denials.count() == 2
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED
    assert task.owner_id == teacher.pk
    assert AssessmentInput.objects.get(pk=task.data["input"]).status == InputStatus.REQUESTED


def test_the_input_page_refuses_another_member(case: Case, coordinator: User, teacher: User, doctor: User) -> None:
    request(case, coordinator, [teacher, doctor])
    task = input_task(case, teacher)
    response = client_for(doctor).post(f"/inbox/tasks/{task.pk}/", {"text": "cizí vstup"})
    assert response.status_code == 404
    assert AuditEvent.objects.filter(outcome="denied", object_id=str(task.pk)).exists()
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED


def test_ending_a_membership_cancels_the_input_and_the_join_still_fires(
    case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    request(case, coordinator, [teacher, doctor])
    provide(case, teacher, TEACHER_INPUT)
    membership = TeamMembership.objects.get(case=case, user=doctor, ended_at__isnull=True)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.CHILD_LEFT)

    cancelled = flow_tasks(case, CaseFlow.provide_input)
    assert sorted(t.status for t in cancelled) == sorted([STATUS.DONE, STATUS.CANCELED])
    assert AssessmentInput.objects.get(case=case, member=doctor).status == InputStatus.WITHDRAWN
    assert not Deadline.objects.open().filter(kind=DeadlineKind.INPUT).exists()
    assert len(flow_tasks(case, CaseFlow.join_inputs)) == 1
    one_task(case, CaseFlow.write_assessment)


def test_the_join_fires_when_every_input_was_cancelled(case: Case, coordinator: User, teacher: User) -> None:
    request(case, coordinator, [teacher])
    membership = TeamMembership.objects.get(case=case, user=teacher, ended_at__isnull=True)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.CHANGED_JOB)
    one_task(case, CaseFlow.write_assessment)


def test_ending_a_membership_first_keeps_the_join_waiting_for_the_others(
    case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    request(case, coordinator, [teacher, doctor])
    membership = TeamMembership.objects.get(case=case, user=teacher, ended_at__isnull=True)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.CHANGED_JOB)
    assert flow_tasks(case, CaseFlow.write_assessment) == []
    provide(case, doctor, DOCTOR_INPUT)
    assert len(flow_tasks(case, CaseFlow.join_inputs)) == 1
    one_task(case, CaseFlow.write_assessment)


def test_closing_the_case_cancels_its_open_tasks(case: Case, coordinator: User, teacher: User, doctor: User) -> None:
    request(case, coordinator, [teacher, doctor])
    provide(case, teacher, TEACHER_INPUT)
    case_close(case=case, closed_by=coordinator, reason=CloseReason.NOT_AT_RISK)
    assert flow_tasks(case, CaseFlow.provide_input, open_only=True) == []
    assert flow_tasks(case, CaseFlow.write_assessment) == []
    assert not Deadline.objects.open().filter(case=case).exists()
    assert AssessmentInput.objects.get(case=case, member=doctor).status == InputStatus.WITHDRAWN
    assert CaseProcess.objects.get(case=case).status == "CANCELED"
    assert selectors.my_tasks(user=doctor).rows == []


# --- Bad input and failures ---------------------------------------------------------------------------------------


def test_a_request_due_in_the_past_or_for_a_non_member_is_refused(
    case: Case, coordinator: User, teacher: User, ospod: Organisation
) -> None:
    outsider = health_partner()
    for members, days in (([teacher], -1), ([outsider], 14), ([], 14)):
        with pytest.raises(ValidationError):
            request(case, coordinator, members, days=days)
    assert not AssessmentInput.objects.exists()
    assert one_task(case, CaseFlow.request_inputs).status == STATUS.ASSIGNED


def test_a_failing_step_rolls_back_whole(
    case: Case, coordinator: User, teacher: User, doctor: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    request(case, coordinator, [teacher, doctor])
    provide(case, teacher, TEACHER_INPUT)

    def broken_provide(**kwargs: Any) -> Any:
        assessment_input_provide(**kwargs)
        raise RuntimeError("disk full")

    task = input_task(case, doctor)
    before = (
        Task.objects.count(),
        Deadline.objects.open().count(),
        AssessmentInput.objects.filter(status=InputStatus.PROVIDED).count(),
    )
    with pytest.raises(RuntimeError):
        tasks.task_complete(
            task=task,
            user=doctor,
            work=lambda: broken_provide(assessment_input=CaseFlow.input_of(task), by=doctor, text=DOCTOR_INPUT),
            purpose="provide assessment input",
        )
    after = (
        Task.objects.count(),
        Deadline.objects.open().count(),
        AssessmentInput.objects.filter(status=InputStatus.PROVIDED).count(),
    )
    assert after == before
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED


def test_a_failing_node_after_the_join_rolls_the_input_back(
    case: Case, coordinator: User, teacher: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    request(case, coordinator, [teacher])

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("notifications down")

    monkeypatch.setattr(task_services, "notify_many", broken)  # the assessment task opening after the join
    with pytest.raises(RuntimeError):
        provide(case, teacher, TEACHER_INPUT)
    assert AssessmentInput.objects.get(case=case, member=teacher).status == InputStatus.REQUESTED
    assert flow_tasks(case, CaseFlow.join_inputs) == []
    assert input_task(case, teacher).status == STATUS.ASSIGNED


def test_a_failing_flow_start_leaves_no_case(coordinator: User, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("engine down")

    monkeypatch.setattr(CaseFlow, "start_process", broken)
    with pytest.raises(RuntimeError):
        open_case(coordinator=coordinator)
    assert not Case.objects.exists()
    assert not CaseProcess.objects.exists()


# --- Sealing and reading -----------------------------------------------------------------------------------------


def test_inputs_and_the_assessment_are_sealed_at_rest(
    case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    request(case, coordinator, [teacher, doctor])
    provide(case, teacher, TEACHER_INPUT)
    provide(case, doctor, DOCTOR_INPUT)
    task = one_task(case, CaseFlow.write_assessment)
    tasks.task_complete(
        task=task,
        user=coordinator,
        work=lambda: assessment_services.assessment_write(
            case=case,
            by=coordinator,
            child_needs=NEEDS,
            parenting_capacity=CAPACITY,
            family_environment=ENVIRONMENT,
            child_views=VIEWS,
        ),
        purpose="write assessment",
    )
    assert (
        find_in_database(
            ["vstup školy 7731", "vstup lékaře 8842", "potřeby 5511", "schopnosti 5512", "prostředí 5513", "přání 5514"]
        )
        == []
    )
    compartments = dict(AssessmentInput.objects.filter(case=case).values_list("member_id", "compartment"))
    assert compartments == {teacher.pk: "school", doctor.pk: "health"}


def test_an_ospod_members_input_goes_to_the_social_compartment(
    case: Case, coordinator: User, ospod: Organisation
) -> None:
    worker = ospod_staff(ospod)
    add_member(case, worker, coordinator)
    request(case, coordinator, [worker])
    assert AssessmentInput.objects.get(case=case, member=worker).compartment == "social"


# --- The pages ----------------------------------------------------------------------------------------------------


def test_the_whole_stage_through_the_pages(case: Case, coordinator: User, teacher: User, doctor: User) -> None:
    lead = client_for(coordinator)
    task = one_task(case, CaseFlow.request_inputs)
    page = lead.get(f"/inbox/tasks/{task.pk}/")
    assert page.status_code == 200
    due = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    refused = lead.post(
        f"/inbox/tasks/{task.pk}/",
        {f"member_{teacher.pk}": "on", f"due_{teacher.pk}": past},
    )
    assert refused.status_code == 200
    assert field_errors(html(refused))
    response = lead.post(
        f"/inbox/tasks/{task.pk}/",
        {
            f"member_{teacher.pk}": "on",
            f"due_{teacher.pk}": due,
            f"member_{doctor.pk}": "on",
            f"due_{doctor.pk}": due,
        },
    )
    assert response.status_code == 302

    for member, text in ((teacher, TEACHER_INPUT), (doctor, DOCTOR_INPUT)):
        client = client_for(member)
        inbox = html(client.get("/inbox/"))
        mine = input_task(case, member)
        assert f"/inbox/tasks/{mine.pk}/" in inbox
        assert client.get(f"/inbox/tasks/{mine.pk}/").status_code == 200
        assert client.post(f"/inbox/tasks/{mine.pk}/", {"text": text}).status_code == 302

    write = one_task(case, CaseFlow.write_assessment)
    text = html(lead.get(f"/inbox/tasks/{write.pk}/"))
    assert TEACHER_INPUT in text
    assert DOCTOR_INPUT in text
    response = lead.post(
        f"/inbox/tasks/{write.pk}/",
        {
            "child_needs": NEEDS,
            "parenting_capacity": CAPACITY,
            "family_environment": ENVIRONMENT,
            "child_views": VIEWS,
        },
    )
    assert response.status_code == 302
    plan = one_task(case, CaseFlow.draft_plan)
    text = html(lead.get(f"/inbox/tasks/{plan.pk}/"))
    assert "issue 8" not in text  # the page speaks to users, not to developers
    # An empty plan cannot be submitted: field errors on the page, the task stays with the coordinator.
    refused = lead.post(f"/inbox/tasks/{plan.pk}/", {"submit": "1"})
    assert refused.status_code == 200
    assert field_errors(html(refused))
    plan.refresh_from_db()
    assert plan.status == STATUS.ASSIGNED


# --- PostgreSQL: two members complete at the same moment ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_members_completing_at_once_fire_the_join_exactly_once(
    case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    request(case, coordinator, [teacher, doctor])
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def complete(member: User, text: str) -> None:
        try:
            task = input_task(case, member)
            item = CaseFlow.input_of(task)
            start.wait()
            tasks.task_complete(
                task=task,
                user=member,
                work=lambda: assessment_input_provide(assessment_input=item, by=member, text=text),
                purpose="provide assessment input",
            )
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=complete, args=(teacher, TEACHER_INPUT)),
        threading.Thread(target=complete, args=(doctor, DOCTOR_INPUT)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    joins = flow_tasks(case, CaseFlow.join_inputs)
    assert len(joins) == 1
    assert joins[0].status == STATUS.DONE
    assert len(flow_tasks(case, CaseFlow.write_assessment)) == 1


# --- Handover ------------------------------------------------------------------------------------------------------


def _write_assessment(case: Case, coordinator: User) -> None:
    tasks.task_complete(
        task=one_task(case, CaseFlow.write_assessment),
        user=coordinator,
        work=lambda: assessment_services.assessment_write(
            case=case,
            by=coordinator,
            child_needs=NEEDS,
            parenting_capacity=CAPACITY,
            family_environment=ENVIRONMENT,
            child_views=VIEWS,
        ),
        purpose="write assessment",
    )


def test_a_handover_moves_the_coordinators_open_tasks(
    case: Case, coordinator: User, teacher: User, supervisor: User, ospod: Organisation
) -> None:
    successor = ospod_staff(ospod)
    task = one_task(case, CaseFlow.request_inputs)
    coordinator_handover(case=case, to=successor, by=supervisor, reason=HandoverReason.WORKLOAD)

    task.refresh_from_db()
    assert task.owner_id == successor.pk
    assert task.status == STATUS.ASSIGNED
    assert selectors.my_tasks(user=coordinator).rows == []
    assert [row.task_id for row in selectors.my_tasks(user=successor).rows] == [task.pk]
    assert Notification.objects.filter(
        recipient=successor, kind=NotificationKind.TASK_ASSIGNED, object_type="viewflow.task", object_id=str(task.pk)
    ).exists()
    # The new coordinator works on it; the flow goes on as before.
    request(case, successor, [teacher])
    assert input_task(case, teacher).owner_id == teacher.pk


def test_a_handover_moves_the_plan_task_with_its_deadline(
    case: Case, coordinator: User, teacher: User, supervisor: User, ospod: Organisation
) -> None:
    request(case, coordinator, [teacher])
    provide(case, teacher, TEACHER_INPUT)
    _write_assessment(case, coordinator)
    plan = one_task(case, CaseFlow.draft_plan)
    Deadline.objects.filter(task=plan).update(due_soon_notified_at=timezone.now())
    successor = ospod_staff(ospod)

    coordinator_handover(case=case, to=successor, by=supervisor, reason=HandoverReason.ABSENCE)

    plan.refresh_from_db()
    assert plan.owner_id == successor.pk
    deadline = Deadline.objects.get(task=plan)
    assert deadline.owner_id == successor.pk
    assert deadline.done_at is None
    assert deadline.due_soon_notified_at is None  # the new owner is warned again
    assert selectors.my_tasks(user=coordinator).rows == []
    rows = selectors.my_tasks(user=successor).rows
    assert [(row.task_id, row.due_at) for row in rows] == [(plan.pk, deadline.due_at)]


def test_a_handover_leaves_the_members_inputs_alone(
    case: Case, coordinator: User, teacher: User, doctor: User, supervisor: User, ospod: Organisation
) -> None:
    request(case, coordinator, [teacher, doctor])
    successor = ospod_staff(ospod)
    coordinator_handover(case=case, to=successor, by=supervisor, reason=HandoverReason.WORKLOAD)
    assert input_task(case, teacher).owner_id == teacher.pk
    assert Deadline.objects.get(task=input_task(case, doctor)).owner_id == doctor.pk


def test_a_failing_task_move_rolls_the_handover_back(
    case: Case, coordinator: User, supervisor: User, ospod: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("notifications down")

    monkeypatch.setattr("workflows.flows.case.notify", broken)
    successor = ospod_staff(ospod)
    task = one_task(case, CaseFlow.request_inputs)
    with pytest.raises(RuntimeError):
        coordinator_handover(case=case, to=successor, by=supervisor, reason=HandoverReason.WORKLOAD)
    assert Case.objects.get(pk=case.pk).coordinator_id == coordinator.pk
    assert CoordinatorAssignment.objects.filter(case=case).count() == 1
    task.refresh_from_db()
    assert task.owner_id == coordinator.pk
    assert [row.task_id for row in selectors.my_tasks(user=coordinator).rows] == [task.pk]
    assert selectors.my_tasks(user=successor).rows == []
