"""Report selectors: rows with envelopes, never plaintext. Who may read what is decided in ``permissions``."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from casework import paging
from casework.models import Report, User


def report_get(*, report_id: uuid.UUID | str) -> Report | None:
    """The report with what a decision about it needs (its case, for the coordinator) in one query."""
    try:
        return (
            Report.objects.select_related("municipality", "case", "case__coordinator", "decided_by")
            .filter(pk=report_id)
            .first()
        )
    except ValidationError:
        return None  # a malformed UUID is just "not found"


#: The report list's order (newest first, the id breaking ties) and its index ``report_recorded_by_order``.
REPORT_LIST_ORDER = (("received_at", True), ("id", True))
_REPORT_CURSOR_KINDS = (datetime.datetime, uuid.UUID)


@dataclass(frozen=True)
class ReportPage:
    reports: list[Report]
    next_after: str | None  # the cursor of the next (older) page, None on the last


def reports_recorded_by(*, user: User, after: str = "", size: int = paging.PAGE_SIZE) -> ReportPage:
    """One keyset page of the reports ``user`` filed or entered, newest first (the ``size`` after the cursor
    ``after``; the first page when it is empty or unreadable): dates, references and statuses only (no envelope is
    loaded, so nothing here can be opened by mistake). One query, walking ``report_recorded_by_order``."""
    rows = (
        Report.objects.filter(recorded_by=user)
        .only(
            "id",
            "reference",
            "received_at",
            "status",
            "channel",
            "feedback_requested",
            "feedback_sent_at",
            "at_risk",
            "recorded_by",
        )
        .order_by("-received_at", "-id")
    )
    key = paging.parse_cursor(after, _REPORT_CURSOR_KINDS)
    if key is not None:
        rows = rows.filter(paging.after(REPORT_LIST_ORDER, key))
    fetched = list(rows[: size + 1])
    shown = fetched[:size]
    more = len(fetched) > size and bool(shown)
    return ReportPage(
        reports=shown, next_after=paging.cursor_for((shown[-1].received_at, shown[-1].pk)) if more else None
    )
