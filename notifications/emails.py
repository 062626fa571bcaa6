"""E-mails about notifications: they say only that there is something new, and where to read it.

No kind, no case reference, no name: an e-mail leaves the system (a phone's lock screen, a shared mailbox), so it
carries a count and a link to the notifications page, in Czech with English below. Urgent rows are e-mailed at once
(``send_urgent``, every minute); the rest go out in one daily digest per user who wants it (``send_digests``).

Rows are claimed (``emailed_at`` set) before the message is sent and released if sending fails, so two runs at the
same time never send the same row twice and a failed send is retried by the next run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation

from notifications.models import Notification

logger = logging.getLogger("notifications.email")

#: The languages of every e-mail, in this order (Czech first, English below).
EMAIL_LANGUAGES = ("cs", "en")


def site_url() -> str:
    """The product's address as e-mails link to it (``NOTIFICATIONS_SITE_URL``), without a trailing slash."""
    return str(getattr(settings, "NOTIFICATIONS_SITE_URL", "")).rstrip("/")


def notifications_page_url() -> str:
    return f"{site_url()}{reverse('notification_list')}"


def render_plain_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a text/plain e-mail template with autoescaping off.

    Django's engine HTML-escapes every value, which is right for HTML and wrong for a plain-text body: ``&`` in a link
    would arrive as ``&amp;`` and break it, ``<`` as ``&lt;``. Every plain-text e-mail body and subject goes through
    here; an HTML alternative (if one is ever added) must use ``render_to_string`` and keep escaping.
    """
    template = get_template(template_name)
    return str(template.template.render(Context(context, autoescape=False)))  # type: ignore[attr-defined]


def render_email(*, count: int, urgent: bool) -> tuple[str, str]:
    """Subject and body: the same short message in each of ``EMAIL_LANGUAGES``."""
    context = {"count": count, "urgent": urgent, "url": notifications_page_url()}
    subjects, bodies = [], []
    for language in EMAIL_LANGUAGES:
        with translation.override(language):
            subjects.append(render_plain_text("notifications/email/subject.txt", context).strip())
            bodies.append(render_plain_text("notifications/email/body.txt", context).strip())
    return " / ".join(subjects), "\n\n----\n\n".join(bodies) + "\n"


def _pending(rows: QuerySet[Notification]) -> dict[int, list[int]]:
    active_with_address = get_user_model()._default_manager.filter(is_active=True).exclude(email="")
    by_user: dict[int, list[int]] = defaultdict(list)
    for row_id, recipient_id in (
        rows.filter(emailed_at__isnull=True, read_at__isnull=True, recipient__in=active_with_address)
        .order_by("id")
        .values_list("id", "recipient_id")
    ):
        by_user[recipient_id].append(row_id)
    return by_user


def _send(by_user: dict[int, list[int]], *, urgent: bool, now: datetime) -> int:
    addresses = dict(get_user_model()._default_manager.filter(pk__in=list(by_user)).values_list("pk", "email"))
    sent = 0
    for user_id, ids in by_user.items():
        with transaction.atomic():
            claimed = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(emailed_at=now)
        if not claimed:
            continue  # another run took them
        subject, body = render_email(count=claimed, urgent=urgent)
        try:
            send_mail(subject, body, None, [addresses[user_id]])
        except Exception as exc:
            Notification.objects.filter(pk__in=ids, emailed_at=now).update(emailed_at=None)
            logger.warning("notifications e-mail to user %s failed (%s); retried next run", user_id, type(exc).__name__)
            continue
        sent += 1
    return sent


def send_urgent(*, now: datetime | None = None) -> int:
    """One e-mail per user with urgent rows not yet e-mailed nor read. Returns how many e-mails were sent."""
    now = now or timezone.now()
    return _send(_pending(Notification.objects.filter(urgent=True)), urgent=True, now=now)


def send_digests(*, now: datetime | None = None) -> int:
    """One e-mail per user with other unread rows not yet e-mailed, unless they turned the digest off."""
    now = now or timezone.now()
    rows = Notification.objects.filter(urgent=False).exclude(recipient__notification_preference__digest=False)
    return _send(_pending(rows), urgent=False, now=now)
