"""Taking, giving back and completing human tasks — with our policy checked before every transition.

viewflow's transitions check nothing when called from code (STACK.md). Here every transition:

1. asks the task's node (``workflows.nodes.PolicyView``) whether the user may do it, **before** any transaction
   opens, so that a refusal is audited and committed (``permissions.access.record_denial``) even though nothing else
   happens — whether it came from a button or from a hand-made POST;
2. then, in one transaction under the process's row lock (``Flow.lock``), reloads the task, checks again (someone
   else may have taken it a moment ago: a field error, not a denial), runs the step's ``casework`` service and the
   viewflow transition. Split, Join, If, Function and End nodes run inside ``execute()``: a failure anywhere rolls the
   whole step back, the task included.

Views fetch tasks with :func:`access_task_by_id`: the same 404 for a task that does not exist and for one the user
may not work on (a refusal on an existing task is audited), like ``access_case_by_id`` for cases. Who may see, open,
complete a task is decided by ``permissions.policy`` (``may_see_task``, ``may_open_task_for_work``,
``may_complete_task``) from :class:`~permissions.policy.TaskFacts`; the step's own rule (the node's ``may_work``) is one
of those facts. A task the user completed themselves is not a refusal when they come back to it (a browser retry
after the response was lost): :class:`TaskAlreadyDone` sends them on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.models import User
from permissions import audit
from permissions.access import case_access_memo, record_denial
from permissions.policy import (
    Subject,
    TaskFacts,
    completed_own_task,
    holds_task,
    may_complete_task,
    may_open_task_for_work,
    may_see_task,
)
from workflows.locks import locked_process
from workflows.nodes import OPEN_STATUSES as OPEN_STATUSES  # defined with the nodes; task pages ask here
from workflows.nodes import PolicyView
from workflows.services import deadline_close_for_task, deadline_follow_task

#: The object type of tasks in the audit log (viewflow's app label is "viewflow").
TASK_OBJECT_TYPE = "viewflow.task"


def _node(task: Any) -> PolicyView:
    node = task.flow_task
    if not isinstance(node, PolicyView):
        raise Http404  # gateways, functions and viewflow's own nodes have no page of ours
    return node


def _case_id(task: Any) -> Any:
    """The case the task's process is about, for the audit row ("who accessed this case"), if the flow knows it."""
    flow = task.flow_task.flow_class.instance
    case_of = getattr(flow, "case_of", None)
    if case_of is not None:
        return case_of(task).pk
    report_of = getattr(flow, "report_of", None)
    return report_of(task).case_id if report_of is not None else None


def _refuse(user: User | None, task: Any, purpose: str) -> None:
    record_denial(user, TASK_OBJECT_TYPE, task.pk, purpose, case_id=_case_id(task))


def refuse_task(user: User | None, task: Any, purpose: str) -> PermissionDenied:
    """Audit a refused action on a task the user may see (completing one a colleague holds) and return the
    exception to raise. Call outside any transaction: the denial is committed before the refusal is answered."""
    _refuse(user, task, purpose)
    return PermissionDenied()


def task_get(*, task_id: int | str) -> Any | None:
    try:
        return Task.objects.select_related("process", "owner").filter(pk=int(task_id)).first()
    except (TypeError, ValueError):
        return None


class TaskAlreadyDone(Exception):
    """``user`` came back to a task they completed themselves (the response was lost, the write committed): nothing
    to refuse and nothing to audit; the view sends them where the completed task led."""

    def __init__(self, task: Any) -> None:
        super().__init__("task already done")
        self.task = task


def task_facts(user: User, task: Any) -> TaskFacts:
    """What the policy decides a task from; the step's rule is asked here (the node's ``may_work``)."""
    return TaskFacts(
        owner_id=task.owner_id,
        is_open=task.status in OPEN_STATUSES,
        is_done=task.status == STATUS.DONE,
        step_allows=_node(task).may_work(user, task),
    )


def access_task_by_id(user: User, task_id: int | str, *, purpose: str, for_work: bool = True) -> Any:
    """The human task, if ``user`` may work on it (its holder, or someone who may take it from the queue); otherwise
    the same 404 as for a task that does not exist. A refusal on an existing task is audited.

    ``for_work``: the task must still be open (its page, its form); one the user completed themselves raises
    :class:`TaskAlreadyDone` instead (not audited). Without it (taking a task, giving it back) the step's rule alone
    decides and the transition itself answers for the task's state.
    """
    task = task_get(task_id=task_id)
    if task is None or not isinstance(task.flow_task, PolicyView):
        raise Http404
    subject = Subject.from_user(user)
    facts = task_facts(user, task)
    if for_work and completed_own_task(subject, facts):
        raise TaskAlreadyDone(task)
    if not (may_open_task_for_work(subject, facts) if for_work else may_see_task(subject, facts)):
        _refuse(user, task, purpose)
        raise Http404
    return task


def require_task_holder(user: User, task: Any, *, purpose: str) -> None:
    """Before a task's form is acted on: only its holder submits it. A colleague who may read the page (a supervisor
    of the authority) gets an audited refusal (PermissionDenied), committed first: call outside any transaction.
    ``task`` comes from :func:`access_task_by_id`, which has already asked the step's rule."""
    if not holds_task(Subject.from_user(user), owner_id=task.owner_id):
        raise refuse_task(user, task, purpose)


def _locked(task: Any) -> tuple[Any, Any]:
    """Reload the task under the process lock (call inside the lock) and build its activation. The flow's own
    process row (a ``CaseProcess``, ``ReportProcess``…) is loaded in one query, not the base row and then its
    subclass as viewflow's activation would: the lock's own statement loaded it (``workflows.locks.locked_process``)."""
    task.refresh_from_db()
    task.process = locked_process(task.flow_task.flow_class, task.process_id)
    return task, task.flow_task.activation_class(task)


def _hook(task: Any, name: str, user: User) -> None:
    hook = getattr(task.flow_task.flow_class.instance, name, None)
    if hook is not None:
        hook(task, user)


def task_claim(*, task: Any, user: User) -> Any:
    """Take a task from the team queue. Refused (audited) unless the node's policy allows; a task someone took a
    moment earlier is a field error ("task")."""
    node = _node(task)
    if not may_see_task(Subject.from_user(user), task_facts(user, task)) or not node.queue:
        _refuse(user, task, "take task")
        raise PermissionDenied
    with audit.atomic(), node.flow_class.lock(task.process_id):
        task, activation = _locked(task)
        if task.status != STATUS.NEW or not node.can_assign(user, task) or not activation.assign.can_proceed():
            raise ValidationError({"task": [_("Someone else has taken this task in the meantime.")]})
        activation.assign(user)
        deadline_follow_task(task=task, owner=user)
        _hook(task, "task_taken", user)
    return task


def task_unassign(*, task: Any, user: User) -> Any:
    """Give a taken task back to the team queue (its owner, or a colleague covering who may work on it)."""
    node = _node(task)
    if not may_see_task(Subject.from_user(user), task_facts(user, task)) or not node.queue:
        _refuse(user, task, "give task back")
        raise PermissionDenied
    with audit.atomic(), node.flow_class.lock(task.process_id):
        task, activation = _locked(task)
        if task.status != STATUS.ASSIGNED or not node.can_unassign(user, task) or not activation.unassign.can_proceed():
            raise ValidationError({"task": [_("This task is no longer taken.")]})
        activation.unassign()
        deadline_follow_task(task=task, owner=None)
        _hook(task, "task_released", user)
    return task


def task_complete(*, task: Any, user: User, work: Callable[[], object], purpose: str) -> Any:
    """Complete a task the user holds: ``work`` (the step's ``casework`` service call) and the transition run in one
    transaction under the process lock, with the nodes that follow. ``work`` raising ``ValidationError`` leaves
    everything as it was (the task stays with the user).

    A user who may not work on the task at all, or who does not hold it, is refused (audited) before anything runs.
    """
    node = _node(task)
    if not may_complete_task(Subject.from_user(user), task_facts(user, task)):
        _refuse(user, task, purpose)
        raise PermissionDenied
    with audit.atomic(), node.flow_class.lock(task.process_id):
        task, activation = _locked(task)
        # The check under the lock and the step's service ask the same access question before anything is
        # written: decided once (the nodes that follow, which write, ask afresh).
        with case_access_memo():
            if task.status != STATUS.ASSIGNED or not node.can_execute(user, task):
                raise ValidationError({"task": [_("This task is no longer yours to complete.")]})
            activation.start(None)
            work()
        deadline_close_for_task(task=task)
        activation.execute()
    return task
