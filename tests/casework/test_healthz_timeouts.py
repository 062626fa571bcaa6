"""/healthz answers within its check timeout (1.5 s) plus the request's own time, whatever Redis or the database do —
a load balancer's probe must not hang with them (a hung Redis would otherwise hold it for the 10 s socket timeout).

A hung Redis is a local TCP socket that completes the handshake and never answers (the kernel accepts into the
listen backlog): every command the channel layer sends stays unanswered, the send as well as the receive.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.test import Client, override_settings

from casework.views import HEALTHZ_TIMEOUT_SECONDS

pytestmark = pytest.mark.django_db

#: The check's own timeout and a margin for the rest of the request on a busy 2-core machine; far below the socket
#: timeout (10 s) that a hung Redis would otherwise cost.
BUDGET_SECONDS = HEALTHZ_TIMEOUT_SECONDS + 1.5


@pytest.fixture
def hung_redis_url() -> Iterator[str]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def _timed_get(client: Client) -> tuple[Any, float]:
    started = time.monotonic()
    response = client.get("/healthz")
    return response, time.monotonic() - started


def test_healthz_answers_in_time_when_redis_accepts_and_never_answers(client: Client, hung_redis_url: str) -> None:
    hung = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [hung_redis_url], "prefix": "healthz-hung"},
        }
    }
    with override_settings(CHANNEL_LAYERS=hung):
        response, elapsed = _timed_get(client)
    assert elapsed < BUDGET_SECONDS
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "channel_layer": False}


def test_healthz_answers_in_time_when_the_database_hangs(client: Client) -> None:
    def hang(*args: object) -> None:
        time.sleep(5)

    hung = mock.MagicMock()
    hung.cursor.return_value.__enter__.return_value.execute.side_effect = hang
    with mock.patch("casework.views.connection", hung):
        response, elapsed = _timed_get(client)
    assert elapsed < BUDGET_SECONDS
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": False, "channel_layer": True}
