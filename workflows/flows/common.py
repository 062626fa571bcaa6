"""What the flows share: the approval time, cancelling a process without running it further, and the step's unit
of work (the case or report of a process, loaded once per transaction)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models.signals import post_save
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS

from casework.models import Case, Report
from casework.services.cases import case_row_locked, lock_case_row
from permissions.transactions import (
    forget_in_transaction,
    forget_rows,
    once_per_transaction,
    peek_in_transaction,
    remember_in_transaction,
    replace_rows,
    unit_of_work_open,
)
from workflows.locks import process_created
from workflows.nodes import OPEN_STATUSES
from workflows.processes import ActionProcess, CaseProcess, ClosureProcess, ReportProcess
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


# --- The step's unit of work -------------------------------------------------------------------------------------
# A step runs several nodes (their due dates, assignees, gateways) and access checks that each need the process's
# case or report: loaded once per transaction (``permissions.transactions.once_per_transaction``) and replaced by
# the saved object when a node saves the row, so a node still sees what an earlier one wrote.


def case_of_process(process_id: Any) -> Case:
    """The case of a ``CaseProcess`` (with its authority and coordinator and their organisation), once per
    transaction."""
    return once_per_transaction(
        ("case of process", process_id),
        # The coordinator's organisation too: the new tasks' owner checks (``Subject.from_user``) ask for it.
        lambda: Case.objects.select_related("municipality", "coordinator__organisation").get(
            pk=CaseProcess.objects.filter(pk=process_id).values("case_id")[:1]
        ),
    )


def locked_case_of_process(process: Any) -> Case:
    """The process's case under its row lock (FOR NO KEY UPDATE on the case table only), for the rest of the step.
    When the step has not read the case yet, the statement that locks it loads it (the step's copy from then on,
    ``case_of_process``) and ``lock_case_row`` is not asked again; otherwise the row is locked (once) and the step's
    copy kept. Lock order as before: the flow's process row (the step's lock) first, then the case."""
    key = ("case of process", process.pk)
    if unit_of_work_open() and peek_in_transaction(key) is None:
        case = (
            Case.objects.select_for_update(no_key=True, of=("self",))
            .select_related("municipality", "coordinator__organisation")
            .get(pk=process.case_id)
        )
        remember_in_transaction(key, case)
        case_row_locked(case.pk)
        return case
    lock_case_row(process.case_id)
    return case_of_process(process.pk)


def report_of_process(process_id: Any) -> Report:
    """The report of a ``ReportProcess`` (with its authority, case and who decided it), once per transaction."""
    return once_per_transaction(
        ("report of process", process_id),
        lambda: Report.objects.select_related(
            "municipality", "case", "case__coordinator__organisation", "decided_by__organisation"
        ).get(pk=ReportProcess.objects.filter(pk=process_id).values("report_id")[:1]),
    )


def _saved(sender: type, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    # The object just saved is the step's copy from now on: a later node sees what this one wrote without reading
    # the row back. A partial save (``update_fields``) of an object loaded in this step is as fresh.
    replace_rows(sender, instance.pk, instance)
    if sender is Report:
        # A whole row written (a triage's locked copy): the gateways after it read it from here (saved_report).
        if update_fields is None:
            remember_in_transaction(_saved_report_key(instance.pk), instance)
        else:
            forget_in_transaction(_saved_report_key(instance.pk))


def _saved_report_key(report_id: object) -> tuple[str, object]:
    return ("report saved whole", report_id)


def saved_report(report_id: object) -> Report | None:
    """The report this transaction has written whole (all its fields), if it has: as fresh as the row."""
    return peek_in_transaction(_saved_report_key(report_id)) if report_id is not None else None


post_save.connect(_saved, sender=Case, dispatch_uid="workflows.unit_of_work.case")
post_save.connect(_saved, sender=Report, dispatch_uid="workflows.unit_of_work.report")


def _remember_started_for(process: Any) -> None:
    """The case or report a process was just started for is this transaction's own copy (with its authority, and
    the case's coordinator): the first nodes read it from the unit of work instead of loading it again."""
    if isinstance(process, CaseProcess) and CaseProcess.case.is_cached(process):
        remember_in_transaction(("case of process", process.pk), process.case)
    elif isinstance(process, ReportProcess) and ReportProcess.report.is_cached(process):
        remember_in_transaction(("report of process", process.pk), process.report)


def _process_saved(sender: type, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created:
        process_created(instance.pk)
        _remember_started_for(instance)
    else:
        forget_rows(sender, instance.pk)  # a lock taken again in this transaction reads the row again


for _process_class in (ReportProcess, CaseProcess, ActionProcess, ClosureProcess):
    post_save.connect(
        _process_saved, sender=_process_class, dispatch_uid=f"workflows.unit_of_work.created.{_process_class.__name__}"
    )
