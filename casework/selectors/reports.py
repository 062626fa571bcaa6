"""Report selectors: rows with envelopes, never plaintext. Who may read what is decided in ``permissions``."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

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


def reports_recorded_by(*, user: User, limit: int = 50) -> QuerySet[Report]:
    """The reports ``user`` filed or entered, newest first: dates, references and statuses only (no envelope is
    loaded, so nothing here can be opened by mistake)."""
    return (
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
        .order_by("-received_at")[:limit]
    )
