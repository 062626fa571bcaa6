"""``ActionFlow`` — one action of an approved protection plan, in its owner's inbox until they report it done
(docs/adr/0009-conference-decisions-to-plan-actions.md)::

    start (plan approved) ─► do action (the owner; an organisation's action waits in its members' queue) ─► end

Approving a version starts one process per open action and cancels those of the case's other versions
(:func:`action_flows_for_plan`); reporting the action done completes its task (:func:`action_flow_done`); a member
leaving the team or the case closing cancels the tasks nobody can do any more.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import nodes
from viewflow.workflow.base import Flow
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from casework.models import (
    ActionStatus,
    Case,
    Plan,
    PlanAction,
    TeamMembership,
    User,
)
from casework.services.plan_actions import organisation_member_ids, team_owners
from permissions.access import load_action_facts
from permissions.policy import Subject, may_report_on_action
from workflows.deadlines import working_deadline
from workflows.flows.common import cancel_process
from workflows.locks import ProcessRowLock
from workflows.models import DeadlineKind
from workflows.nodes import OPEN_STATUSES, End, PolicyView
from workflows.processes import ActionProcess
from workflows.services.deadlines import (
    deadline_done_for_task,
    deadline_reassign_for_task,
)
from workflows.services.tasks import TaskDue


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
        PolicyView(
            may_work=this.may_report,
            queue=True,
            label=_("Plan action"),
            page="workflows.views.action_tasks.do_action",
            inbox_type="action",
            deadline=DeadlineKind.PLAN_ACTION,
            due=this.action_due,
        )
        .Assign(this.owner_of)
        .Next(this.end)
    )
    end = End().Annotation(title=_("Done"))

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
        action = self.action_of(task)
        return may_report_on_action(Subject.from_user(user), load_action_facts(user, action))

    def start_process(self, activation: Any, action: PlanAction) -> Any:
        activation.process.action = action
        return activation.process

    def owner_of(self, activation: Any) -> User | None:
        return PlanAction.objects.get(pk=activation.process.action_id).owner_user

    def action_due(self, activation: Any) -> TaskDue:
        """Due at the end of the action's day (rolled to a working day); the owner — or, for an organisation's
        action, its members on the team — are told there is a task (kind, reference and ids only)."""
        action = PlanAction.objects.select_related("plan__case", "plan__case__municipality", "owner_organisation").get(
            pk=activation.process.action_id
        )
        case = action.plan.case
        told: list[int] = []
        if action.owner_user_id is not None:
            told = [action.owner_user_id]
        elif action.owner_organisation_id is not None:
            told = organisation_member_ids(case, action.owner_organisation_id)
        return TaskDue(
            at=working_deadline(action.due_on),
            municipality=case.municipality,
            case=case,
            allow_past=True,  # an action carried into a new version may already be late
            owner_organisation=action.owner_organisation if activation.task.owner is None else None,
            told=told,
            actor_id=action.plan.approved_by_id,
        )

    def task_taken(self, task: Any, user: User) -> None:
        """Nothing to record beyond the task's owner: the deadline follows it (``workflows.tasks``)."""


#: Where a task's plan action sits on the task instance once loaded.
_ACTION_ATTR = "_plan_action"


def action_flows_for_plan(plan: Plan) -> int:
    """A version was approved: cancel the action tasks of the case's other versions and give each open action of
    this one a task in its owner's inbox (on the ``plan_approved`` hook, in the approval's
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
    organisation when it still waits in the queue (on the ``plan_action_done`` hook, in the
    report's transaction)."""
    process = ActionProcess.objects.filter(action_id=action.pk, status=PROCESS.NEW).first()
    if process is None:
        return
    with transaction.atomic(), ActionFlow.lock(process.pk):
        task = Task.objects.filter(
            process_id=process.pk, flow_task=ActionFlow.do_action, status__in=OPEN_STATUSES
        ).first()
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
            cancelled += cancel_process(process)
    return cancelled


def action_flows_member_left(membership: TeamMembership) -> int:
    """A member left the team (on the ``team_membership_ended`` hook, in its transaction): the
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
