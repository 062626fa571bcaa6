"""``manage.py verify_audit_periodic``: the scheduled run of ``verify_audit``'s verifier, kept for the oversight page.

Runs :func:`verify_audit.verify_chain` (the same function, not a copy) and stores its result, which the oversight page
shows as the last scheduled verification with the first broken row if any. Unlike ``verify_audit`` (for operators and
CI: exit status 1 on a broken chain) it never fails the scheduler: a broken chain is a stored result and a logged
error, a missing key or database a warning and a retry at the next interval. In ``settings.PERIODIC_COMMANDS``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from permissions.management.commands.verify_audit import store_report, verify_chain
from permissions.models import VerificationTrigger

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Verify the audit chain and keep the result for the access oversight page (scheduled)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = verify_chain()
            store_report(report, trigger=VerificationTrigger.SCHEDULED)
        except (DatabaseError, ImproperlyConfigured) as exc:
            logger.warning("verify_audit_periodic: cannot verify now (%s); next run retries", type(exc).__name__)
            return
        if report.first_break is not None:
            logger.error("verify_audit_periodic: the audit chain is BROKEN at seq=%s", report.first_break.seq)
        self.stdout.write(f"{report.rows} rows, {'intact' if report.first_break is None else 'broken'}")
