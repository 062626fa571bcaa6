"""The header's badge: one statement whatever the history, a count that stops at 100 ("99+"), and the newest id for
the socket's catch-up."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import User
from notifications.context_processors import Badge, badge_for
from notifications.models import Kind, Notification
from notifications.selectors import UNREAD_CAP
from notifications.services import unread_count

pytestmark = pytest.mark.django_db


def _rows(user: User, count: int, *, read: bool = False) -> list[Notification]:
    return Notification.objects.bulk_create(
        Notification(
            recipient=user,
            kind=Kind.TASK_ASSIGNED,
            case_reference="OM 2026/0001",
            read_at=timezone.now() if read else None,
        )
        for _ in range(count)
    )


def test_the_badge_counts_unread_rows_and_knows_the_newest_id(coordinator: User, supervisor: User) -> None:
    assert badge_for(coordinator.pk) == Badge(unread=0, last_id=0)
    _rows(coordinator, 3)
    newest = _rows(coordinator, 2, read=True)[-1]
    _rows(supervisor, 4)  # somebody else's rows count for nobody else
    assert badge_for(coordinator.pk) == Badge(unread=3, last_id=newest.pk)
    assert badge_for(coordinator.pk).shown == "3"


@pytest.mark.parametrize(("unread", "count", "shown"), [(99, 99, "99"), (100, 100, "99+"), (250, 100, "99+")])
def test_the_count_stops_at_the_cap_and_says_99_plus(unread: int, count: int, shown: str, coordinator: User) -> None:
    rows = _rows(coordinator, unread)
    badge = badge_for(coordinator.pk)
    assert (badge.unread, badge.shown, badge.last_id) == (count, shown, rows[-1].pk)
    assert unread_count(user_id=coordinator.pk) == min(unread, UNREAD_CAP)


@pytest.mark.parametrize("history", [1, 400])
def test_the_badge_is_one_statement_whatever_the_history(
    history: int, coordinator: User, django_assert_num_queries: Callable[..., object]
) -> None:
    _rows(coordinator, history)
    _rows(coordinator, history, read=True)
    with django_assert_num_queries(1):  # type: ignore[attr-defined]
        badge_for(coordinator.pk)


def test_the_page_header_shows_99_plus(coordinator: User) -> None:
    _rows(coordinator, 120)
    client = Client()
    client.force_login(coordinator)
    html = client.get(reverse("notification_list")).content.decode()
    assert "data-notifications-count>99+<" in html
