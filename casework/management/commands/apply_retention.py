"""Propose closed case files whose retention period ended for the shredding review; resume decided destructions.

Scheduled with the other periodic commands (``settings.PERIODIC_COMMANDS``). It never destroys a file on its own: a
file is destroyed or transferred only after a supervisor or the records officer decided its review on the
*Shredding review* page. What it does carry out are such decisions that a crash or ``kill -9`` interrupted (each
destruction is one transaction; a transfer's archive package is written first and not written twice). A rerun is a
no-op. ``--dry-run`` lists what would be proposed or resumed and changes nothing.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError
from django.utils.formats import date_format

from casework.models import RetentionReview, ReviewState
from casework.services.retention import retention_propose, retention_resume

logger = logging.getLogger("casework.retention")


class Command(BaseCommand):
    help = "Propose files whose retention period ended for the shredding review (never deletes on its own)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List what would be proposed; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._run(dry_run=options["dry_run"])
        except DatabaseError as exc:
            # A periodic run (serve_demo) waits for the database; each step is idempotent, the next run continues.
            logger.warning("apply_retention: database unavailable (%s); next run retries", type(exc).__name__)

    def _run(self, *, dry_run: bool) -> None:
        due = retention_propose(dry_run=dry_run)
        verb = "Would propose" if dry_run else "Proposed"
        for item in due:
            again = " (again, after keeping it longer)" if item.again else ""
            self.stdout.write(
                f"{verb} {item.reference}: left the register {date_format(item.left_register_on, 'Y-m-d')}, "
                f"period ended {date_format(item.due_on, 'Y-m-d')}{again}"
            )
        self.stdout.write(f"{verb} {len(due)} file(s) for the shredding review.")

        pending = RetentionReview.objects.filter(state=ReviewState.DECIDED).select_related("case")
        if dry_run:
            for review in pending:
                self.stdout.write(f"Would carry out the decision ({review.decision}) on {review.case.reference}.")
            return
        # Tests pause inside the destruction's transaction to kill the process there.
        pause = float(os.environ.get("RETENTION_PAUSE_IN_SHRED_SECONDS", "0"))

        def announce(review: RetentionReview) -> None:
            self.stdout.write(f"Destroying the keys of {review.case_id}…")
            self.stdout.flush()
            if pause:
                time.sleep(pause)

        for review in retention_resume(on_keys_destroyed=announce):
            self.stdout.write(f"Carried out the decision ({review.decision}) on {review.case.reference}.")
