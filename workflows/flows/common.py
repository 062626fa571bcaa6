"""What the flows share: the approval time and cancelling a process without running it further."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS

from workflows.nodes import OPEN_STATUSES
from workflows.services.deadlines import deadline_done_for_task

#: The supervisors approve a submitted plan or a closure proposal within this time (local practice, not law).
APPROVAL_TIME = datetime.timedelta(days=5)


def cancel_process(process: Any) -> int:
    """Cancel a process's open tasks (their deadlines done) and the process itself, without running any node
    further. The caller holds the flow's lock inside a transaction. Returns how many tasks were cancelled."""
    cancelled = 0
    open_tasks = Task.objects.filter(process_id=process.pk, status__in=OPEN_STATUSES)
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
