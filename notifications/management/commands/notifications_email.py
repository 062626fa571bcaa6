"""E-mail users about notifications: urgent ones at once, the rest in a daily digest.

Without options (every minute; in ``settings.PERIODIC_COMMANDS``): one e-mail per user with urgent notifications that
are neither read nor e-mailed yet. With ``--digest`` (once a day, from cron), one e-mail per user with other unread
notifications not e-mailed yet, unless the user turned the digest off (``NotificationPreference``)::

    # /etc/cron.d/spod-casework — the digest at 7:00 Prague time
    CRON_TZ=Europe/Prague
    0 7 * * *  spod  cd /srv/spod && .venv/bin/python manage.py notifications_email --digest

E-mails say only how many notifications there are and link to the notifications page (``NOTIFICATIONS_SITE_URL``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from notifications.emails import send_digests, send_urgent

logger = logging.getLogger("notifications.email")


class Command(BaseCommand):
    help = "E-mail urgent notifications now, or (--digest) the daily digest of the others."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--digest", action="store_true", help="Send the daily digest instead of urgent e-mails.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sent = send_digests() if options["digest"] else send_urgent()
        except DatabaseError as exc:
            logger.warning("notifications_email: database unavailable (%s); next run retries", type(exc).__name__)
            return
        if options["verbosity"] > 1 or sent:
            self.stdout.write(f"Sent {sent} e-mail(s).")
