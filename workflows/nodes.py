"""Flow nodes of our own: a human task whose claim and completion rules come from our policy and which declares its
page, a split with one branch per chosen item (a team member asked for an input), and a join that counts cancelled
branches as arrived.

viewflow's transitions check nothing when called from code (``activation.assign(user)`` succeeds for anyone), and its
own rules ask django's generic permissions, which know nothing of authorities, cases or reports. ``PolicyView`` asks
the flow instead: ``may_work(user, task)`` is a method of the flow that consults ``permissions`` for the domain row
the process is about. ``workflows.tasks`` calls these checks before every transition, outside the transaction (so a
refusal is audited and committed), and again under the process lock.

A ``PolicyView`` is also the one place that says what its task *is* for the rest of the application: its page, its
label, its type in the inbox's filter and its deadline. The task router, the inbox, the case's process page and the
demo read them from the flow classes (``workflows.graph``), so renaming or adding a node cannot leave a page behind.

Only viewflow's plain engine nodes are used (``viewflow.workflow.nodes``): none of its stock views or URLs are mounted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, cast

from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from viewflow import this
from viewflow.workflow import nodes
from viewflow.workflow.activation import Activation
from viewflow.workflow.base import Node
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.models import Task
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.func import FunctionActivation
from viewflow.workflow.nodes.if_gate import IfActivation
from viewflow.workflow.nodes.join import JoinActivation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.status import STATUS

from casework.models import User
from workflows.services.tasks import TaskDue, task_opened

#: Statuses of a task somebody still has to work on (the one definition: transitions, flows, pages and the demo).
OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)

MayWork = Callable[[User, Any], bool]
#: A task page: renders the task (GET) and completes it (POST), given the viewer and the task ``access_task_by_id``
#: returned.
TaskPage = Callable[[HttpRequest, User, Any], HttpResponse]
#: When a task that just opened is due (a method of the flow, given the activation).
DueDate = Callable[[Any], TaskDue]


class PolicyView(nodes.View):
    """A human task (a page of ours in ``workflows.views``), claimable from a team queue when ``queue`` is set.

    Who may work on it:

    * ``may_work(user, task)``: whether ``user`` may see, take and complete the task at all (e.g. a supervisor of the
      report's authority). Resolved from a ``this.`` reference on the flow.
    * Taking (assign): the task is free, it is a queue task, and ``may_work``.
    * Giving back (unassign): a queue task that is taken; by its owner, or by another who ``may_work`` (a supervisor
      covering for an absent colleague).
    * Completing (execute): the owner, and still ``may_work`` (a supervisor who moved away no longer completes it).

    What it is (all required, checked by ``workflows.graph.node_problems`` and a test that walks every flow):

    * ``label``: what people call the task (``gettext_lazy``, sentence case): its title in the inbox, on its page, in
      the process page's steps and in the chart.
    * ``page``: the dotted path of the view function that renders and completes it (a :data:`TaskPage`), resolved
      when a task is opened — a path, so that flows never import views.
    * ``inbox_type``: its slug in the inbox's task-type filter (``?type=…``; a URL contract, so not the node's name).
    * ``deadline`` and ``due``: the kind of deadline (``workflows.models.DeadlineKind``) and the flow's method that
      says when the new task is due (a :class:`~workflows.services.tasks.TaskDue`). The node's body is then one
      call, ``workflows.services.tasks.task_opened``, when viewflow creates the task. A task with no deadline
      declares neither.

    Its place on the case's process page is its place in the graph (:func:`walk`): nothing to number by hand.
    """

    def __init__(
        self,
        *,
        may_work: MayWork | Any,
        label: str | Promise,
        page: str,
        inbox_type: str,
        queue: bool = False,
        deadline: str | None = None,
        due: DueDate | Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(view=None, **kwargs)
        self._may_work = may_work
        self.queue = queue
        self.label = label
        self.page = page
        self.inbox_type = inbox_type
        self.deadline = deadline
        self._due = due
        self.Annotation(title=label)

    def _resolve(self, instance: Any) -> None:
        super()._resolve(instance)
        self._may_work = this.resolve(instance, self._may_work)
        self._due = this.resolve(instance, self._due)
        # Set here, on the flow's own copy of the node (viewflow copies class attributes when it builds the flow).
        self._on_create = self._opened if self.deadline is not None else None

    def onCreate(self, ref: Any) -> PolicyView:
        """Not used: the body of a ``PolicyView`` is ``task_opened``, driven by its ``deadline`` and ``due``."""
        raise TypeError(f"{self.name}: declare deadline= and due= instead of onCreate")

    def _opened(self, activation: Any) -> None:
        task_opened(task=activation.task, kind=str(self.deadline), due=self._due(activation))

    def page_view(self) -> TaskPage:
        """The view function of the task's page (``page`` imported; Python caches the module)."""
        view: TaskPage = import_string(self.page)
        return view

    def assigned_with(self, rule: Any) -> bool:
        """Whether the task is assigned on creation by ``rule`` (a method of the flow, e.g. ``coordinator_of``)."""
        return bool(this.resolve(self.flow_class.instance, self._owner) == rule)

    def may_work(self, user: User, task: Any) -> bool:
        return bool(user.is_authenticated and user.is_active and self._may_work(user, task))

    def can_assign(self, user: User, task: Any) -> bool:
        return self.queue and task.owner_id is None and self.may_work(user, task)

    def can_unassign(self, user: User, task: Any) -> bool:
        return self.queue and task.owner_id is not None and self.may_work(user, task)

    def can_execute(self, user: User, task: Any) -> bool:
        return task.owner_id is not None and task.owner_id == user.pk and self.may_work(user, task)


def walk(flow_class: Any) -> list[Node]:
    """The flow's nodes in the order of its graph: breadth first from its start along the outgoing edges (an ``If``
    its "then" before its "else"), then any node nothing leads to (an end reached only by cancelling) by name.
    viewflow itself keeps nodes in alphabetical order."""
    every = sorted(flow_class.instance.nodes(), key=lambda node: node.name)
    queue = deque(node for node in every if isinstance(node, (nodes.Start, nodes.StartHandle)))
    seen: dict[Node, None] = {}
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen[node] = None
        queue.extend(edge.dst for edge in node._outgoing())
    return [*seen, *(node for node in every if node not in seen)]


def human_nodes(flow_class: Any) -> list[PolicyView]:
    """The flow's human tasks (``PolicyView`` nodes) in the order of its graph."""
    return [node for node in walk(flow_class) if isinstance(node, PolicyView)]


Items = Callable[[Any], list[dict[str, Any]]]


class EachSplitActivation(SplitActivation):
    """Creates one task of the split's single branch per item its ``items(activation)`` returns, the item as the
    task's ``data`` (viewflow's own cookbook pattern, ``DynamicSplitActivation``, for 2.x)."""

    @Activation.status.super()
    def activate(self) -> None:
        branches = self.flow_task._branches
        if len(branches) != 1:
            raise FlowRuntimeError(f"{self.flow_task.name} needs exactly one branch")
        node = branches[0][0]
        items = self.flow_task.items(self)
        if not items:
            raise FlowRuntimeError(f"{self.flow_task.name}: nothing to split into")
        self.next_tasks = [(node, dict(item)) for item in items]


class EachSplit(nodes.Split):
    """A parallel split into one instance of one node per item, e.g. one input task per chosen team member.

    viewflow's ``Split`` has fixed branches (its ``data_source`` argument does not work in 2.4, STACK.md). The items
    come from the flow (``items=this.method``, called with the activation); each becomes the ``data`` of its task,
    so the task's node can find its owner and its domain row there. Follow it with an :class:`AllBranchesJoin`.
    """

    activation_class = EachSplitActivation

    def __init__(self, *, items: Items | Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._items = items

    def _resolve(self, instance: Any) -> None:
        super()._resolve(instance)
        self._items = this.resolve(instance, self._items)

    def items(self, activation: Any) -> list[dict[str, Any]]:
        return list(self._items(activation))


class AllBranchesJoinActivation(JoinActivation):
    """viewflow's join leaves cancelled incoming tasks out when it works out which split it closes; a branch of ours
    can be cancelled (the member left the team) and still be the one that reaches the join, so it counts here."""

    def _join_token_prefixes(self) -> set[str]:
        # Asked three times as the join completes (its condition when the next step is checked, again when the
        # transition runs, and in the body): the arrived branches do not change in between, so read them once.
        memo: set[str] | None = self.__dict__.get("_prefixes")
        if memo is None:
            memo = {
                prev.token.get_common_split_prefix(self.task.token, prev.pk)
                for prev in self.task.previous.exclude(status=STATUS.REVIVED)
            }
            self._prefixes = memo
        return set(memo)

    def is_done(self) -> bool:
        """viewflow's condition, once per activation (see ``_join_token_prefixes``)."""
        memo: bool | None = self.__dict__.get("_done")
        if memo is None:
            memo = bool(super().is_done())
            self._done = memo
        return memo


class AllBranchesJoin(nodes.Join):
    """Waits until every branch of the split is done or cancelled. Cancelling a branch from code does not wake a
    join: the canceller calls :func:`branch_cancelled` under the flow's lock."""

    activation_class = AllBranchesJoinActivation


def branch_cancelled(join: AllBranchesJoin, task: Any) -> None:
    """After ``task`` (a branch towards ``join``) was cancelled: let it reach the join, and if no branch is still
    open, complete the join and run the nodes after it — as a completed branch would. Call under the flow's lock,
    inside the transaction that cancelled the task."""
    task_class = join.flow_class.task_class
    join_task = task_class._default_manager.filter(
        process_id=task.process_id, flow_task=join, status__in=[STATUS.NEW, STATUS.STARTED]
    ).first()
    if join_task is None:
        activation = join.activation_class.create(join, task.flow_task.activation_class(task), task.token)
    else:
        join_task.previous.add(task)
        activation = join.activation_class(join_task)
    if activation.activate.can_proceed():
        activation.activate()
    if activation.complete.can_proceed():
        activation.complete()
        activation.activate_next()


# --- Gateways, functions and ends: one INSERT instead of an INSERT and an UPDATE ----------------------------------
# viewflow inserts every node's task when the node is reached and updates it when the node completes. An If, a
# Function and an End complete in the same step they are reached (their body is a condition, a service call or the
# process's end), so the task is written once, when it completes (or fails), with its link to the task before it.


class InsertOnCompleteActivation:
    """Mixin for the activation of a node that completes as soon as it is reached: its task is built in memory when
    the node is reached and inserted by the activation's own save on completion (``Activation.complete``, or the
    exception guard's ``ERROR``); the link to the previous task follows the insert (:func:`_link_previous`)."""

    @classmethod
    def create(cls, flow_task: Any, prev_activation: Any, token: Any, data: Any = None, seed: Any = None) -> Any:
        task = flow_task.flow_class.task_class(process=prev_activation.process, flow_task=flow_task, token=token)
        task.data = data if data is not None else {}
        task.seed = seed
        task._previous_on_insert = prev_activation.task
        return cast(Any, cls)(task)  # the activation class this mixes into takes the task

    # The task has no primary key until it completes: activations are told apart by identity (viewflow keeps the
    # next activations in a set, and a model without a key cannot be hashed).
    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def _link_previous(sender: type, instance: Any, created: bool = False, **kwargs: Any) -> None:
    previous = instance.__dict__.pop("_previous_on_insert", None)
    if created and previous is not None:
        instance.previous.add(previous)


post_save.connect(_link_previous, sender=Task, dispatch_uid="workflows.nodes.link_previous")


class LeanIfActivation(InsertOnCompleteActivation, IfActivation):
    pass


class LeanFunctionActivation(InsertOnCompleteActivation, FunctionActivation):
    pass


class LeanEndActivation(InsertOnCompleteActivation, EndActivation):
    pass


class If(nodes.If):
    """viewflow's ``If``, its task written once (:class:`InsertOnCompleteActivation`)."""

    activation_class = LeanIfActivation


class Function(nodes.Function):
    """viewflow's ``Function``, its task written once (:class:`InsertOnCompleteActivation`)."""

    activation_class = LeanFunctionActivation


class End(nodes.End):
    """viewflow's ``End``, its task written once (:class:`InsertOnCompleteActivation`)."""

    activation_class = LeanEndActivation
