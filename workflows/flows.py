"""The flows of a child's case, as viewflow graphs. Each node's body is one call into a ``casework`` service.

``ReportFlow`` — a report (oznámení, § 10(4)) from its receipt to the notifier's feedback (DOMAIN.md, "The case's
life", 1 to 4)::

    start ─► triage ─► at risk? ──yes──► open the case / attach ─► feedback asked? ──yes──► send feedback ─► end
                          └──no (closed with a reason) ───────────────►┘       └──no──────────────────────►┘

* ``start`` — started from code when the report is filed (``report_receive``), in the filing's transaction.
* ``triage`` — a human task in the authority's supervisors' shared queue (claimable); due by the authority's urgency
  times (``workflows.deadlines.triage_due``). Completing it records the decision (``casework.services.report_triage``).
* ``open_case`` — ``casework.services.report_case_open``: a new case with the coordinator chosen in triage, or the
  report attached to the child's open case.
* ``send_feedback`` — for the coordinator (or, with no case, the supervisor who triaged), due 30 days after receipt
  (``workflows.deadlines.feedback_due``).

The process row is a ``ReportProcess`` with a foreign key to the report. Transitions run under a row lock of the
process (``SelectForUpdateLock(nowait=False)``) inside one transaction: a failing node rolls the whole step back —
triage decision, register entry, case, deadlines and task state alike. Who may take and complete the human tasks is
our policy (``workflows.nodes.PolicyView``), checked by ``workflows.tasks`` before every transition.

``CaseFlow`` — a case from its opening through the assessment, the protection plan and its reviews (DOMAIN.md,
"The case's life", 5 to 9; docs/adr/0007-case-flow-assessment.md, docs/adr/0008-plan-approval-review-closure.md)::

    start ─► request inputs ─► one "provide input" per chosen member ═► join ─► write assessment ─► draft plan
                                                                                                     ▲      │
                                                        ┌──────── returned ◄── approved? ◄── approve plan ◄┘
                                                        │                        │ yes
                                                        └─► draft plan           └─► review (due on the plan's date)
                                                                                        └─► draft plan (next version)

* ``start`` — started from code when the case opens (``casework.signals.case_opened`` → :func:`case_flow_start`).
* ``request_inputs`` — the coordinator chooses current team members, each with a due date
  (``casework.services.assessment_inputs_request``).
* ``split_inputs`` / ``provide_input`` — one task per chosen member, assigned to them with an "input" deadline; the
  member writes their input (``casework.services.assessment_input_provide``), sealed in their sector's compartment.
  Ending a membership cancels the member's open input (:func:`case_flow_member_left`) and the join still fires.
* ``join_inputs`` — waits for every input (done or cancelled), under the process's row lock.
* ``write_assessment`` — the coordinator's assessment (``casework.services.assessment_write``), due by the plan's
  statutory date (the plan is made from it).
* ``draft_plan`` — the version in work (``casework.services.plan_draft_start``): the first due one month after
  opening (``workflows.deadlines.ipod_due``), a revision within ``REVISION_TIME``. Completed by submitting it.
* ``approve_plan`` — the authority's supervisors' queue; never the drafter (four eyes, ``may_approve_plan``).
  Approved: the version becomes current. Returned with a comment: back to ``draft_plan``.
* ``review`` — the coordinator's task due on the current plan's next review date (the authority's interval,
  ``AuthoritySettings.review_months``, unless the draft proposed a date); it starts the next version.

The case leaves this flow only by closing: ``ClosureFlow`` (below) approves a proposal, the case closes, and this
process is cancelled with its open tasks.

Closing the case cancels the flow's open tasks (:func:`case_flow_close`, on ``casework.signals.case_closed``).
Handing the case over moves the previous coordinator's open tasks to the new one (:func:`case_flow_handover`, on
``casework.signals.case_handed_over``).

Flow classes are stored by dotted name in the database: renaming or moving one needs a data migration.
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
from viewflow.workflow.status import PROCESS, STATUS

from casework.models import (
    APPROVED_STATUSES,
    ActionStatus,
    AssessmentInput,
    Case,
    ClosureRequest,
    ClosureStatus,
    InputStatus,
    Plan,
    PlanAction,
    PlanStatus,
    Report,
    TeamMembership,
    User,
)
from casework.services import (
    ReportDetails,
    report_case_open,
    report_feedback_owner,
    report_file,
    report_triage_release,
    report_triage_take,
)
from casework.services.assessments import assessment_input_withdraw
from casework.services.plan_actions import may_report_action, organisation_member_ids, team_owners
from casework.services.plans import may_approve_plan as plan_approver_allowed
from casework.services.plans import plan_draft_start, plan_in_work
from casework.services.reports import report_filing_refused, supervisor_ids
from notifications.models import Kind as NotificationKind
from notifications.services import notify, notify_many
from permissions import audit
from permissions.access import load_case_access, load_report_access
from permissions.policy import may_file_report
from workflows.deadlines import feedback_due, ipod_due, triage_due, working_deadline
from workflows.locks import ProcessRowLock
from workflows.models import AuthoritySettings, Deadline, DeadlineKind
from workflows.nodes import AllBranchesJoin, EachSplit, PolicyView, branch_cancelled
from workflows.processes import ActionProcess, CaseProcess, ClosureProcess, ReportProcess
from workflows.services.deadlines import (
    deadline_done_for_task,
    deadline_reassign,
    deadline_reassign_for_task,
    deadline_set,
)

#: Statuses of a task somebody still has to work on.
OPEN_TASK = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
#: Where a task's object sits on the task instance once loaded (one query per task, not per check).
_REPORT_ATTR = "_report"


def _fresh_report(activation: Any) -> Report:
    """The report of the activation's process, read again: an earlier node in the same step may have changed it."""
    return Report.objects.select_related("municipality", "case").get(pk=activation.process.report_id)


class ReportFlow(Flow):
    """Report (oznámení)

    From the receipt of a report to the urgency triage, the case, and the feedback a mandated notifier asked for.
    """

    process_class = ReportProcess
    lock_impl = ProcessRowLock()
    process_title = _("Report (oznámení)")

    start = nodes.StartHandle(this.start_process).Annotation(title=_("Report received")).Next(this.triage)
    triage = (
        PolicyView(may_work=this.may_triage, queue=True)
        .Annotation(title=_("Urgency triage"))
        .onCreate(this.triage_created)
        .Next(this.child_at_risk)
    )
    child_at_risk = (
        nodes.If(this.is_at_risk)
        .Annotation(title=_("Is the child at risk under § 6?"))
        .Then(this.open_case)
        .Else(this.feedback_asked)
    )
    open_case = (
        nodes.Function(this.open_or_attach_case)
        .Annotation(title=_("Open the case or attach the report"))
        .Next(this.feedback_asked)
    )
    feedback_asked = (
        nodes.If(this.wants_feedback)
        .Annotation(title=_("Did the notifier ask for feedback?"))
        .Then(this.send_feedback)
        .Else(this.end)
    )
    send_feedback = (
        PolicyView(may_work=this.may_send_feedback)
        .Annotation(title=_("Feedback to the notifier"))
        .Assign(this.feedback_owner)
        .onCreate(this.feedback_created)
        .Next(this.end)
    )
    end = nodes.End().Annotation(title=_("Done"))

    # --- Who may work on the human tasks (our policy, asked by PolicyView) -----------------------------------------

    @staticmethod
    def report_of(task: Any) -> Report:
        """The report a task of this flow is about, with its authority and case (one query, kept on the task)."""
        cached: Report | None = getattr(task, _REPORT_ATTR, None)
        if cached is None:
            cached = Report.objects.select_related("municipality", "case", "case__coordinator", "decided_by").get(
                pk=ReportProcess.objects.filter(pk=task.process_id).values("report_id")[:1]
            )
            setattr(task, _REPORT_ATTR, cached)
        return cached

    def may_triage(self, user: User, task: Any) -> bool:
        return load_report_access(user, self.report_of(task)).may_triage

    def may_send_feedback(self, user: User, task: Any) -> bool:
        return load_report_access(user, self.report_of(task)).may_send_feedback

    # --- Node bodies -----------------------------------------------------------------------------------------------

    def start_process(self, activation: Any, report: Report) -> Any:
        activation.process.report = report
        return activation.process

    def triage_created(self, activation: Any) -> None:
        report = _fresh_report(activation)
        deadline_set(
            kind=DeadlineKind.TRIAGE,
            due_at=triage_due(
                report.received_at, report.urgent_suggested, AuthoritySettings.for_municipality(report.municipality_id)
            ),
            owner=None,
            municipality=report.municipality,
            task=activation.task,
            reference=report.reference,
            # A letter opened late is still due when the rules say: the deadline may already have passed.
            allow_past=True,
        )

    def is_at_risk(self, activation: Any) -> bool:
        return bool(_fresh_report(activation).at_risk)

    def open_or_attach_case(self, activation: Any) -> None:
        report = _fresh_report(activation)
        assert report.decided_by is not None
        report_case_open(report=report, by=report.decided_by)

    def wants_feedback(self, activation: Any) -> bool:
        return _fresh_report(activation).feedback_requested

    def feedback_owner(self, activation: Any) -> User:
        return report_feedback_owner(_fresh_report(activation))

    def feedback_created(self, activation: Any) -> None:
        report = _fresh_report(activation)
        task = activation.task
        case = report.case if report.case is not None and report.case.is_open else None
        deadline_set(
            kind=DeadlineKind.FEEDBACK,
            due_at=feedback_due(report.received_at),
            owner=task.owner,
            municipality=report.municipality,
            case=case,
            task=task,
            reference=report.reference,
            allow_past=True,
        )
        notify(
            recipient_id=task.owner_id,
            kind=NotificationKind.TASK_ASSIGNED,
            case_id=case.pk if case is not None else None,
            case_reference=case.reference if case is not None else report.reference,
            object_type="viewflow.task",
            object_id=task.pk,
            actor_id=report.decided_by_id,
        )

    # --- Hooks of workflows.tasks: taking a queue task and giving it back ----------------------------------------

    def task_taken(self, task: Any, user: User) -> None:
        if task.flow_task.name == "triage":
            report_triage_take(report=self.report_of(task), by=user)

    def task_released(self, task: Any, user: User) -> None:
        if task.flow_task.name == "triage":
            report_triage_release(report=self.report_of(task), by=user)


def report_receive(*, filed_by: User, details: ReportDetails) -> Report:
    """File a report (``casework.services.report_file``) and start its ``ReportFlow`` in the same transaction: the
    report, the supervisors' notifications, the process, the triage task and its deadline commit together or not at
    all. A refusal (the DPO, the administrator) is audited before any transaction opens."""
    if not may_file_report(filed_by):
        raise report_filing_refused(filed_by)
    with audit.atomic():
        report = report_file(filed_by=filed_by, details=details)
        ReportFlow.start.run(report=report)
    return report


# --- The case flow --------------------------------------------------------------------------------------------------

#: Where a task's case sits on the task instance once loaded.
_CASE_ATTR = "_case"
#: A revised plan (after a review or a return) is due within this time; the supervisors approve within APPROVAL_TIME.
#: Local practice, not law.
REVISION_TIME = datetime.timedelta(days=14)
APPROVAL_TIME = datetime.timedelta(days=5)


def _fresh_case(activation: Any) -> Case:
    return Case.objects.select_related("municipality", "coordinator").get(pk=activation.process.case_id)


class CaseFlow(Flow):
    """Case (spis Om)

    From the opening of a case through the assessment of the child's situation to the protection plan (IPOD).
    """

    process_class = CaseProcess
    lock_impl = ProcessRowLock()
    process_title = _("Case")

    start = nodes.StartHandle(this.start_process).Annotation(title=_("Case opened")).Next(this.request_inputs)
    request_inputs = (
        PolicyView(may_work=this.may_lead)
        .Annotation(title=_("Ask the team for inputs to the assessment"))
        .Assign(this.coordinator_of)
        .Next(this.split_inputs)
    )
    split_inputs = (
        EachSplit(items=this.requested_inputs)
        .Annotation(title=_("One input per chosen member"))
        .Next(this.provide_input)
    )
    provide_input = (
        PolicyView(may_work=this.may_provide_input)
        .Annotation(title=_("Input to the assessment"))
        .Assign(this.input_member)
        .onCreate(this.input_created)
        .Next(this.join_inputs)
    )
    join_inputs = AllBranchesJoin().Annotation(title=_("All inputs in")).Next(this.write_assessment)
    write_assessment = (
        PolicyView(may_work=this.may_lead)
        .Annotation(title=_("Write the assessment"))
        .Assign(this.coordinator_of)
        .onCreate(this.assessment_task_created)
        .Next(this.draft_plan)
    )
    draft_plan = (
        PolicyView(may_work=this.may_lead)
        .Annotation(title=_("Draft the protection plan (IPOD)"))
        .Assign(this.coordinator_of)
        .onCreate(this.plan_created)
        .Next(this.approve_plan)
    )
    approve_plan = (
        PolicyView(may_work=this.may_approve_plan, queue=True)
        .Annotation(title=_("Approve the protection plan"))
        .onCreate(this.approval_created)
        .Next(this.plan_approved)
    )
    plan_approved = (
        nodes.If(this.is_plan_approved).Annotation(title=_("Approved?")).Then(this.review).Else(this.draft_plan)
    )
    review = (
        PolicyView(may_work=this.may_lead)
        .Annotation(title=_("Review the plan"))
        .Assign(this.coordinator_of)
        .onCreate(this.review_created)
        .Next(this.draft_plan)
    )
    # Reached only by closing the case (a closure approved in ``ClosureFlow`` cancels this process).
    end = nodes.End().Annotation(title=_("Case closed"))

    # --- Who may work on the human tasks ---------------------------------------------------------------------------

    @staticmethod
    def case_of(task: Any) -> Case:
        """The case a task of this flow is about (one query, kept on the task)."""
        cached: Case | None = getattr(task, _CASE_ATTR, None)
        if cached is None:
            cached = Case.objects.select_related("municipality", "coordinator").get(
                pk=CaseProcess.objects.filter(pk=task.process_id).values("case_id")[:1]
            )
            setattr(task, _CASE_ATTR, cached)
        return cached

    @staticmethod
    def input_of(task: Any) -> AssessmentInput:
        """The input request a ``provide_input`` task is for (its id is the task's data)."""
        return AssessmentInput.objects.select_related("case", "member").get(pk=task.data["input"])

    def may_lead(self, user: User, task: Any) -> bool:
        return load_case_access(user, self.case_of(task)).may_manage

    def may_approve_plan(self, user: User, task: Any) -> bool:
        """A supervisor of the case's authority who did not draft the version (four eyes), on an open case."""
        case = self.case_of(task)
        plan = plan_in_work(case)
        return case.is_open and plan is not None and plan_approver_allowed(user, plan)

    def may_provide_input(self, user: User, task: Any) -> bool:
        """Only the member asked, while they are on the team and the case is open."""
        if task.owner_id != user.pk:
            return False
        access = load_case_access(user, self.case_of(task))
        return access.visible and not access.read_only

    # --- Node bodies -----------------------------------------------------------------------------------------------

    def start_process(self, activation: Any, case: Case) -> Any:
        activation.process.case = case
        return activation.process

    def coordinator_of(self, activation: Any) -> User:
        return _fresh_case(activation).coordinator

    def requested_inputs(self, activation: Any) -> list[dict[str, Any]]:
        """The requests ``request_inputs`` just wrote: one branch each."""
        ids = AssessmentInput.objects.filter(
            case_id=activation.process.case_id, status=InputStatus.REQUESTED
        ).values_list("pk", "member_id")
        return [{"input": str(pk), "member": member_id} for pk, member_id in ids]

    def input_member(self, activation: Any) -> User:
        return User.objects.get(pk=activation.task.data["member"])

    def input_created(self, activation: Any) -> None:
        task = activation.task
        item = AssessmentInput.objects.select_related("case", "case__municipality").get(pk=task.data["input"])
        case = item.case
        deadline_set(
            kind=DeadlineKind.INPUT,
            due_at=item.due_at,
            owner=task.owner,
            municipality=case.municipality,
            case=case,
            task=task,
        )
        self._notify_assigned(task, case)

    def assessment_task_created(self, activation: Any) -> None:
        """The assessment: the plan is made "from the assessment" (Decree § 2), so it is due by the plan's statutory
        date, one month after the opening (no earlier date is law)."""
        case = _fresh_case(activation)
        task = activation.task
        deadline_set(
            kind=DeadlineKind.ASSESSMENT,
            due_at=ipod_due(case.opened_at),
            owner=task.owner,
            municipality=case.municipality,
            case=case,
            task=task,
            allow_past=True,
        )
        self._notify_assigned(task, case)

    def plan_created(self, activation: Any) -> None:
        """The draft task: the version in work (a new one after a review), due one month after the opening until a
        first version is approved, then within the authority's days for a revision."""
        case = _fresh_case(activation)
        task = activation.task
        plan_draft_start(case=case, by=case.coordinator)
        first = not Plan.objects.filter(case=case, status__in=APPROVED_STATUSES).exists()
        deadline_set(
            kind=DeadlineKind.PLAN,
            due_at=ipod_due(case.opened_at) if first else working_deadline(timezone.localdate() + REVISION_TIME),
            owner=task.owner,
            municipality=case.municipality,
            case=case,
            task=task,
            # The statutory month runs from the opening, whenever the assessment ends: it may have passed already.
            allow_past=True,
        )
        self._notify_assigned(task, case)

    def approval_created(self, activation: Any) -> None:
        """The supervisors' queue: a submitted version waits for one of them who did not draft it."""
        case = _fresh_case(activation)
        deadline_set(
            kind=DeadlineKind.PLAN_APPROVAL,
            due_at=working_deadline(timezone.localdate() + APPROVAL_TIME),
            owner=None,
            municipality=case.municipality,
            case=case,
            task=activation.task,
        )
        plan = plan_in_work(case)
        notify_many(
            recipient_ids=[
                pk for pk in supervisor_ids(case.municipality_id) if plan is None or pk != plan.drafted_by_id
            ],
            kind=NotificationKind.TASK_ASSIGNED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type="viewflow.task",
            object_id=activation.task.pk,
            actor_id=plan.drafted_by_id if plan is not None else None,
        )

    def is_plan_approved(self, activation: Any) -> bool:
        return plan_in_work(_fresh_case(activation)) is None

    def review_created(self, activation: Any) -> None:
        """The review of the current plan, due on its next review date (the authority's interval by default)."""
        case = _fresh_case(activation)
        task = activation.task
        current = Plan.objects.filter(case=case, status=PlanStatus.CURRENT).values_list("next_review_on", flat=True)
        review_on = current.first() or timezone.localdate()
        deadline_set(
            kind=DeadlineKind.REVIEW,
            due_at=working_deadline(review_on),
            owner=task.owner,
            municipality=case.municipality,
            case=case,
            task=task,
            allow_past=True,
        )
        self._notify_assigned(task, case)

    @staticmethod
    def _notify_assigned(task: Any, case: Case) -> None:
        notify(
            recipient_id=task.owner_id,
            kind=NotificationKind.TASK_ASSIGNED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type="viewflow.task",
            object_id=task.pk,
            actor_id=case.coordinator_id,
        )


def case_flow_start(case: Case) -> Any:
    """Start the case's ``CaseFlow`` in the caller's transaction (receiver of ``casework.signals.case_opened``)."""
    return CaseFlow.start.run(case=case)


def case_flow_member_left(membership: TeamMembership) -> int:
    """Cancel the open input task of a member whose membership ended, withdraw its request, and let the join fire
    when it was the last open input (receiver of ``casework.signals.team_membership_ended``, in its transaction).
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
                status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
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
    the process cancelled, without running any node further (receiver of ``casework.signals.case_closed``, in its
    transaction). Returns how many tasks were cancelled."""
    process = CaseProcess.objects.filter(case_id=case.pk).first()
    if process is None:
        return 0
    with transaction.atomic(), CaseFlow.lock(process.pk):
        for item in AssessmentInput.objects.filter(case=case, status=InputStatus.REQUESTED).select_related("case"):
            assessment_input_withdraw(assessment_input=item)
        return _cancel_process(process)


def _cancel_process(process: Any) -> int:
    """Cancel a process's open tasks (their deadlines done) and the process itself, without running any node
    further. The caller holds the flow's lock inside a transaction. Returns how many tasks were cancelled."""
    cancelled = 0
    open_tasks = Task.objects.filter(process_id=process.pk, status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED])
    for task in open_tasks.order_by("id"):
        activation = task.flow_task.activation_class(task)
        if not activation.cancel.can_proceed():
            continue
        deadline_done_for_task(task=task)
        activation.cancel()
        cancelled += 1
    process.refresh_from_db()
    process.status = PROCESS.CANCELED
    process.finished = timezone.now()
    process.save(update_fields=["status", "finished"])
    return cancelled


#: The case flow's tasks that belong to whoever coordinates the case (``CaseFlow.coordinator_of``).
COORDINATOR_NODES = ("request_inputs", "write_assessment", "draft_plan", "review")


def case_flow_handover(case: Case, previous_coordinator_id: int | None, by: User) -> int:
    """The case has a new coordinator: give them the previous coordinator's open coordinator tasks (asking for
    inputs, the assessment, the plan), move those tasks' deadlines to them and notify them (receiver of
    ``casework.signals.case_handed_over``, in the handover's transaction: a failure here rolls the handover back).
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
            status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
        )
        for task in open_tasks.order_by("id"):
            if task.flow_task is None or task.flow_task.name not in COORDINATOR_NODES:
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


# --- Closure ----------------------------------------------------------------------------------------------------------


class ClosureFlow(Flow):
    """Closure (ukončení)

    The coordinator's proposal to close the case, and a supervisor's decision: four eyes, never the proposer.
    """

    process_class = ClosureProcess
    lock_impl = ProcessRowLock()
    process_title = _("Closure of the case")

    start = nodes.StartHandle(this.start_process).Annotation(title=_("Closure proposed")).Next(this.approve_closure)
    approve_closure = (
        PolicyView(may_work=this.may_decide, queue=True)
        .Annotation(title=_("Approve the closure of the case"))
        .onCreate(this.approval_created)
        .Next(this.end)
    )
    end = nodes.End().Annotation(title=_("Decided"))

    @staticmethod
    def request_of(task: Any) -> ClosureRequest:
        """The closure request a task is about, with its case (one query, kept on the task)."""
        cached: ClosureRequest | None = getattr(task, _CLOSURE_ATTR, None)
        if cached is None:
            cached = ClosureRequest.objects.select_related("case", "case__municipality", "requested_by").get(
                pk=ClosureProcess.objects.filter(pk=task.process_id).values("request_id")[:1]
            )
            setattr(task, _CLOSURE_ATTR, cached)
        return cached

    def case_of(self, task: Any) -> Case:
        return self.request_of(task).case

    def may_decide(self, user: User, task: Any) -> bool:
        """A supervisor of the case's authority who did not propose the closure, on an open case."""
        request = self.request_of(task)
        return (
            request.case.is_open
            and request.status == ClosureStatus.PENDING
            and request.requested_by_id != user.pk
            and load_case_access(user, request.case).subject.supervises(request.case.municipality_id)
        )

    def start_process(self, activation: Any, request: ClosureRequest) -> Any:
        activation.process.request = request
        return activation.process

    def approval_created(self, activation: Any) -> None:
        request = ClosureRequest.objects.select_related("case", "case__municipality").get(
            pk=activation.process.request_id
        )
        case = request.case
        deadline_set(
            kind=DeadlineKind.CLOSURE_APPROVAL,
            due_at=working_deadline(timezone.localdate() + APPROVAL_TIME),
            owner=None,
            municipality=case.municipality,
            case=case,
            task=activation.task,
        )
        notify_many(
            recipient_ids=[pk for pk in supervisor_ids(case.municipality_id) if pk != request.requested_by_id],
            kind=NotificationKind.TASK_ASSIGNED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type="viewflow.task",
            object_id=activation.task.pk,
            actor_id=request.requested_by_id,
        )


#: Where a task's closure request sits on the task instance once loaded.
_CLOSURE_ATTR = "_closure_request"


def closure_flow_start(request: ClosureRequest) -> Any:
    """Start the approval of a closure request in the caller's transaction (receiver of
    ``casework.signals.closure_requested``)."""
    return ClosureFlow.start.run(request=request)


def closure_flow_withdrawn(request: ClosureRequest) -> int:
    """A pending closure request was withdrawn: cancel its approval task (receiver of
    ``casework.signals.closure_withdrawn``, in its transaction). Returns how many tasks were cancelled."""
    process = ClosureProcess.objects.filter(request_id=request.pk).first()
    if process is None:
        return 0
    with transaction.atomic(), ClosureFlow.lock(process.pk):
        return _cancel_process(process)


# --- Plan actions -----------------------------------------------------------------------------------------------------


class ActionFlow(Flow):
    """Plan action (úkol z plánu)

    An action of the approved protection plan in its owner's inbox, until they report it done.
    """

    process_class = ActionProcess
    lock_impl = ProcessRowLock()
    process_title = _("Plan action")

    start = nodes.StartHandle(this.start_process).Annotation(title=_("Plan approved")).Next(this.do_action)
    # A person's action is assigned to them; an organisation's waits in the queue of its members on the team.
    do_action = (
        PolicyView(may_work=this.may_report, queue=True)
        .Annotation(title=_("Plan action"))
        .Assign(this.owner_of)
        .onCreate(this.action_task_created)
        .Next(this.end)
    )
    end = nodes.End().Annotation(title=_("Done"))

    @staticmethod
    def action_of(task: Any) -> PlanAction:
        """The action a task is about, with its plan and case (one query, kept on the task)."""
        cached: PlanAction | None = getattr(task, _ACTION_ATTR, None)
        if cached is None:
            cached = PlanAction.objects.select_related(
                "plan", "plan__case", "plan__case__municipality", "owner_user", "owner_organisation"
            ).get(pk=ActionProcess.objects.filter(pk=task.process_id).values("action_id")[:1])
            setattr(task, _ACTION_ATTR, cached)
        return cached

    def case_of(self, task: Any) -> Case:
        return self.action_of(task).plan.case

    def may_report(self, user: User, task: Any) -> bool:
        return may_report_action(user, self.action_of(task))

    def start_process(self, activation: Any, action: PlanAction) -> Any:
        activation.process.action = action
        return activation.process

    def owner_of(self, activation: Any) -> User | None:
        return PlanAction.objects.get(pk=activation.process.action_id).owner_user

    def action_task_created(self, activation: Any) -> None:
        """Due at the end of the action's day (rolled to a working day); the owner — or, for an organisation's
        action, its members on the team — are told there is a task (kind, reference and ids only)."""
        action = PlanAction.objects.select_related("plan__case", "plan__case__municipality", "owner_organisation").get(
            pk=activation.process.action_id
        )
        case = action.plan.case
        task = activation.task
        deadline_set(
            kind=DeadlineKind.PLAN_ACTION,
            due_at=working_deadline(action.due_on),
            owner=task.owner,
            municipality=case.municipality,
            case=case,
            task=task,
            allow_past=True,  # an action carried into a new version may already be late
            owner_organisation=action.owner_organisation if task.owner is None else None,
        )
        recipients: list[int] = []
        if action.owner_user_id is not None:
            recipients = [action.owner_user_id]
        elif action.owner_organisation_id is not None:
            recipients = organisation_member_ids(case, action.owner_organisation_id)
        notify_many(
            recipient_ids=recipients,
            kind=NotificationKind.TASK_ASSIGNED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type="viewflow.task",
            object_id=task.pk,
            actor_id=action.plan.approved_by_id,
        )

    def task_taken(self, task: Any, user: User) -> None:
        """Nothing to record beyond the task's owner: the deadline follows it (``workflows.tasks``)."""


#: Where a task's plan action sits on the task instance once loaded.
_ACTION_ATTR = "_plan_action"


def action_flows_for_plan(plan: Plan) -> int:
    """A version was approved: cancel the action tasks of the case's other versions and give each open action of
    this one a task in its owner's inbox (receiver of ``casework.signals.plan_approved``, in the approval's
    transaction). Returns how many tasks were started."""
    _cancel_action_processes(
        ActionProcess.objects.filter(action__plan__case_id=plan.case_id).exclude(action__plan=plan)
    )
    started = 0
    for action in PlanAction.objects.filter(plan=plan, status=ActionStatus.OPEN).order_by("position", "id"):
        ActionFlow.start.run(action=action)
        started += 1
    return started


def action_flow_done(action: PlanAction, by: User) -> None:
    """The owner reported the action done: complete its task — taking it first for a member of the owning
    organisation when it still waits in the queue (receiver of ``casework.signals.plan_action_done``, in the
    report's transaction)."""
    process = ActionProcess.objects.filter(action_id=action.pk, status=PROCESS.NEW).first()
    if process is None:
        return
    with transaction.atomic(), ActionFlow.lock(process.pk):
        task = Task.objects.filter(process_id=process.pk, flow_task=ActionFlow.do_action, status__in=OPEN_TASK).first()
        if task is None:
            return
        activation = task.flow_task.activation_class(task)
        if task.status == STATUS.NEW:
            activation.assign(by)
            task.refresh_from_db()
            activation = task.flow_task.activation_class(task)
        if task.status == STATUS.ASSIGNED and task.owner_id != by.pk:
            activation.reassign(user=by)
            task.refresh_from_db()
            activation = task.flow_task.activation_class(task)
        if task.status == STATUS.ASSIGNED:
            activation.start(None)
        deadline_done_for_task(task=task)
        activation.execute()


def _cancel_action_processes(processes: Any) -> int:
    cancelled = 0
    for process in processes.filter(status=PROCESS.NEW).order_by("pk"):
        with ActionFlow.lock(process.pk):
            cancelled += _cancel_process(process)
    return cancelled


def action_flows_member_left(membership: TeamMembership) -> int:
    """A member left the team (receiver of ``casework.signals.team_membership_ended``, in its transaction): the
    tasks of the open actions nobody on the team can do any more leave the inboxes — the member's own actions, and
    an organisation's when none of its people is left on the team; an organisation's action the member had taken
    goes back to the queue of its remaining members. The actions stay open in the approved plan: its next version
    gives them a new owner (submitting refuses an owner who is not on the team). Returns how many tasks were
    cancelled."""
    organisation_id = membership.user.organisation_id
    _users, organisations = team_owners(membership.case)
    open_processes = ActionProcess.objects.filter(
        action__plan__case_id=membership.case_id, action__status=ActionStatus.OPEN
    )
    with transaction.atomic():
        cancelled = _cancel_action_processes(open_processes.filter(action__owner_user_id=membership.user_id))
        if organisation_id is None:
            return cancelled
        theirs = open_processes.filter(action__owner_organisation_id=organisation_id)
        if organisation_id not in organisations:
            return cancelled + _cancel_action_processes(theirs)
        taken = Task.objects.filter(
            process__in=theirs.filter(status=PROCESS.NEW),
            flow_task=ActionFlow.do_action,
            owner_id=membership.user_id,
            status=STATUS.ASSIGNED,
        )
        for task in taken.order_by("pk"):
            with ActionFlow.lock(task.process_id):
                task.flow_task.activation_class(task).unassign()
                deadline_reassign_for_task(task=task, owner=None)
    return cancelled


def action_flows_case_closed(case: Case) -> int:
    """The case closed: its plan's action tasks are cancelled with the case's other tasks."""
    with transaction.atomic():
        return _cancel_action_processes(ActionProcess.objects.filter(action__plan__case_id=case.pk))
