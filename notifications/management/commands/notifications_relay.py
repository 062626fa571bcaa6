"""Re-push notifications nobody has received yet, so that none is lost when the channel layer was down.

Runs every 15 seconds: in the demo inside the ASGI process (``serve_demo`` runs ``settings.PERIODIC_COMMANDS``, which
is what lets the in-memory channel layer reach the sockets), in production once per cluster from a scheduler
(systemd timer, cron with a 15 s loop, or a Kubernetes CronJob) — any process that reaches the same Redis will do.
Each run pushes one message per recipient with rows undelivered for ``NOTIFICATIONS_RELAY_AFTER_SECONDS``; the sockets
then send the rows themselves. A database or channel layer that is down is logged in one line; the next run retries.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from notifications.services import relay_undelivered

logger = logging.getLogger("notifications")


class Command(BaseCommand):
    help = "Push undelivered notifications to their recipients' sockets once more (run every 15 s)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--after",
            type=int,
            default=None,
            help="Seconds a row must have waited undelivered (default NOTIFICATIONS_RELAY_AFTER_SECONDS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        after = options["after"] if options["after"] is not None else settings.NOTIFICATIONS_RELAY_AFTER_SECONDS
        max_age = timedelta(days=settings.NOTIFICATIONS_RELAY_MAX_AGE_DAYS)
        try:
            result = relay_undelivered(after_seconds=max(0, after), max_age=max_age)
        except DatabaseError as exc:
            logger.warning("notifications_relay: database unavailable (%s); next run retries", type(exc).__name__)
            return
        if options["verbosity"] > 1 or result.failed:
            self.stdout.write(
                f"Pushed {result.pushed} notification(s) to {result.recipients} recipient(s); {result.failed} failed."
            )
