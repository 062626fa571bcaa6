"""Setting, finishing and reassigning deadlines (one ``Deadline`` row per due item, DESIGN invariant 6).

Keyword-only, one transaction each (inside a caller's, e.g. a flow node's, no savepoint: ``step_atomic``), field-level
``ValidationError`` with nothing written. Compute ``due_at`` with ``workflows.deadlines`` (``ipod_due``,
``feedback_due``, ``triage_due``, ``review_due``), never by hand.

These services do not notify: the service that creates or reassigns the *work* (the task) writes the
``task_assigned`` notification, so a person hears once per change. Warnings and escalations are
``check_deadlines``'s job (``workflows.services.escalation``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import Case, Municipality, Organisation, User
from casework.services.validation import add_error as _add
from permissions.access import load_case_access
from permissions.policy import may_hold_authority_work
from permissions.transactions import step_atomic
from workflows.models import Deadline, DeadlineKind

REFERENCE_MAX = 24


def _check_owner(
    errors: dict[str, list[str]],
    owner: User | None,
    *,
    case: Case | None,
    municipality_id: int,
    proven: bool = False,
) -> None:
    """An owner must be able to act on the item: on a case, someone who may open it today (its coordinator, a
    current team member, a supervisor of the authority); without a case, OSPOD staff of the authority. ``None`` is
    the authority's shared queue. ``proven``: the caller has just checked that the owner is on the case's team in
    this transaction; only the account's state is checked again."""
    if owner is None:
        return
    if not owner.is_active:
        _add(errors, "owner", _("This person's account is not active."))
    elif proven:
        return
    elif case is not None:
        if not load_case_access(owner, case).visible:
            _add(errors, "owner", _("This person is not on the case's team."))
    elif not may_hold_authority_work(owner, municipality_id):
        _add(errors, "owner", _("Without a case, the owner must be an OSPOD worker of this authority."))


def deadline_set(
    *,
    kind: str,
    due_at: datetime.datetime,
    owner: User | None,
    municipality: Municipality,
    case: Case | None = None,
    task: Any = None,
    reference: str = "",
    allow_past: bool = False,
    owner_organisation: Organisation | None = None,
    new_task: bool = False,
    owner_proven: bool = False,
) -> Deadline:
    """Record that ``kind`` is due at ``due_at`` for ``owner`` (``None``: the authority's supervisors' shared queue,
    or — with ``owner_organisation``, a plan action's owning organisation — that organisation's people on the case's
    team).

    ``task`` is the viewflow task it belongs to (at most one deadline per task); ``case`` the case, if there is one
    (it must be open and belong to ``municipality``); ``reference`` the number notifications show when there is no
    case (a report's number; never a name). A due date in the past is refused unless ``allow_past`` (backfilling
    demo data). ``new_task``: the task was created in this transaction, so it has no deadline yet (the one-to-one
    column still refuses a second). ``owner_proven``: the caller has just checked, in this transaction, that the
    owner is on the case's team (their access is not loaded again). Writes no notification (see the module
    docstring).
    """
    errors: dict[str, list[str]] = {}
    if kind not in DeadlineKind.values:
        _add(errors, "kind", _("Unknown kind of deadline."))
    if timezone.is_naive(due_at):
        _add(errors, "due_at", _("The due date needs a time zone."))
    elif due_at < timezone.now() and not allow_past:
        _add(errors, "due_at", _("The due date is in the past."))
    if case is not None:
        if case.municipality_id != municipality.pk:
            _add(errors, "municipality", _("The case belongs to another authority."))
        if not case.is_open:
            _add(errors, "case", _("The case is closed."))
    if len(reference) > REFERENCE_MAX:
        _add(errors, "reference", _("A reference number has at most %(max)d characters.") % {"max": REFERENCE_MAX})
    if task is not None:
        if task.finished is not None:
            _add(errors, "task", _("This task is already finished."))
        elif not new_task and Deadline.objects.filter(task=task).exists():
            _add(errors, "task", _("This task already has a deadline."))
    _check_owner(errors, owner, case=case, municipality_id=municipality.pk, proven=owner_proven)
    if owner_organisation is not None and case is None:
        _add(errors, "owner_organisation", _("An organisation owns an item only on a case."))
    if errors:
        raise ValidationError(errors)
    with step_atomic():
        deadline = Deadline(
            kind=kind,
            due_at=due_at,
            owner=owner,
            owner_organisation=owner_organisation,
            municipality=municipality,
            case=case,
            task=task,
            reference=reference,
        )
        # Field checks only: the relations and the one-per-task rule were checked above (without a query each).
        deadline.full_clean(
            exclude=["task", "case", "municipality", "owner", "owner_organisation"],
            validate_unique=False,
            validate_constraints=False,
        )
        deadline.save(force_insert=True)
    return deadline


def deadline_done(*, deadline: Deadline) -> Deadline:
    """Mark the item finished (or cancelled): it goes silent and leaves the inbox's due badges. Idempotent: a done
    deadline keeps its first ``done_at``."""
    now = timezone.now()
    with step_atomic():
        if Deadline.objects.filter(pk=deadline.pk, done_at__isnull=True).update(done_at=now):
            deadline.done_at = now
        else:
            deadline.refresh_from_db(fields=["done_at"])
    return deadline


def deadline_done_for_task(*, task: Any) -> Deadline | None:
    """``deadline_done`` for the deadline of a viewflow task, if it has one (call it when the task completes or is
    cancelled). Returns the deadline, or ``None`` when the task had none."""
    deadline = Deadline.objects.filter(task=task).first()
    return deadline_done(deadline=deadline) if deadline is not None else None


def deadline_close_for_task(*, task: Any) -> int:
    """:func:`deadline_done_for_task` in one statement, for a step that needs nothing back: how many were closed
    (0 or 1; a deadline already done keeps its first ``done_at``)."""
    return Deadline.objects.filter(task=task, done_at__isnull=True).update(done_at=timezone.now())


def deadline_reassign_for_task(*, task: Any, owner: User | None) -> Deadline | None:
    """``deadline_reassign`` for the open deadline of a viewflow task, if it has one: the deadline follows the task
    to ``owner``, who is checked. Returns the deadline, or ``None``."""
    deadline = Deadline.objects.filter(task=task, done_at__isnull=True).first()
    return deadline_reassign(deadline=deadline, owner=owner) if deadline is not None else None


def deadline_follow_task(*, task: Any, owner: User | None) -> int:
    """The open deadline of a task that was just taken from its queue or given back to it follows the task, in one
    UPDATE (the due-soon and overdue notices go out again, to the new owner, as in :func:`deadline_reassign`).

    The owner is not checked again: the task's own rule has just let ``owner`` take it (``PolicyView.can_assign``
    asks the same access as :func:`_check_owner`), and ``None`` is the queue. Returns how many rows moved (0 or 1).
    """
    return (
        Deadline.objects.filter(task=task, done_at__isnull=True)
        .exclude(owner_id=owner.pk if owner is not None else None)
        .update(owner=owner, due_soon_notified_at=None, overdue_notified_at=None)
    )


def deadline_reassign(*, deadline: Deadline, owner: User | None) -> Deadline:
    """Give the item to ``owner`` (``None``: back to the shared queue). The new owner has not been warned yet, so
    the due-soon and overdue notices are sent again, to them, on the next ``check_deadlines`` run; escalations that
    already went out stay done. Same owner again: nothing changes."""
    with step_atomic():
        locked = (
            Deadline.objects.select_for_update(no_key=True, of=("self",)).select_related("case").get(pk=deadline.pk)
        )
        errors: dict[str, list[str]] = {}
        if locked.done_at is not None:
            _add(errors, "deadline", _("This deadline is already done."))
        elif locked.owner_id != (owner.pk if owner is not None else None):
            _check_owner(errors, owner, case=locked.case, municipality_id=locked.municipality_id)
        else:
            return locked
        if errors:
            raise ValidationError(errors)
        locked.owner = owner
        locked.due_soon_notified_at = None
        locked.overdue_notified_at = None
        locked.save(update_fields=["owner", "due_soon_notified_at", "overdue_notified_at"])
    return locked
