"""The after-commit push leaves the request: committed notification ids go to one sender thread per process, which
hands them to the channel layer on its own event loop (docs/adr/0026-lean-steps-second-pass.md). Still ids only,
still nothing for a rolled-back change, and a failed push is logged with ids and left to the relay."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from django.db import transaction

from casework.models import User
from notifications import services
from notifications.models import Kind, Notification
from notifications.services import notify, notify_many

pytestmark = pytest.mark.django_db


class ChangeFailed(Exception):
    """The change the notification belongs to failed after the notification was written."""


class Layer:
    """Stands in for ``_send_all``: records what the sender thread hands over, and from which thread."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.threads: set[str] = set()
        self.done = threading.Event()

    async def send_all(self, messages: list[tuple[str, dict[str, Any]]]) -> list[bool]:
        self.threads.add(threading.current_thread().name)
        self.sent.extend(messages)
        self.done.set()
        return [self.ok] * len(messages)


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Layer:
    settings.NOTIFICATIONS_PUSH_BACKGROUND = True
    fake = Layer()
    monkeypatch.setattr(services, "_send_all", fake.send_all)
    return fake


def test_the_committing_thread_does_not_push_the_sender_thread_does_ids_only(
    layer: Layer, django_capture_on_commit_callbacks: Any
) -> None:
    teacher = User.objects.create(username="ucitelka-bg", role="partner")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        row = notify(recipient_id=teacher.pk, kind=Kind.TASK_ASSIGNED, case_reference="OM 2026/0007")
    assert row is not None
    assert layer.done.wait(5)
    assert layer.sent == [(f"user.{teacher.pk}", {"type": "notification.new", "id": row.pk})]
    assert layer.threads == {"notifications-push"}


def test_several_recipients_of_one_transaction_go_in_one_hand_off(
    layer: Layer, django_capture_on_commit_callbacks: Any
) -> None:
    people = [User.objects.create(username=f"clen-bg-{n}", role="partner") for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        rows = notify_many(recipient_ids=[p.pk for p in people], kind=Kind.TASK_ASSIGNED)
    assert len(callbacks) == 1
    assert layer.done.wait(5)
    assert sorted(message["id"] for _group, message in layer.sent) == sorted(row.pk for row in rows)


def test_a_rolled_back_change_hands_nothing_to_the_sender(
    layer: Layer, django_capture_on_commit_callbacks: Any
) -> None:
    teacher = User.objects.create(username="ucitelka-bg2", role="partner")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(ChangeFailed),
        transaction.atomic(),
    ):
        notify(recipient_id=teacher.pk, kind=Kind.TASK_ASSIGNED)
        raise ChangeFailed
    assert callbacks == []
    assert not layer.done.wait(0.2)
    assert not Notification.objects.exists()


def test_a_failed_background_push_is_logged_with_ids_and_the_row_waits_for_the_relay(
    layer: Layer, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    layer.ok = False
    teacher = User.objects.create(username="ucitelka-bg3", role="partner")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        row = notify(recipient_id=teacher.pk, kind=Kind.TASK_ASSIGNED)
    assert row is not None
    assert layer.done.wait(5)
    for _ in range(50):  # the sender logs right after the hand-off returns
        if f"push failed for ids [{row.pk}]" in caplog.text:
            break
        threading.Event().wait(0.05)
    assert f"push failed for ids [{row.pk}]" in caplog.text
    assert Notification.objects.get(pk=row.pk).delivered_at is None
