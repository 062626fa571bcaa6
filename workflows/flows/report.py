"""``ReportFlow`` — a report (oznámení, § 10(4)) from its receipt to the notifier's feedback (DOMAIN.md, "The case's
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
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import nodes
from viewflow.workflow.base import Flow

from casework.models import (
    Report,
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
from casework.services.reports import report_filing_refused
from permissions import audit
from permissions.access import load_report_access
from permissions.policy import may_file_report
from permissions.transactions import remember_in_transaction
from workflows import deadlines as due_dates
from workflows.flows.common import report_of_process, saved_report
from workflows.locks import ProcessRowLock
from workflows.models import AuthoritySettings, DeadlineKind
from workflows.nodes import End, Function, If, PolicyView
from workflows.processes import ReportProcess
from workflows.services.tasks import TaskDue

#: Where a task's object sits on the task instance once loaded (one query per task, not per check).
_REPORT_ATTR = "_report"


def _fresh_report(activation: Any) -> Report:
    """The report of the activation's process, once per step: a node that saves it makes the next call read it again
    (an earlier node in the same step may have changed it). A report the step has written whole (the triage's
    locked copy) is that copy: the gateways after the triage do not read it back."""
    process = activation.process
    written = saved_report(getattr(process, "report_id", None))
    if written is not None:
        remember_in_transaction(("report of process", process.pk), written)
        return written
    return report_of_process(process.pk)


class ReportFlow(Flow):
    """Report (oznámení)

    From the receipt of a report to the urgency triage, the case, and the feedback a mandated notifier asked for.
    """

    process_class = ReportProcess
    lock_impl = ProcessRowLock()
    process_title = _("Report (oznámení)")

    start = nodes.StartHandle(this.start_process).Annotation(title=_("Report received")).Next(this.triage)
    triage = PolicyView(
        may_work=this.may_triage,
        queue=True,
        label=_("Urgency triage"),
        page="workflows.views.tasks.triage",
        inbox_type="triage",
        deadline=DeadlineKind.TRIAGE,
        due=this.triage_due,
    ).Next(this.child_at_risk)
    child_at_risk = (
        If(this.is_at_risk)
        .Annotation(title=_("Is the child at risk under § 6?"))
        .Then(this.open_case)
        .Else(this.feedback_asked)
    )
    open_case = (
        Function(this.open_or_attach_case)
        .Annotation(title=_("Open the case or attach the report"))
        .Next(this.feedback_asked)
    )
    feedback_asked = (
        If(this.wants_feedback)
        .Annotation(title=_("Did the notifier ask for feedback?"))
        .Then(this.send_feedback)
        .Else(this.end)
    )
    send_feedback = (
        PolicyView(
            may_work=this.may_send_feedback,
            label=_("Feedback to the notifier"),
            page="workflows.views.tasks.feedback",
            inbox_type="feedback",
            deadline=DeadlineKind.FEEDBACK,
            due=this.feedback_due,
        )
        .Assign(this.feedback_owner)
        .Next(this.end)
    )
    end = End().Annotation(title=_("Done"))

    # --- Who may work on the human tasks (our policy, asked by PolicyView) -----------------------------------------

    @staticmethod
    def report_of(task: Any) -> Report:
        """The report a task of this flow is about, with its authority and case (one query, kept on the task)."""
        cached: Report | None = getattr(task, _REPORT_ATTR, None)
        if cached is None:
            cached = report_of_process(task.process_id)
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

    def triage_due(self, activation: Any) -> TaskDue:
        """By the authority's urgency times from the receipt; nobody is told (filing told the supervisors)."""
        report = _fresh_report(activation)
        settings = AuthoritySettings.for_municipality(report.municipality_id)
        return TaskDue(
            at=due_dates.triage_due(report.received_at, report.urgent_suggested, settings),
            municipality=report.municipality,
            reference=report.reference,
            # A letter opened late is still due when the rules say: the deadline may already have passed.
            allow_past=True,
            told=(),
        )

    def is_at_risk(self, activation: Any) -> bool:
        """At risk and still waiting for its case: a duplicate closed into an open case is at risk but decided."""
        report = _fresh_report(activation)
        return bool(report.at_risk) and not report.is_decided

    def open_or_attach_case(self, activation: Any) -> None:
        report = _fresh_report(activation)
        assert report.decided_by is not None
        report_case_open(report=report, by=report.decided_by)

    def wants_feedback(self, activation: Any) -> bool:
        return _fresh_report(activation).feedback_requested

    def feedback_owner(self, activation: Any) -> User:
        return report_feedback_owner(_fresh_report(activation))

    def feedback_due(self, activation: Any) -> TaskDue:
        """30 days from the receipt, for its owner; on the case when the report led to an open one."""
        report = _fresh_report(activation)
        case = report.case if report.case is not None and report.case.is_open else None
        return TaskDue(
            at=due_dates.feedback_due(report.received_at),
            municipality=report.municipality,
            case=case,
            reference=report.reference,
            allow_past=True,
            actor_id=report.decided_by_id,
        )

    # --- Hooks of workflows.tasks: taking a queue task and giving it back ----------------------------------------

    def task_taken(self, task: Any, user: User) -> None:
        if task.flow_task is self.triage:
            report_triage_take(report=self.report_of(task), by=user)

    def task_released(self, task: Any, user: User) -> None:
        if task.flow_task is self.triage:
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
