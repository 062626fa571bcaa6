"""The plan stage of the case flow: draft → submit → a supervisor's approval (four eyes) → review every few months →
the next version; and the closure's approval (``ClosureFlow``). Fictional data only."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.models import (
    Case,
    ClosureRequest,
    ClosureStatus,
    Plan,
    PlanGoal,
    PlanStatus,
    Role,
    TeamMembership,
    User,
)
from casework.services import plans as plan_services
from casework.services.assessments import assessment_reassess, assessment_write
from casework.services.lifecycle import closure_request, closure_withdraw
from notifications.models import Kind as NotificationKind
from notifications.models import Notification
from permissions import gate
from permissions.models import AuditEvent
from tests.factories.cases import ospod_staff
from workflows import selectors, tasks
from workflows.deadlines import ipod_due, working_deadline
from workflows.flows import CaseFlow, ClosureFlow
from workflows.models import Deadline, DeadlineKind
from workflows.services import tasks as task_services

from . import test_case_flow as flow_tests
from .conftest import client_for, field_errors, html
from .test_case_flow import one_task, provide, request

# The case flow's fixtures: a case with a teacher and a doctor on the team.
case = flow_tests.case
doctor = flow_tests.doctor

GOAL = "Vít chodí do školy každý den; zkušební cíl 6601."
CHILD_VIEWS = "Chce bydlet doma a mít klid na úkoly; zkušební názor 6602."


@pytest.fixture
def second_supervisor(ospod: Any) -> User:
    return ospod_staff(ospod, role=Role.SUPERVISOR, username="vedouci2")


def to_plan_stage(case: Case, coordinator: User, teacher: User) -> Any:
    request(case, coordinator, [teacher])
    provide(case, teacher, "vstup školy")
    write = one_task(case, CaseFlow.write_assessment)
    tasks.task_complete(
        task=write,
        user=coordinator,
        work=lambda: assessment_write(
            case=case,
            by=coordinator,
            child_needs="potřeby",
            parenting_capacity="schopnosti",
            family_environment="prostředí",
            child_views="přání",
        ),
        purpose="write assessment",
    )
    return one_task(case, CaseFlow.draft_plan)


def reassess_unchanged(case: Case, coordinator: User) -> None:
    """After a review: nobody asked for an input, the re-assessment records "no change" with its reason."""
    request(case, coordinator, [])
    tasks.task_complete(
        task=one_task(case, CaseFlow.reassess),
        user=coordinator,
        work=lambda: assessment_reassess(
            case=case, by=coordinator, unchanged=True, unchanged_reason="Situace beze změny."
        ),
        purpose="re-assess",
    )


def fill(plan: Plan, by: User) -> None:
    plan_services.plan_save(
        plan=plan,
        by=by,
        goals=[GOAL, "Rodina spolupracuje se SAS."],
        support_offered="SAS dvakrát týdně",
        child_views=CHILD_VIEWS,
        parents_views="Matka souhlasí.",
        next_review_on=None,
    )


def submit(case: Case, coordinator: User, task: Any) -> Plan:
    plan = plan_services.plan_in_work(case)
    assert plan is not None
    fill(plan, coordinator)
    tasks.task_complete(
        task=task, user=coordinator, work=lambda: plan_services.plan_submit(plan=plan, by=coordinator), purpose="submit"
    )
    plan.refresh_from_db()
    return plan


def decide(case: Case, supervisor: User, *, approve: bool = True) -> Any:
    task = one_task(case, CaseFlow.approve_plan)
    tasks.task_claim(task=task, user=supervisor)
    plan = plan_services.plan_in_work(case)
    assert plan is not None

    def work() -> Plan:
        if approve:
            return plan_services.plan_approve(plan=plan, by=supervisor, next_review_on=datetime.date(2027, 3, 1))
        return plan_services.plan_return(plan=plan, by=supervisor, comment="Doplňte názor otce.")

    tasks.task_complete(task=task, user=supervisor, work=work, purpose="decide plan")
    return task


def test_the_draft_task_holds_a_draft_due_one_month_after_opening(case: Case, coordinator: User, teacher: User) -> None:
    task = to_plan_stage(case, coordinator, teacher)
    plan = plan_services.plan_in_work(case)
    assert plan is not None
    assert plan.version == 1
    assert plan.status == PlanStatus.DRAFT
    assert Deadline.objects.get(task=task).due_at == ipod_due(case.opened_at)


def test_an_empty_plan_cannot_be_submitted(case: Case, coordinator: User, teacher: User) -> None:
    to_plan_stage(case, coordinator, teacher)
    plan = plan_services.plan_in_work(case)
    assert plan is not None
    with pytest.raises(ValidationError) as caught:
        plan_services.plan_submit(plan=plan, by=coordinator)
    assert {"goals", "child_views"} <= set(caught.value.message_dict)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_four_eyes_the_drafter_never_approves(
    case: Case, coordinator: User, teacher: User, supervisor: User, second_supervisor: User
) -> None:
    # The supervisor drafts (covering for the coordinator) and submits: only the other supervisor may approve.
    to_plan_stage(case, coordinator, teacher)
    plan = plan_services.plan_in_work(case)
    assert plan is not None
    fill(plan, supervisor)
    plan_services.plan_submit(plan=plan, by=supervisor)
    plan.refresh_from_db()
    assert plan.drafted_by_id == supervisor.pk

    approval_count = AuditEvent.objects.filter(purpose="approve plan", outcome="denied").count()
    with pytest.raises(PermissionDenied):
        plan_services.plan_approve(plan=plan, by=supervisor, next_review_on=datetime.date(2027, 3, 1))
    with pytest.raises(PermissionDenied):
        plan_services.plan_return(plan=plan, by=supervisor, comment="x")
    with pytest.raises(PermissionDenied):  # a coordinator is no supervisor
        plan_services.plan_approve(plan=plan, by=coordinator, next_review_on=datetime.date(2027, 3, 1))
    assert AuditEvent.objects.filter(purpose="approve plan", outcome="denied").count() == approval_count + 2
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED

    plan_services.plan_approve(plan=plan, by=second_supervisor, next_review_on=datetime.date(2027, 3, 1))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CURRENT
    assert plan.approved_by_id == second_supervisor.pk


def test_the_database_refuses_an_approver_who_drafted(case: Case, coordinator: User, supervisor: User) -> None:
    plan = plan_services.plan_draft_start(case=case, by=coordinator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.filter(pk=plan.pk).update(
            status=PlanStatus.CURRENT, approved_by=coordinator, approved_at=timezone.now(), next_review_on="2027-01-01"
        )


def test_at_most_one_current_version(case: Case, coordinator: User, supervisor: User) -> None:
    first = Plan.objects.create(
        case=case,
        version=1,
        drafted_by=coordinator,
        status=PlanStatus.CURRENT,
        approved_by=supervisor,
        approved_at=timezone.now(),
        next_review_on=datetime.date(2027, 1, 1),
    )
    assert first.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.create(
            case=case,
            version=2,
            drafted_by=coordinator,
            status=PlanStatus.CURRENT,
            approved_by=supervisor,
            approved_at=timezone.now(),
            next_review_on=datetime.date(2027, 1, 1),
        )


def test_approval_queue_then_review_then_next_version(
    case: Case, coordinator: User, teacher: User, supervisor: User, second_supervisor: User
) -> None:
    task = to_plan_stage(case, coordinator, teacher)
    plan = submit(case, coordinator, task)
    assert plan.status == PlanStatus.SUBMITTED
    assert plan.drafted_by_id == coordinator.pk

    # The approval waits in the supervisors' queue (with a deadline); the coordinator has nothing to approve.
    approval = one_task(case, CaseFlow.approve_plan)
    assert approval.owner_id is None
    assert approval.pk in [row.task_id for row in selectors.team_queue(user=supervisor).rows]
    assert selectors.team_queue(user=coordinator).rows == []
    assert Deadline.objects.get(task=approval).kind == DeadlineKind.PLAN_APPROVAL
    assert Notification.objects.filter(recipient=supervisor, kind=NotificationKind.TASK_ASSIGNED).exists()

    # Returned: a draft again, a new draft task for the coordinator; the comment reaches the drafter.
    decide(case, supervisor, approve=False)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert Notification.objects.filter(recipient=coordinator, kind=NotificationKind.PLAN_RETURNED).exists()
    again = one_task(case, CaseFlow.draft_plan)
    plan = submit(case, coordinator, again)

    decide(case, second_supervisor)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CURRENT
    assert plan.approved_by_id == second_supervisor.pk
    assert Notification.objects.filter(recipient=coordinator, kind=NotificationKind.PLAN_APPROVED).exists()

    # Review: the coordinator's task, due on the plan's next review day.
    review = one_task(case, CaseFlow.review)
    assert review.owner_id == coordinator.pk
    deadline = Deadline.objects.get(task=review)
    assert deadline.kind == DeadlineKind.REVIEW
    assert deadline.due_at == working_deadline(datetime.date(2027, 3, 1))

    # The review re-assesses first (docs/adr/0015-review-reassessment-and-kept-apart.md): here "no change", with a
    # reason.
    tasks.task_complete(task=review, user=coordinator, work=lambda: None, purpose="review plan")
    assert plan_services.plan_in_work(case) is None
    reassess_unchanged(case, coordinator)
    # Then version 2 starts from the current one; version 1 stays current (and unchanged) until approved.
    draft = plan_services.plan_in_work(case)
    assert draft is not None
    assert draft.version == 2
    assert draft.based_on_id == plan.pk
    # It starts from the current version: the same texts and goals, sealed anew for the new rows.
    copied = gate.read_case(coordinator, case, [draft], ["child_views"], purpose="test")[0]
    assert copied.get("child_views") == CHILD_VIEWS
    goals = list(PlanGoal.objects.filter(plan=draft).order_by("position"))
    assert next(d.get("text") for d in gate.read_case(coordinator, case, goals, ["text"], purpose="test")) == GOAL
    assert bytes(goals[0].text or b"") != bytes(PlanGoal.objects.filter(plan=plan).order_by("position")[0].text or b"")
    first_before = Plan.objects.values().get(pk=plan.pk)
    submit(case, coordinator, one_task(case, CaseFlow.draft_plan))
    decide(case, supervisor)
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.SUPERSEDED
    after = Plan.objects.values().get(pk=plan.pk)
    assert {k: v for k, v in after.items() if k != "status"} == {k: v for k, v in first_before.items() if k != "status"}
    assert list(Plan.objects.filter(case=case, status=PlanStatus.CURRENT).values_list("version", flat=True)) == [2]


def test_the_draft_page_saves_and_submits(case: Case, coordinator: User, teacher: User) -> None:
    task = to_plan_stage(case, coordinator, teacher)
    lead = client_for(coordinator)
    page = lead.get(f"/inbox/tasks/{task.pk}/")
    assert page.status_code == 200
    data = {"goals": GOAL, "child_views": CHILD_VIEWS, "support_offered": "", "parents_views": "", "next_review_on": ""}
    assert lead.post(f"/inbox/tasks/{task.pk}/", {**data, "save": "1"}).status_code == 302
    assert GOAL in html(lead.get(f"/inbox/tasks/{task.pk}/"))
    past = lead.post(f"/inbox/tasks/{task.pk}/", {**data, "next_review_on": "2020-01-01", "submit": "1"})
    assert past.status_code == 200
    assert field_errors(html(past))
    assert lead.post(f"/inbox/tasks/{task.pk}/", {**data, "submit": "1"}).status_code == 302
    task.refresh_from_db()
    assert task.status == STATUS.DONE
    plan = Plan.objects.get(case=case)
    assert plan.status == PlanStatus.SUBMITTED
    assert GOAL.encode() not in bytes(plan.child_views or b"")


def test_a_failing_approval_rolls_back_whole(
    case: Case, coordinator: User, teacher: User, supervisor: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit(case, coordinator, to_plan_stage(case, coordinator, teacher))
    task = one_task(case, CaseFlow.approve_plan)
    tasks.task_claim(task=task, user=supervisor)
    plan = plan_services.plan_in_work(case)
    assert plan is not None

    real_deadline_set = task_services.deadline_set

    def broken(**kwargs: Any) -> Any:
        if kwargs["kind"] == DeadlineKind.REVIEW:
            raise RuntimeError("review deadline store is down")
        return real_deadline_set(**kwargs)

    monkeypatch.setattr(task_services, "deadline_set", broken)
    with pytest.raises(RuntimeError):
        tasks.task_complete(
            task=task,
            user=supervisor,
            work=lambda: plan_services.plan_approve(plan=plan, by=supervisor, next_review_on=datetime.date(2027, 3, 1)),
            purpose="decide plan",
        )
    plan.refresh_from_db()
    task.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    assert plan.approved_by_id is None
    assert task.status == STATUS.ASSIGNED
    assert not Plan.objects.filter(case=case, status=PlanStatus.CURRENT).exists()


def test_a_task_completed_by_someone_else_is_refused(
    case: Case, coordinator: User, teacher: User, supervisor: User
) -> None:
    task = to_plan_stage(case, coordinator, teacher)
    # The teacher is on the team but the draft is not theirs: 404 (not allowed to see the task), audited.
    assert client_for(teacher).post(f"/inbox/tasks/{task.pk}/", {"goals": GOAL, "submit": "1"}).status_code == 404
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED


# --- Closure ------------------------------------------------------------------------------------------------------


def propose(case: Case, coordinator: User) -> ClosureRequest:
    return closure_request(
        case=case, by=coordinator, reason="goals_met", final_evaluation="Cíle splněny; zkouška 7701."
    )


def test_closure_waits_for_another_supervisor_and_ends_team_access(
    case: Case, coordinator: User, teacher: User, supervisor: User, second_supervisor: User
) -> None:
    proposal = propose(case, coordinator)
    task = closure_task(proposal)
    assert task.owner_id is None
    assert task.pk in [row.task_id for row in selectors.team_queue(user=supervisor).rows]
    assert Deadline.objects.get(task=task).kind == DeadlineKind.CLOSURE_APPROVAL
    tasks.task_claim(task=task, user=supervisor)
    page = client_for(supervisor).post(f"/inbox/tasks/{task.pk}/", {"decision": "approve", "confirm": "on"})
    assert page.status_code == 302
    case.refresh_from_db()
    proposal.refresh_from_db()
    assert not case.is_open
    assert proposal.status == ClosureStatus.APPROVED
    assert proposal.decided_by_id == supervisor.pk
    assert not TeamMembership.objects.current().filter(case=case).exists()
    assert client_for(teacher).get(f"/cases/{case.pk}/").status_code == 404
    # The case flow is cancelled with it: nothing left in anyone's inbox for this case.
    assert not selectors.my_tasks(user=coordinator).rows


def test_the_proposer_never_sees_their_own_closure_in_the_queue(
    case: Case, coordinator: User, supervisor: User, second_supervisor: User
) -> None:
    proposal = closure_request(case=case, by=supervisor, reason="moved", final_evaluation="Rodina se odstěhovala.")
    task = closure_task(proposal)
    assert task.pk not in [row.task_id for row in selectors.team_queue(user=supervisor).rows]
    assert task.pk in [row.task_id for row in selectors.team_queue(user=second_supervisor).rows]
    with pytest.raises(PermissionDenied):
        tasks.task_claim(task=task, user=supervisor)
    task.refresh_from_db()
    assert task.owner_id is None


def closure_task(proposal: ClosureRequest) -> Any:
    return Task.objects.get(process__closureprocess__request=proposal, flow_task=ClosureFlow.approve_closure)


def test_withdrawing_a_closure_cancels_its_approval_task(case: Case, coordinator: User, supervisor: User) -> None:
    proposal = propose(case, coordinator)
    task = closure_task(proposal)
    closure_withdraw(request=proposal, by=coordinator)
    task.refresh_from_db()
    assert task.status == STATUS.CANCELED
    assert task.pk not in [row.task_id for row in selectors.team_queue(user=supervisor).rows]
    assert not Deadline.objects.open().filter(task=task).exists()
    assert case.is_open
