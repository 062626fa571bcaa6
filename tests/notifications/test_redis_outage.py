"""Redis down, then back: the change commits, the row persists, and nothing is lost once Redis answers again —
delivered by the relay to a socket that stayed connected, or by the catch-up of a socket that reconnects.

Runs in .ci/run's second pass (REDIS_URL set). The outage is a channel layer pointed at a port where nothing listens,
which is what a stopped Redis looks like to the application (connection refused).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from casework.models import TeamMembership, User
from notifications.models import Kind, Notification
from tests.factories import add_member, open_case

from .conftest import connected, db, frames, login_cookie, run, socket

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _dead_redis() -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"], "prefix": "notifications-dead"},
        }
    }


def test_the_layer_is_real_redis() -> None:
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"


def test_rows_written_while_redis_is_down_are_delivered_by_the_relay_after_recovery(
    coordinator: User, teacher: User, caplog: pytest.LogCaptureFixture
) -> None:
    case = open_case(coordinator=coordinator)
    cookie = login_cookie(teacher)

    def add_during_outage() -> None:
        with override_settings(CHANNEL_LAYERS=_dead_redis(), NOTIFICATIONS_PUSH_TIMEOUT_SECONDS=5):
            add_member(case, teacher, coordinator)

    async def scenario() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        # The socket joined its groups on the real Redis before the outage and stays connected through it.
        communicator = await connected(socket(cookie))
        await db(add_during_outage)()
        during = await frames(communicator, quiet=0.5)
        await db(call_command)("notifications_relay", "--after", "0")
        after = await frames(communicator, quiet=0.5)
        await communicator.disconnect()
        return during, after

    during, after = run(scenario)
    row = Notification.objects.get(recipient=teacher)
    assert TeamMembership.objects.filter(case=case, user=teacher).exists()
    assert during == []
    assert [p["id"] for p in after] == [row.pk]
    assert row.kind == Kind.MEMBERSHIP_ADDED
    assert row.delivered_at is not None
    assert f"push failed for ids [{row.pk}]" in caplog.text


def test_rows_written_while_redis_is_down_arrive_on_reconnect(coordinator: User, teacher: User) -> None:
    case = open_case(coordinator=coordinator)
    cookie = login_cookie(teacher)

    async def scenario() -> list[dict[str, object]]:
        first = await connected(socket(cookie))
        seen = await frames(first)
        await first.disconnect()
        with override_settings(CHANNEL_LAYERS=_dead_redis()):
            await db(add_member)(case, teacher, coordinator)
            # With Redis down the socket cannot even join its groups: it says so and the page retries later.
            down = await connected(socket(cookie))
            message = await down.receive_output(timeout=10)
            assert (message["type"], message.get("code")) == ("websocket.close", 4013)
            await down.disconnect()
        again = await connected(socket(cookie, last_seen=max([0, *[p["id"] for p in seen]])))
        received = await frames(again)
        await again.disconnect()
        return received

    received = run(scenario)
    row = Notification.objects.get(recipient=teacher)
    assert [p["id"] for p in received] == [row.pk]
    assert row.delivered_at is not None
