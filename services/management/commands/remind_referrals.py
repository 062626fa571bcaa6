"""Remind both sides of referrals waiting beyond their service's stated waiting time (docs/adr/0029-referrals.md).

Scheduled with the other periodic commands (``settings.PERIODIC_COMMANDS``); production runs it hourly from a
scheduler. Safe to rerun and to run twice at once: each referral is stamped in the transaction that writes its
notifications, and reminded again only after a week. Prints one count, never anything about a case or a person.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from services.referrals.services import referrals_remind_overdue

logger = logging.getLogger("services.referrals")


class Command(BaseCommand):
    help = "Remind coordinators and providers of referrals waiting beyond the service's stated time."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = referrals_remind_overdue()
        except DatabaseError as exc:
            logger.warning("remind_referrals: database unavailable (%s); next run retries", type(exc).__name__)
            return
        if options["verbosity"]:
            self.stdout.write(f"Reminded {count} referral(s).")
