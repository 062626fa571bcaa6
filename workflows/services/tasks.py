"""What happens when a human task opens: its deadline is set and the people who should act are told.

One service for every node (``workflows.nodes.PolicyView`` calls it as the node's body when viewflow creates the
task), driven by what the node declares: the kind of deadline and a due-date function of the flow that returns a
:class:`TaskDue`. Runs inside the flow step's transaction (no savepoint of its own: ``step_atomic``): a failure rolls
the step back whole, the task included.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from casework.models import Case, Municipality, Organisation
from notifications.models import Kind as NotificationKind
from notifications.services import notify_many
from permissions.transactions import step_atomic
from workflows.models import Deadline
from workflows.services.deadlines import deadline_set

#: The object type of tasks in notifications (viewflow's app label is "viewflow").
TASK_OBJECT_TYPE = "viewflow.task"


@dataclass(frozen=True)
class TaskDue:
    """When a task that just opened is due, and on what: what a node's due-date function returns.

    ``reference`` is the report's number for a report's task (the deadline and the notification show it when there is
    no case). ``told``: who hears that there is a task — ``None`` for the task's owner, an empty tuple for nobody
    (the service that created the work already told them). ``actor_id`` is whoever caused it (never told).
    """

    at: datetime.datetime
    municipality: Municipality
    case: Case | None = None
    reference: str = ""
    allow_past: bool = False
    owner_organisation: Organisation | None = None
    told: Sequence[int] | None = None
    actor_id: int | None = None
    #: The step that created the task has just checked that its owner is on the case's team (``deadline_set``'s
    #: ``owner_proven``): their access is not loaded again.
    owner_on_team: bool = False


def task_opened(*, task: Any, kind: str, due: TaskDue) -> Deadline:
    """Give a newly created task its deadline (owned like the task: its owner, or the queue) and tell who should act
    (ids and the case's or report's reference only). Raises ``ValidationError`` from ``deadline_set``."""
    with step_atomic():
        deadline = deadline_set(
            kind=kind,
            due_at=due.at,
            owner=task.owner,
            municipality=due.municipality,
            case=due.case,
            task=task,
            reference=due.reference,
            allow_past=due.allow_past,
            owner_organisation=due.owner_organisation,
            new_task=True,
            owner_proven=due.owner_on_team,
        )
        notify_many(
            recipient_ids=[task.owner_id] if due.told is None else due.told,
            kind=NotificationKind.TASK_ASSIGNED,
            case_id=due.case.pk if due.case is not None else None,
            case_reference=due.case.reference if due.case is not None else due.reference,
            object_type=TASK_OBJECT_TYPE,
            object_id=task.pk,
            actor_id=due.actor_id,
        )
    return deadline
