"""Parts of the case file that other apps know, as a typed source registry, so that ``casework`` never imports
``workflows`` (DESIGN.md) while the case file still lists the open tasks on the case.

``workflows`` implements :class:`OpenTasksSource` and registers it at start-up (``WorkflowsConfig.ready``), as it does
its ``casework.lifecycle_hooks`` listener. The source answers in one query whatever the number of tasks; its rows
carry titles, owners' names and dates only (nothing sealed).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from casework.models import User


@dataclass(frozen=True)
class OpenTaskRow:
    """One open workflow task on a case: what it is, who holds it (or that it waits in a queue), when it is due."""

    task_id: int
    title: str | Promise
    owner: str
    owner_id: int | None
    created: datetime.datetime
    due_at: datetime.datetime | None
    overdue: bool


@dataclass(frozen=True)
class OpenTasks:
    rows: tuple[OpenTaskRow, ...]
    #: More rows exist than were loaded (the page links to all of them).
    more: bool


class OpenTasksSource(Protocol):
    def open_tasks(self, *, case_id: uuid.UUID, owner: User | None, limit: int | None) -> OpenTasks:
        """The case's open human tasks, overdue and soonest due first, then the oldest; only ``owner``'s when given.
        ``limit`` None: all of them. One query."""
        ...


class _Sources:
    def __init__(self) -> None:
        self._tasks: OpenTasksSource | None = None

    def register_tasks(self, source: OpenTasksSource) -> None:
        self._tasks = source

    def open_tasks(self, *, case_id: uuid.UUID, owner: User | None, limit: int | None) -> OpenTasks:
        if self._tasks is None:
            return OpenTasks(rows=(), more=False)
        return self._tasks.open_tasks(case_id=case_id, owner=owner, limit=limit)


sources = _Sources()
