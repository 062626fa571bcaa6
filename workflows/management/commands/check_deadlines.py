"""Warn about deadlines coming due and escalate overdue ones (``workflows.services.escalation`` has the rules).

Safe to run every minute and from two schedulers at once: each notice is written once, in the transaction that
stamps it, and a rerun sends nothing new. The demo runs it inside the ASGI process (``settings.PERIODIC_COMMANDS``, so
the in-memory channel layer reaches the sockets); production runs it once a minute from a scheduler, e.g.::

    # /etc/cron.d/spod-casework
    * * * * *  spod  cd /srv/spod && .venv/bin/python manage.py check_deadlines --verbosity 0

Prints one line of counts (nothing with ``--verbosity 0``); never anything about a case or a person.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from workflows.services.escalation import DEFAULT_BATCH_SIZE, deadlines_check

logger = logging.getLogger("workflows.deadlines")


class Command(BaseCommand):
    help = "Notify owners of deadlines due soon or overdue and escalate overdue ones (run every minute)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Deadlines handled per transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = deadlines_check(batch_size=max(1, options["batch_size"]))
        except DatabaseError as exc:
            logger.warning("check_deadlines: database unavailable (%s); next run retries", type(exc).__name__)
            return
        if options["verbosity"] > 0:
            self.stdout.write(result.summary())
