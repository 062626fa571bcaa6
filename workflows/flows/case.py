"""``CaseFlow`` — a case from its opening through the assessment, the protection plan and its reviews (DOMAIN.md,
"The case's life", 5 to 9; docs/adr/0007-case-flow-assessment.md, docs/adr/0008-plan-approval-review-closure.md)::

    start ─► request inputs ─► asked? ─yes─► one "provide input" per chosen member ═► join ─► first?
                 ▲                └─no (a re-assessment may ask nobody) ──────────────────────► first?
                 │                                      first? ─yes─► write assessment ─► start draft
                 │                                             └─no──► re-assess ─────────► start draft
                 │                                                                              │
                 │                                                              draft plan ◄────┘
                 │                                                                  │
                 │                            ┌──────── returned ◄── approved? ◄── approve plan
                 │                            │                        │ yes
                 │                            └─► start draft          └─► review (due on the plan's date)
                 └──────────────────────────────────────────────────────────────┘ (re-assess, then the next version)

* ``start`` — started from code when the case opens (the ``case_opened`` hook of ``casework.lifecycle_hooks`` →
  :func:`case_flow_start`).
* ``request_inputs`` — the coordinator chooses current team members, each with a due date
  (``casework.services.assessment_inputs_request``). For the first assessment at least one; at a re-assessment
  whom they choose, possibly nobody (``inputs_asked`` then goes straight on).
* ``split_inputs`` / ``provide_input`` — one task per chosen member, assigned to them with an "input" deadline; the
  member writes their input (``casework.services.assessment_input_provide``), sealed in their sector's compartment.
  Ending a membership cancels the member's open input (:func:`case_flow_member_left`) and the join still fires.
* ``join_inputs`` — waits for every input (done or cancelled), under the process's row lock.
* ``first_assessment`` — the case's first assessment, or a re-assessment after a review?
* ``write_assessment`` — the coordinator's assessment (``casework.services.assessment_write``), due by the plan's
  statutory date (the plan is made from it).
* ``reassess`` — after a review: the assessment is updated before the plan (DOMAIN.md, step 9). A new version,
  revised or "no change" with its reason (``casework.services.assessment_reassess``), due within
  ``REASSESSMENT_TIME``.
* ``start_draft`` — the version in work (``casework.services.plan_draft_start``): the returned one, or a new one.
* ``draft_plan`` — the coordinator works on it: the first due one month after opening
  (``workflows.deadlines.ipod_due``), a revision within ``REVISION_TIME``. Completed by submitting it.
* ``approve_plan`` — the authority's supervisors' queue; never the drafter (four eyes, ``may_approve_plan``).
  Approved: the version becomes current. Returned with a comment: back to the draft.
* ``review`` — the coordinator's task due on the current plan's next review date (the authority's interval,
  ``AuthoritySettings.review_months``, unless the draft proposed a date); it opens the re-assessment (back to
  ``request_inputs``), after which the next version of the plan starts.

Running processes: no node was renamed or removed when the re-assessment came
(docs/adr/0015-review-reassessment-and-kept-apart.md); a review task still open completes into ``request_inputs``,
a process past it runs on as before.

The case leaves this flow only by closing: ``ClosureFlow`` (below) approves a proposal, the case closes, and this
process is cancelled with its open tasks.

Closing the case cancels the flow's open tasks (:func:`case_flow_close`, on the ``case_closed`` hook).
Handing the case over moves the previous coordinator's open tasks to the new one (:func:`case_flow_handover`, on
the ``case_handed_over`` hook).

Flow classes are stored by dotted name in the database: renaming or moving one needs a data migration
(``workflows.flows``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import nodes
from viewflow.workflow.base import Flow
from viewflow.workflow.models import Task

from casework.models import (
    Assessment,
    AssessmentInput,
    Case,
    InputStatus,
    Plan,
    PlanStatus,
    TeamMembership,
    User,
)
from casework.selectors.accounts import supervisor_ids
from casework.services.assessments import assessment_input_withdraw, inputs_requested
from casework.services.plans import plan_approved_exists, plan_draft_start, plan_in_work
from notifications.models import Kind as NotificationKind
from notifications.services import notify
from permissions.access import load_case_access
from permissions.policy import Subject, may_approve_plan, may_provide_input
from permissions.transactions import remember_in_transaction
from workflows.deadlines import ipod_due, working_deadline
from workflows.flows.common import APPROVAL_TIME, cancel_process, case_of_process, locked_case_of_process
from workflows.locks import ProcessRowLock
from workflows.models import Deadline, DeadlineKind
from workflows.nodes import (
    OPEN_STATUSES,
    AllBranchesJoin,
    EachSplit,
    End,
    Function,
    If,
    PolicyView,
    branch_cancelled,
    human_nodes,
)
from workflows.processes import CaseProcess
from workflows.services.deadlines import (
    deadline_done_for_task,
    deadline_reassign,
)
from workflows.services.tasks import TaskDue

#: Where a task's case sits on the task instance once loaded.
_CASE_ATTR = "_case"
#: A revised plan (after a review or a return) is due within this time (local practice, not law).
REVISION_TIME = datetime.timedelta(days=14)
#: The re-assessment after a review is due within this time (local practice, not law).
REASSESSMENT_TIME = datetime.timedelta(days=14)


def _fresh_case(activation: Any) -> Case:
    """The process's case, loaded once per step (saving it makes the next call read it again)."""
    return case_of_process(activation.process.pk)


class CaseFlow(Flow):
    """Case (spis Om)

    From the opening of a case through the assessment of the child's situation to the protection plan (IPOD).
    """

    process_class = CaseProcess
    lock_impl = ProcessRowLock()
    process_title = _("Case")

    start = nodes.StartHandle(this.start_process).Annotation(title=_("Case opened")).Next(this.request_inputs)
    request_inputs = (
        PolicyView(
            may_work=this.may_lead,
            label=_("Ask the team for inputs to the assessment"),
            page="workflows.views.case_tasks.request_inputs",
            inbox_type="request_inputs",
        )
        .Assign(this.coordinator_of)
        .Next(this.inputs_asked)
    )
    inputs_asked = (
        If(this.any_inputs_requested)
        .Annotation(title=_("Inputs asked?"))
        .Then(this.split_inputs)
        .Else(this.first_assessment)
    )
    split_inputs = (
        EachSplit(items=this.requested_inputs)
        .Annotation(title=_("One input per chosen member"))
        .Next(this.provide_input)
    )
    provide_input = (
        PolicyView(
            may_work=this.may_provide_input,
            label=_("Input to the assessment"),
            page="workflows.views.case_tasks.provide_input",
            inbox_type="input",
            deadline=DeadlineKind.INPUT,
            due=this.input_due,
        )
        .Assign(this.input_member)
        .Next(this.join_inputs)
    )
    join_inputs = AllBranchesJoin().Annotation(title=_("All inputs in")).Next(this.first_assessment)
    first_assessment = (
        If(this.is_first_assessment)
        .Annotation(title=_("First assessment?"))
        .Then(this.write_assessment)
        .Else(this.reassess)
    )
    write_assessment = (
        PolicyView(
            may_work=this.may_lead,
            label=_("Write the assessment"),
            page="workflows.views.case_tasks.write_assessment",
            inbox_type="assessment",
            deadline=DeadlineKind.ASSESSMENT,
            due=this.assessment_due,
        )
        .Assign(this.coordinator_of)
        .Next(this.start_draft)
    )
    reassess = (
        PolicyView(
            may_work=this.may_lead,
            label=_("Update the assessment (re-assessment)"),
            page="workflows.views.case_tasks.reassess",
            inbox_type="reassessment",
            deadline=DeadlineKind.ASSESSMENT,
            due=this.reassessment_due,
        )
        .Assign(this.coordinator_of)
        .Next(this.start_draft)
    )
    start_draft = Function(this.draft_start).Annotation(title=_("Start a draft of the plan")).Next(this.draft_plan)
    draft_plan = (
        PolicyView(
            may_work=this.may_lead,
            label=_("Draft the protection plan (IPOD)"),
            page="workflows.views.plan_tasks.draft_plan",
            inbox_type="plan",
            deadline=DeadlineKind.PLAN,
            due=this.plan_due,
        )
        .Assign(this.coordinator_of)
        .Next(this.approve_plan)
    )
    approve_plan = PolicyView(
        may_work=this.may_approve_plan,
        queue=True,
        label=_("Approve the protection plan"),
        page="workflows.views.plan_tasks.approve_plan",
        inbox_type="plan_approval",
        deadline=DeadlineKind.PLAN_APPROVAL,
        due=this.approval_due,
    ).Next(this.plan_approved)
    plan_approved = If(this.is_plan_approved).Annotation(title=_("Approved?")).Then(this.review).Else(this.start_draft)
    review = (
        PolicyView(
            may_work=this.may_lead,
            label=_("Review the plan"),
            page="workflows.views.plan_tasks.review",
            inbox_type="review",
            deadline=DeadlineKind.REVIEW,
            due=this.review_due,
        )
        .Assign(this.coordinator_of)
        .Next(this.request_inputs)
    )
    # Reached only by closing the case (a closure approved in ``ClosureFlow`` cancels this process).
    end = End().Annotation(title=_("Case closed"))

    # --- Who may work on the human tasks ---------------------------------------------------------------------------

    @staticmethod
    def case_of(task: Any) -> Case:
        """The case a task of this flow is about (one query, kept on the task)."""
        cached: Case | None = getattr(task, _CASE_ATTR, None)
        if cached is None:
            cached = case_of_process(task.process_id)
            setattr(task, _CASE_ATTR, cached)
        return cached

    @staticmethod
    def input_of(task: Any) -> AssessmentInput:
        """The input request a ``provide_input`` task is for (its id is the task's data). Inside the step's
        transaction its case, read here with what the nodes ask of it, is the step's copy (``case_of_process``)."""
        item = AssessmentInput.objects.select_related(
            "case__municipality", "case__coordinator__organisation", "member"
        ).get(pk=task.data["input"])
        remember_in_transaction(("case of process", task.process_id), item.case)
        return item

    def may_lead(self, user: User, task: Any) -> bool:
        return load_case_access(user, self.case_of(task)).may_manage

    def may_approve_plan(self, user: User, task: Any) -> bool:
        """A supervisor of the case's authority who did not draft the version (four eyes), on an open case."""
        case = self.case_of(task)
        plan = plan_in_work(case)
        return (
            case.is_open
            and plan is not None
            and may_approve_plan(
                Subject.from_user(user), municipality_id=case.municipality_id, drafted_by_id=plan.drafted_by_id
            )
        )

    def may_provide_input(self, user: User, task: Any) -> bool:
        """Only the member asked (the task's owner), while they are on the team and the case is open."""
        return may_provide_input(load_case_access(user, self.case_of(task)), asked_id=task.owner_id)

    # --- Node bodies -----------------------------------------------------------------------------------------------

    def start_process(self, activation: Any, case: Case) -> Any:
        activation.process.case = case
        return activation.process

    def coordinator_of(self, activation: Any) -> User:
        return _fresh_case(activation).coordinator

    def requested_inputs(self, activation: Any) -> list[dict[str, Any]]:
        """The requests ``request_inputs`` just wrote: one branch each."""
        return [
            {"input": str(item.pk), "member": item.member_id} for item in inputs_requested(activation.process.case_id)
        ]

    def any_inputs_requested(self, activation: Any) -> bool:
        return bool(inputs_requested(activation.process.case_id))

    def is_first_assessment(self, activation: Any) -> bool:
        return not Assessment.objects.filter(case_id=activation.process.case_id).exists()

    def input_member(self, activation: Any) -> User:
        member_id = activation.task.data["member"]
        for item in inputs_requested(activation.process.case_id):  # the split's list: no read in that step
            if item.member_id == member_id:
                return item.member
        return User.objects.select_related("organisation").get(pk=member_id)

    def input_due(self, activation: Any) -> TaskDue:
        """By the date the coordinator chose for the member's input (not in the past: the request refused that).
        The member is on the team: the request that asked them, in this same step (``request_inputs`` runs the split),
        checked that they are a current member (``assessment_inputs_request``)."""
        input_id = activation.task.data["input"]
        item = next(
            (i for i in inputs_requested(activation.process.case_id) if str(i.pk) == str(input_id)), None
        ) or AssessmentInput.objects.select_related("case", "case__municipality").get(pk=input_id)
        case = item.case
        return TaskDue(
            at=item.due_at,
            municipality=case.municipality,
            case=case,
            actor_id=case.coordinator_id,
            owner_on_team=True,
        )

    def assessment_due(self, activation: Any) -> TaskDue:
        """The plan is made "from the assessment" (Decree § 2), so it is due by the plan's statutory date, one month
        after the opening (no earlier date is law)."""
        case = _fresh_case(activation)
        return TaskDue(
            at=ipod_due(case.opened_at),
            municipality=case.municipality,
            case=case,
            allow_past=True,
            actor_id=case.coordinator_id,
        )

    def reassessment_due(self, activation: Any) -> TaskDue:
        """Within ``REASSESSMENT_TIME`` of the review (local practice): the next plan is made from it."""
        case = _fresh_case(activation)
        return TaskDue(
            at=working_deadline(timezone.localdate() + REASSESSMENT_TIME),
            municipality=case.municipality,
            case=case,
            actor_id=case.coordinator_id,
        )

    def draft_start(self, activation: Any) -> None:
        """The version in work: the returned one, or a new one (after a review, or the first)."""
        plan_draft_start(case=locked_case_of_process(activation.process), by=_fresh_case(activation).coordinator)

    def plan_due(self, activation: Any) -> TaskDue:
        """One month after the opening until a first version is approved, then within ``REVISION_TIME``."""
        case = _fresh_case(activation)
        first = not plan_approved_exists(case)
        return TaskDue(
            at=ipod_due(case.opened_at) if first else working_deadline(timezone.localdate() + REVISION_TIME),
            municipality=case.municipality,
            case=case,
            # The statutory month runs from the opening, whenever the assessment ends: it may have passed already.
            allow_past=True,
            actor_id=case.coordinator_id,
        )

    def approval_due(self, activation: Any) -> TaskDue:
        """The supervisors' queue: a submitted version waits for one of them who did not draft it, who are told."""
        case = _fresh_case(activation)
        plan = plan_in_work(case)
        drafter = plan.drafted_by_id if plan is not None else None
        return TaskDue(
            at=working_deadline(timezone.localdate() + APPROVAL_TIME),
            municipality=case.municipality,
            case=case,
            told=[pk for pk in supervisor_ids(case.municipality_id) if plan is None or pk != drafter],
            actor_id=drafter,
        )

    def is_plan_approved(self, activation: Any) -> bool:
        return plan_in_work(_fresh_case(activation)) is None

    def review_due(self, activation: Any) -> TaskDue:
        """On the current plan's next review date (the authority's interval by default)."""
        case = _fresh_case(activation)
        current = Plan.objects.filter(case=case, status=PlanStatus.CURRENT).values_list("next_review_on", flat=True)
        return TaskDue(
            at=working_deadline(current.first() or timezone.localdate()),
            municipality=case.municipality,
            case=case,
            allow_past=True,
            actor_id=case.coordinator_id,
        )


def case_flow_start(case: Case) -> Any:
    """Start the case's ``CaseFlow`` in the caller's transaction (on the ``case_opened`` hook)."""
    return CaseFlow.start.run(case=case)


def case_flow_member_left(membership: TeamMembership) -> int:
    """Cancel the open input task of a member whose membership ended, withdraw its request, and let the join fire
    when it was the last open input (on the ``team_membership_ended`` hook, in its transaction).
    Returns how many tasks were cancelled."""
    process_id = CaseProcess.objects.filter(case_id=membership.case_id).values_list("pk", flat=True).first()
    if process_id is None:
        return 0
    cancelled = 0
    with transaction.atomic(), CaseFlow.lock(process_id):
        requests = AssessmentInput.objects.filter(membership=membership, status=InputStatus.REQUESTED)
        for item in requests.select_related("case"):
            for task in Task.objects.filter(
                process_id=process_id,
                flow_task=CaseFlow.provide_input,
                data__input=str(item.pk),
                status__in=OPEN_STATUSES,
            ):
                assessment_input_withdraw(assessment_input=item)
                deadline_done_for_task(task=task)
                task.flow_task.activation_class(task).cancel()
                task.refresh_from_db()
                branch_cancelled(CaseFlow.join_inputs, task)
                cancelled += 1
    return cancelled


def case_flow_close(case: Case) -> int:
    """The case closed: cancel its flow's open tasks (their deadlines done, open input requests withdrawn) and mark
    the process cancelled, without running any node further (on the ``case_closed`` hook, in its
    transaction). Returns how many tasks were cancelled."""
    process = CaseProcess.objects.filter(case_id=case.pk).first()
    if process is None:
        return 0
    with transaction.atomic(), CaseFlow.lock(process.pk):
        for item in AssessmentInput.objects.filter(case=case, status=InputStatus.REQUESTED).select_related("case"):
            assessment_input_withdraw(assessment_input=item)
        return cancel_process(process)


#: The case flow's tasks that belong to whoever coordinates the case: those it assigns with ``coordinator_of``.
COORDINATOR_NODES = frozenset(
    node for node in human_nodes(CaseFlow) if node.assigned_with(CaseFlow.instance.coordinator_of)
)


def case_flow_handover(case: Case, previous_coordinator_id: int | None, by: User) -> int:
    """The case has a new coordinator: give them the previous coordinator's open coordinator tasks (asking for
    inputs, the assessment, the plan), move those tasks' deadlines to them and notify them (on
    the ``case_handed_over`` hook, in the handover's transaction: a failure here rolls the handover back).
    Returns how many tasks moved."""
    process_id = CaseProcess.objects.filter(case_id=case.pk).values_list("pk", flat=True).first()
    if process_id is None or previous_coordinator_id is None:
        return 0
    new_coordinator = User.objects.get(pk=case.coordinator_id)
    moved = 0
    with transaction.atomic(), CaseFlow.lock(process_id):
        open_tasks = Task.objects.filter(
            process_id=process_id,
            owner_id=previous_coordinator_id,
            status__in=OPEN_STATUSES,
        )
        for task in open_tasks.order_by("id"):
            if task.flow_task not in COORDINATOR_NODES:
                continue
            activation = task.flow_task.activation_class(task)
            if activation.reassign.can_proceed():
                activation.reassign(user=new_coordinator)
            else:
                task.owner = new_coordinator
                task.save(update_fields=["owner"])
            deadline = Deadline.objects.filter(task=task, done_at__isnull=True).first()
            if deadline is not None:
                deadline_reassign(deadline=deadline, owner=new_coordinator)
            notify(
                recipient_id=new_coordinator.pk,
                kind=NotificationKind.TASK_ASSIGNED,
                case_id=case.pk,
                case_reference=case.reference,
                object_type="viewflow.task",
                object_id=task.pk,
                actor_id=by.pk,
            )
            moved += 1
    return moved
