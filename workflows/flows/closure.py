"""``ClosureFlow`` — the coordinator's proposal to close a case and a supervisor's decision on it (four eyes: never the
proposer; docs/adr/0008-plan-approval-review-closure.md)::

    start (closure proposed) ─► approve closure (the supervisors' queue) ─► end

Started from code when the proposal is written (``casework.services.closure_request``), in its transaction;
withdrawing the proposal cancels the approval task (:func:`closure_flow_withdrawn`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import nodes
from viewflow.workflow.base import Flow

from casework.models import (
    Case,
    ClosureRequest,
    ClosureStatus,
    User,
)
from casework.selectors.accounts import supervisor_ids
from permissions.policy import Subject, may_decide_closure
from workflows.deadlines import working_deadline
from workflows.flows.common import APPROVAL_TIME, cancel_process
from workflows.locks import ProcessRowLock
from workflows.models import DeadlineKind
from workflows.nodes import End, PolicyView
from workflows.processes import ClosureProcess
from workflows.services.tasks import TaskDue


class ClosureFlow(Flow):
    """Closure (ukončení)

    The coordinator's proposal to close the case, and a supervisor's decision: four eyes, never the proposer.
    """

    process_class = ClosureProcess
    lock_impl = ProcessRowLock()
    process_title = _("Closure of the case")

    start = nodes.StartHandle(this.start_process).Annotation(title=_("Closure proposed")).Next(this.approve_closure)
    approve_closure = PolicyView(
        may_work=this.may_decide,
        queue=True,
        label=_("Approve the closure of the case"),
        page="workflows.views.plan_tasks.approve_closure",
        inbox_type="closure_approval",
        deadline=DeadlineKind.CLOSURE_APPROVAL,
        due=this.approval_due,
    ).Next(this.end)
    end = End().Annotation(title=_("Decided"))

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
            and may_decide_closure(
                Subject.from_user(user),
                municipality_id=request.case.municipality_id,
                proposed_by_id=request.requested_by_id,
            )
        )

    def start_process(self, activation: Any, request: ClosureRequest) -> Any:
        activation.process.request = request
        return activation.process

    def approval_due(self, activation: Any) -> TaskDue:
        """The supervisors' queue: within ``APPROVAL_TIME``; every supervisor but the proposer is told."""
        request = ClosureRequest.objects.select_related("case", "case__municipality").get(
            pk=activation.process.request_id
        )
        case = request.case
        return TaskDue(
            at=working_deadline(timezone.localdate() + APPROVAL_TIME),
            municipality=case.municipality,
            case=case,
            told=[pk for pk in supervisor_ids(case.municipality_id) if pk != request.requested_by_id],
            actor_id=request.requested_by_id,
        )


#: Where a task's closure request sits on the task instance once loaded.
_CLOSURE_ATTR = "_closure_request"


def closure_flow_start(request: ClosureRequest) -> Any:
    """Start the approval of a closure request in the caller's transaction (on
    the ``closure_requested`` hook)."""
    return ClosureFlow.start.run(request=request)


def closure_flow_withdrawn(request: ClosureRequest) -> int:
    """A pending closure request was withdrawn: cancel its approval task (on
    the ``closure_withdrawn`` hook, in its transaction). Returns how many tasks were cancelled."""
    process = ClosureProcess.objects.filter(request_id=request.pk).first()
    if process is None:
        return 0
    with transaction.atomic(), ClosureFlow.lock(process.pk):
        return cancel_process(process)
