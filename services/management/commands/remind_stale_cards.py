"""Remind providers' users of their service cards that went stale (``services/stale_cards.py``).

Scheduled with the other periodic commands (``settings.PERIODIC_COMMANDS``); production runs it hourly from a
scheduler. Safe to rerun and to run twice at once: each card is stamped in the transaction that writes its
notifications, and reminded again only after it was confirmed and went stale again. Prints one count, never
anything about a provider or a person.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from services.stale_cards import service_cards_remind_stale

logger = logging.getLogger("services.directory")


class Command(BaseCommand):
    help = "Remind the providers' users of service cards not confirmed for SERVICE_CARD_STALE_MONTHS."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = service_cards_remind_stale()
        except DatabaseError as exc:
            logger.warning("remind_stale_cards: database unavailable (%s); next run retries", type(exc).__name__)
            return
        if options["verbosity"]:
            self.stdout.write(f"Reminded {count} stale card(s).")
