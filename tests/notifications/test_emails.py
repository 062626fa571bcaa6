"""E-mails: urgent at once, the rest in a daily digest; each says only that there is something new, with a link."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from casework.models import User
from notifications import emails
from notifications.models import Kind, Notification, NotificationPreference
from notifications.services import notify

pytestmark = pytest.mark.django_db


def _notify(user: User, kind: str = Kind.TASK_ASSIGNED, *, urgent: bool = False) -> Notification:
    with transaction.atomic():
        row = notify(recipient_id=user.pk, kind=kind, case_reference="OM 2026/0042", urgent=urgent)
    assert row is not None
    return row


def test_urgent_notifications_are_emailed_once_and_say_nothing_but_that(
    teacher: User, mailoutbox: list[Any], settings: Any
) -> None:
    settings.NOTIFICATIONS_SITE_URL = "https://spod.example.cz/"
    urgent = [_notify(teacher, Kind.ESCALATION), _notify(teacher, Kind.REPORT_RECEIVED, urgent=True)]
    ordinary = _notify(teacher)
    call_command("notifications_email")
    call_command("notifications_email")  # nothing twice
    [message] = mailoutbox
    assert message.to == [teacher.email]
    assert (
        message.subject == "Naléhavé upozornění v systému Koordinace případů / Urgent notification in Case coordination"
    )
    assert "Máte 2 nová naléhavá upozornění v systému Koordinace případů." in message.body
    assert "You have 2 new urgent notifications in Case coordination." in message.body
    assert message.body.index("Máte") < message.body.index("You have")  # Czech first
    assert message.body.count("https://spod.example.cz/notifications/") == 2
    assert "OM 2026/0042" not in message.body + message.subject
    assert all(Notification.objects.get(pk=row.pk).emailed_at for row in urgent)
    assert Notification.objects.get(pk=ordinary.pk).emailed_at is None


def test_read_urgent_notifications_are_not_emailed(teacher: User, mailoutbox: list[Any]) -> None:
    row = _notify(teacher, Kind.ESCALATION)
    Notification.objects.filter(pk=row.pk).update(read_at=row.created_at)
    call_command("notifications_email")
    assert mailoutbox == []


def test_the_digest_goes_to_users_who_want_it(teacher: User, coordinator: User, mailoutbox: list[Any]) -> None:
    _notify(teacher)
    _notify(teacher, Kind.MEMBERSHIP_ADDED)
    _notify(coordinator)
    NotificationPreference.objects.create(user=coordinator, digest=False)
    urgent = _notify(teacher, Kind.ESCALATION)  # urgent ones have their own e-mail
    call_command("notifications_email", "--digest")
    [message] = mailoutbox
    assert message.to == [teacher.email]
    assert message.subject == "Nová upozornění v systému Koordinace případů / New notifications in Case coordination"
    assert "Máte 2 nová upozornění" in message.body
    assert "You have 2 new notifications" in message.body
    assert Notification.objects.get(pk=urgent.pk).emailed_at is None
    call_command("notifications_email", "--digest")
    assert len(mailoutbox) == 1


def test_one_notification_is_worded_in_the_singular(teacher: User, mailoutbox: list[Any]) -> None:
    _notify(teacher)
    call_command("notifications_email", "--digest")
    assert "Máte 1 nové upozornění v systému Koordinace případů." in mailoutbox[0].body
    assert "You have 1 new notification in Case coordination." in mailoutbox[0].body


def test_users_without_an_address_or_inactive_get_nothing(teacher: User, mailoutbox: list[Any]) -> None:
    _notify(teacher, Kind.ESCALATION)
    User.objects.filter(pk=teacher.pk).update(email="")
    call_command("notifications_email")
    User.objects.filter(pk=teacher.pk).update(email="x@test.example.org", is_active=False)
    call_command("notifications_email")
    assert mailoutbox == []


def test_a_failed_send_is_retried_next_run(
    teacher: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    row = _notify(teacher, Kind.ESCALATION)

    def broken(*args: object, **kwargs: object) -> int:
        raise ConnectionRefusedError("smtp.example:25")

    monkeypatch.setattr(emails, "send_mail", broken)
    assert emails.send_urgent() == 0
    assert Notification.objects.get(pk=row.pk).emailed_at is None
    assert "ConnectionRefusedError" in caplog.text
    monkeypatch.undo()
    assert emails.send_urgent() == 1
    assert len(mail.outbox) == 1


def test_plain_text_emails_keep_ampersands_in_links(settings: Any) -> None:
    """A text/plain body is not HTML: ``&`` in a link must stay ``&`` (``&amp;`` breaks the link)."""
    settings.NOTIFICATIONS_SITE_URL = "https://spod.example.cz/portal?org=om&lang=cs"
    _, body = emails.render_email(count=1, urgent=False)
    assert "https://spod.example.cz/portal?org=om&lang=cs/notifications/" in body
    assert "&amp;" not in body
