"""``manage.py flag_access_anomalies``: run the access-anomaly rules over recent audit rows and flag what they find.

Idempotent: a finding that was flagged before (same key) is not flagged again, so running it twice, or on a schedule
whose look-back windows overlap, creates each flag once. Scheduled in ``settings.PERIODIC_COMMANDS``. The rules:
:mod:`permissions.anomalies` and docs/adr/0017-access-oversight.md.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from permissions.anomalies import flag_anomalies

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Flag access anomalies (break-glass, denied bursts, off-hours reads, many cases, account changes)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = flag_anomalies()
        except DatabaseError as exc:
            logger.warning("flag_access_anomalies: database unavailable (%s); next run retries", type(exc).__name__)
            return
        # Counts only: the flags' page says what they are about.
        self.stdout.write(f"{len(result.created)} new flags from {result.scanned} audit rows")
