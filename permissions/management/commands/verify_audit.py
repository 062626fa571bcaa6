"""``manage.py verify_audit``: recompute the audit chain and name the first broken row. Exit 0 only if intact.

The verifier lives here, next to the only command that runs it, and recomputes hashes with
:func:`permissions.audit.compute_row_hash`, so writer and verifier cannot drift apart.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Subquery, Value
from django.db.models.functions import Coalesce

from permissions.audit import compute_row_hash, hmac_key
from permissions.models import (
    CHAIN_HEAD_PK,
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    AuditVerification,
)


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the chain does not hold. ``seq``/``event_id`` are None when no single row is to blame."""

    seq: int | None
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    rows: int
    first_break: ChainBreak | None


def verify_chain(*, chunk_size: int = 2000) -> ChainReport:
    """Recompute the chain in ``seq`` order, in constant memory, and name the first row where it breaks.

    The head is read first and only rows up to its ``seq`` are walked, so writers appending meanwhile do not make a
    sound chain look broken (a row and the head move in one transaction). Rows *beyond* the head are looked for in
    one statement (one snapshot) at the end: a row appended around the head is a break.
    """
    key = hmac_key()
    head = AuditChainHead.objects.filter(pk=CHAIN_HEAD_PK).first()
    head_seq = head.seq if head else 0
    expected_seq, prev_hash, rows = 1, GENESIS_HASH, 0
    last: AuditEvent | None = None
    walked = AuditEvent.objects.filter(seq__lte=head_seq).order_by("seq").iterator(chunk_size=chunk_size)
    for event in walked:
        if event.seq != expected_seq:
            return ChainReport(rows, ChainBreak(event.seq, event.id, f"gap in seq: expected {expected_seq}"))
        if not hmac.compare_digest(event.prev_hash, prev_hash):
            return ChainReport(rows, ChainBreak(event.seq, event.id, "prev_hash mismatch: the row before it changed"))
        if not hmac.compare_digest(event.row_hash, compute_row_hash(event, key=key)):
            return ChainReport(rows, ChainBreak(event.seq, event.id, "hash mismatch: the row's content changed"))
        prev_hash, expected_seq, rows, last = event.row_hash, expected_seq + 1, rows + 1, event
    if rows != head_seq:
        return ChainReport(rows, ChainBreak(None, None, f"chain ends at seq {rows} but the head says {head_seq}"))
    if head is not None and not hmac.compare_digest(head.last_hash, prev_hash):
        reason = "the head's last_hash does not match the last row"
        return ChainReport(rows, ChainBreak(last.seq if last else None, last.id if last else None, reason))
    head_seq_now = Coalesce(Subquery(AuditChainHead.objects.filter(pk=CHAIN_HEAD_PK).values("seq")[:1]), Value(0))
    stray = AuditEvent.objects.filter(seq__gt=head_seq_now).order_by("seq").first()
    if stray is not None:
        return ChainReport(rows, ChainBreak(stray.seq, stray.id, "row beyond the chain head (appended around it)"))
    return ChainReport(rows, None)


def store_report(report: ChainReport, *, trigger: str, run_by: Any = None) -> AuditVerification:
    """Keep a run's result for the oversight page (its last scheduled result, or the one its button asked for)."""
    broken = report.first_break
    return AuditVerification.objects.create(
        trigger=trigger,
        run_by=run_by,
        rows=report.rows,
        intact=broken is None,
        broken_seq=broken.seq if broken else None,
        reason=broken.reason[:200] if broken else "",
    )


class Command(BaseCommand):
    help = "Verify the HMAC chain of the audit log; exits non-zero naming the first broken row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=2000, help="Rows fetched per batch (memory stays flat).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = verify_chain(chunk_size=options["chunk_size"])
        except ImproperlyConfigured as error:  # no or a malformed AUDIT_HMAC_KEY: one line, no traceback
            raise CommandError(str(error)) from None
        if report.first_break is None:
            self.stdout.write(f"OK: {report.rows} rows, chain intact")
            return
        broken = report.first_break
        where = f"seq={broken.seq} id={broken.event_id}" if broken.seq is not None else "the chain head"
        # CommandError makes manage.py exit with status 1.
        raise CommandError(f"BROKEN at {where}: {broken.reason} ({report.rows} rows verified before it)")
