"""Warnings and escalations for open deadlines: what ``check_deadlines`` runs every minute.

For each open deadline (not done; on an open case or on no case), at the run's ``now``, with the authority's
``AuthoritySettings`` (or the defaults):

1. **due soon** — within ``due_soon_days`` times 24 hours of ``due_at``: the owner gets ``task_due_soon``;
2. **overdue** — ``now > due_at``: the owner gets ``task_overdue`` (a row already overdue gets no due-soon notice);
3. **to the coordinator** — overdue by more than ``escalation_grace_days``: the case's coordinator gets
   ``escalation``. When there is no other coordinator to tell (no case, the owner *is* the coordinator, a shared
   queue, an inactive coordinator) this step goes to the supervisors instead, at this time;
4. **to the supervisors** — overdue by more than twice the grace: every acting supervisor of the authority (its
   active supervisors and the deputies of those away, ``acting_supervisor_ids``) gets ``escalation``, urgent.

A shared-queue deadline (no owner) tells the authority's supervisors at steps 1 and 2 too — unless an organisation
owns it (a plan action of a school, a practice or a service waiting in its queue): then its people on the case's team
are told at steps 1 and 2, and the coordinator and the supervisors at steps 3 and 4 as for an owned task. Nobody is
told twice about the same row (the owner is left out of the supervisors' list; an inactive person is told nothing).
A run that missed earlier ones catches up: every step whose time has come goes out, once.

Exactly once: each step's stamp (``due_soon_notified_at`` …) is written in the transaction that writes its
notifications, and the rows are read with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two schedulers never
notify about the same row (one skips what the other holds, and a row the other has just stamped no longer matches
the filter when re-checked). SQLite runs the transactions one at a time anyway (``transaction_mode=IMMEDIATE``).

Cost: the SQL filter selects exactly the rows with a step due (one OR-branch per distinct pair of settings), so a
run over rows that need nothing is two SELECTs whatever their number. Per batch (``batch_size`` rows, in their own
short transaction): one SELECT of the rows, one SELECT of the supervisors if any step needs them (and one of an
owning organisation's team members if any step needs them), one INSERT per
notified step and at most four UPDATEs for the stamps.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from casework.models import CaseStatus, TeamMembership
from casework.selectors.accounts import acting_supervisor_ids
from notifications.models import Kind as NotificationKind
from notifications.services import notify_many
from workflows.models import AuthoritySettings, Deadline

logger = logging.getLogger("workflows.deadlines")

OBJECT_TYPE = "workflows.deadline"
DEFAULT_BATCH_SIZE = 1000


class Step(StrEnum):
    """The notices a deadline can give, in order; the value is the stamp column it sets."""

    DUE_SOON = "due_soon_notified_at"
    OVERDUE = "overdue_notified_at"
    COORDINATOR = "escalated_to_coordinator_at"
    SUPERVISORS = "escalated_to_supervisor_at"


@dataclass(frozen=True)
class Thresholds:
    due_soon: datetime.timedelta
    grace: datetime.timedelta

    @classmethod
    def of(cls, settings: AuthoritySettings) -> Thresholds:
        return cls(
            due_soon=datetime.timedelta(days=settings.due_soon_days),
            grace=datetime.timedelta(days=settings.escalation_grace_days),
        )


DEFAULT_THRESHOLDS = Thresholds.of(AuthoritySettings())


@dataclass
class CheckResult:
    """Counts of one run: steps taken (a step with nobody to tell still counts, and is stamped) and rows written."""

    due_soon: int = 0
    overdue: int = 0
    to_coordinator: int = 0
    to_supervisors: int = 0
    notifications: int = 0
    batches: int = 0

    def summary(self) -> str:
        return (
            f"Deadlines: {self.due_soon} due soon, {self.overdue} overdue, {self.to_coordinator} escalated to the "
            f"coordinator, {self.to_supervisors} to the supervisors; {self.notifications} notification(s)."
        )


def steps_due(
    *,
    now: datetime.datetime,
    due_at: datetime.datetime,
    thresholds: Thresholds,
    due_soon_notified: bool,
    overdue_notified: bool,
    coordinator_escalated: bool,
    supervisors_escalated: bool,
) -> list[Step]:
    """The steps whose time has come and which have not been taken (the rules of the module docstring). Whether the
    grace step goes to the coordinator or the supervisors is the caller's choice (``Step.COORDINATOR`` here)."""
    if now <= due_at:
        soon = bool(thresholds.due_soon) and now >= due_at - thresholds.due_soon
        return [Step.DUE_SOON] if soon and not (due_soon_notified or overdue_notified) else []
    steps = [] if overdue_notified else [Step.OVERDUE]
    if supervisors_escalated:
        return steps
    if now > due_at + 2 * thresholds.grace:
        if not coordinator_escalated:
            steps.append(Step.COORDINATOR)
        steps.append(Step.SUPERVISORS)
    elif now > due_at + thresholds.grace and not coordinator_escalated:
        steps.append(Step.COORDINATOR)
    return steps


def _pending(now: datetime.datetime, thresholds: Thresholds) -> Q:
    """SQL for "``steps_due`` is not empty" with these thresholds (kept exactly equal: a wider filter would read rows
    every minute for nothing, a narrower one would miss notices)."""
    pending = Q(due_at__lt=now, overdue_notified_at__isnull=True)
    if thresholds.due_soon:
        pending |= Q(
            due_at__gte=now,
            due_at__lte=now + thresholds.due_soon,
            due_soon_notified_at__isnull=True,
            overdue_notified_at__isnull=True,
        )
    pending |= Q(
        due_at__lt=now - thresholds.grace,
        escalated_to_coordinator_at__isnull=True,
        escalated_to_supervisor_at__isnull=True,
    )
    pending |= Q(due_at__lt=now - 2 * thresholds.grace, escalated_to_supervisor_at__isnull=True)
    return pending


def _settings_by_municipality() -> dict[int, Thresholds]:
    return {
        row.municipality_id: Thresholds.of(row)
        for row in AuthoritySettings.objects.only("municipality_id", "due_soon_days", "escalation_grace_days")
    }


def _due_filter(now: datetime.datetime, custom: dict[int, Thresholds]) -> Q:
    """One branch per distinct pair of thresholds; authorities without a row (or with the defaults) share one."""
    groups: dict[Thresholds, list[int]] = defaultdict(list)
    for municipality_id, thresholds in custom.items():
        if thresholds != DEFAULT_THRESHOLDS:
            groups[thresholds].append(municipality_id)
    other_ids = [municipality_id for ids in groups.values() for municipality_id in ids]
    condition = _pending(now, DEFAULT_THRESHOLDS) & ~Q(municipality_id__in=other_ids)
    for thresholds, ids in groups.items():
        condition |= _pending(now, thresholds) & Q(municipality_id__in=ids)
    return condition


_ROW_FIELDS = (
    "id",
    "due_at",
    "municipality_id",
    "owner_id",
    "owner__is_active",
    "owner_organisation_id",
    "case_id",
    "case__reference",
    "case__coordinator_id",
    "case__coordinator__is_active",
    "reference",
    "due_soon_notified_at",
    "overdue_notified_at",
    "escalated_to_coordinator_at",
    "escalated_to_supervisor_at",
)


def _lock(queryset: Any) -> Any:
    """Rows another scheduler holds are skipped (PostgreSQL); only the deadline rows are locked, not the joined case
    or users. SQLite has no row locks: its IMMEDIATE transactions serialise the schedulers."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(no_key=True, skip_locked=True, of=("self",))
    return queryset


def _supervisors(municipality_ids: Iterable[int], now: datetime.datetime) -> dict[int, list[int]]:
    """The acting supervisors of each authority at the run's ``now`` (their deputies included while a cover is in
    force): ``casework.selectors.accounts.acting_supervisor_ids``, one query."""
    return acting_supervisor_ids(municipality_ids, at=now)


def _organisation_members(rows: Iterable[dict[str, Any]]) -> dict[tuple[Any, int], list[int]]:
    """The active current team members of each (case, owning organisation) pair of ``rows``: one query."""
    pairs = {(row["case_id"], row["owner_organisation_id"]) for row in rows}
    condition = Q()
    for case_id, organisation_id in pairs:
        condition |= Q(case_id=case_id, user__organisation_id=organisation_id)
    found: dict[tuple[Any, int], list[int]] = defaultdict(list)
    members = (
        TeamMembership.objects.current()
        .filter(condition, user__is_active=True)
        .order_by("user_id")
        .values_list("case_id", "user__organisation_id", "user_id")
    )
    for case_id, organisation_id, user_id in members:
        found[(case_id, organisation_id)].append(user_id)
    return found


@dataclass
class _Notice:
    row: dict[str, Any]
    step: Step
    kind: str
    to_supervisors: bool
    recipients: list[int] = field(default_factory=list)
    #: Steps 1 and 2 of an organisation's item: its people on the case's team.
    to_organisation: bool = False


def _plan(row: dict[str, Any], now: datetime.datetime, thresholds: Thresholds) -> list[_Notice]:
    owner_id = row["owner_id"] if row["owner_id"] is not None and row["owner__is_active"] else None
    organisation = row["owner_id"] is None and row["owner_organisation_id"] is not None and row["case_id"] is not None
    shared = row["owner_id"] is None and not organisation
    coordinator_id = row["case__coordinator_id"]
    other_coordinator = (
        coordinator_id is not None
        and not shared
        and coordinator_id != row["owner_id"]
        and bool(row["case__coordinator__is_active"])
    )
    notices = []
    for step in steps_due(
        now=now,
        due_at=row["due_at"],
        thresholds=thresholds,
        due_soon_notified=row["due_soon_notified_at"] is not None,
        overdue_notified=row["overdue_notified_at"] is not None,
        coordinator_escalated=row["escalated_to_coordinator_at"] is not None,
        supervisors_escalated=row["escalated_to_supervisor_at"] is not None,
    ):
        if step in (Step.DUE_SOON, Step.OVERDUE):
            kind = NotificationKind.TASK_DUE_SOON if step == Step.DUE_SOON else NotificationKind.TASK_OVERDUE
            notice = _Notice(row, step, kind, to_supervisors=shared, to_organisation=organisation)
            if owner_id is not None:
                notice.recipients.append(owner_id)
            notices.append(notice)
        elif step == Step.COORDINATOR and other_coordinator:
            notices.append(_Notice(row, step, NotificationKind.ESCALATION, False, [coordinator_id]))
        elif not any(n.step == Step.SUPERVISORS for n in notices):
            # The supervisors' step, or the coordinator's when there is no other coordinator to tell.
            notices.append(_Notice(row, Step.SUPERVISORS, NotificationKind.ESCALATION, to_supervisors=True))
    return notices


def _run_batch(
    *,
    now: datetime.datetime,
    condition: Q,
    after: tuple[datetime.datetime, int] | None,
    batch_size: int,
    custom: dict[int, Thresholds],
    result: CheckResult,
) -> tuple[int, tuple[datetime.datetime, int] | None]:
    """One short transaction: lock up to ``batch_size`` rows after the keyset ``after``, notify, stamp."""
    with transaction.atomic():
        queryset = (
            Deadline.objects.open()
            .filter(Q(case__isnull=True) | Q(case__status=CaseStatus.OPEN))
            .filter(condition)
            .order_by("due_at", "id")
        )
        if after is not None:
            queryset = queryset.filter(Q(due_at__gt=after[0]) | Q(due_at=after[0], id__gt=after[1]))
        rows = list(_lock(queryset).values(*_ROW_FIELDS)[:batch_size])
        if not rows:
            return 0, after
        notices = [
            notice for row in rows for notice in _plan(row, now, custom.get(row["municipality_id"], DEFAULT_THRESHOLDS))
        ]
        needing_supervisors = {n.row["municipality_id"] for n in notices if n.to_supervisors}
        supervisors = _supervisors(needing_supervisors, now) if needing_supervisors else {}
        owning = [n.row for n in notices if n.to_organisation]
        organisation_members = _organisation_members(owning) if owning else {}
        stamped: dict[Step, list[int]] = defaultdict(list)
        for notice in notices:
            row = notice.row
            if notice.to_organisation:
                notice.recipients += organisation_members.get((row["case_id"], row["owner_organisation_id"]), [])
            if notice.to_supervisors:
                # The owner (a supervisor with an overdue task of their own) already heard as the owner.
                notice.recipients += [s for s in supervisors.get(row["municipality_id"], []) if s != row["owner_id"]]
                if not notice.recipients:
                    logger.warning(
                        "check_deadlines: deadline %s (authority %s) has no active supervisor to tell",
                        row["id"],
                        row["municipality_id"],
                    )
            written = notify_many(
                recipient_ids=notice.recipients,
                kind=notice.kind,
                case_id=row["case_id"],
                case_reference=row["case__reference"] or row["reference"],
                object_type=OBJECT_TYPE,
                object_id=row["id"],
                urgent=notice.step == Step.SUPERVISORS,
            )
            result.notifications += len(written)
            stamped[notice.step].append(row["id"])
        for step, ids in stamped.items():
            Deadline.objects.filter(pk__in=ids).update(**{step.value: now})
        result.due_soon += len(stamped[Step.DUE_SOON])
        result.overdue += len(stamped[Step.OVERDUE])
        result.to_coordinator += len(stamped[Step.COORDINATOR])
        result.to_supervisors += len(stamped[Step.SUPERVISORS])
        result.batches += 1
        last = rows[-1]
        return len(rows), (last["due_at"], last["id"])


def deadlines_check(*, now: datetime.datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> CheckResult:
    """Give every due warning and escalation once (see the module docstring). Idempotent: a second run at the same
    time sends nothing. Runs its own transactions (one per batch); call it outside ``transaction.atomic``."""
    now = now or timezone.now()
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    custom = _settings_by_municipality()
    condition = _due_filter(now, custom)
    result = CheckResult()
    after: tuple[datetime.datetime, int] | None = None
    while True:
        count, after = _run_batch(
            now=now, condition=condition, after=after, batch_size=batch_size, custom=custom, result=result
        )
        if count < batch_size:
            return result
