"""Helpers for the notification tests: real sockets through the real ASGI application.

``socket()`` builds a ``WebsocketCommunicator`` on ``config.asgi.application`` with an Origin header and the session
cookie of a real login, so the origin validator, the cookie/session/auth middleware and the consumer all run as in
production. Async scenarios run with ``run()`` (asgiref starts an event loop beside the test thread, and the ORM calls
made through ``db()`` come back to the test thread, where the test database connection lives).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from casework.models import User
from casework.services.cases import team_roles_ensure_defaults
from config.asgi import application

T = TypeVar("T")

ORIGIN = (b"origin", b"http://testserver")
HOST = (b"host", b"testserver")


def login_cookie(user: User) -> str:
    """The session key of a fresh login of ``user`` (as a browser would hold it)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def socket(cookie: str | None, *, last_seen: object = None) -> WebsocketCommunicator:
    path = "/ws/notifications/"
    if last_seen is not None:
        path += f"?last_seen={last_seen}"
    headers = [ORIGIN, HOST]
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    return async_to_sync(scenario)()


def db(function: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Call sync ORM code (a service, a query) from a scenario; on_commit pushes then run on the scenario's loop."""
    return database_sync_to_async(function)


async def connected(communicator: WebsocketCommunicator) -> WebsocketCommunicator:
    ok, _ = await communicator.connect(timeout=5)
    assert ok
    return communicator


async def frames(communicator: WebsocketCommunicator, *, quiet: float = 0.3) -> list[dict[str, Any]]:
    """Every JSON frame the socket sends until it has been quiet for ``quiet`` seconds."""
    received = []
    while not await communicator.receive_nothing(timeout=quiet):
        received.append(await communicator.receive_json_from(timeout=5))
    return received


async def close_code(communicator: WebsocketCommunicator) -> int | None:
    """The code the server closed the socket with (after any frames it sent before closing)."""
    while True:
        message = await communicator.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            return message.get("code")
        assert message["type"] == "websocket.send", message


def as_text(payloads: list[dict[str, Any]]) -> str:
    return json.dumps(payloads, ensure_ascii=False)


@pytest.fixture(autouse=True)
def _team_roles(request: pytest.FixtureRequest) -> None:
    """Transactional tests start from a flushed database: put back the team roles the migration seeds."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    team_roles_ensure_defaults()


@pytest.fixture(autouse=True)
def _empty_channel_layer() -> Iterator[None]:
    """Each test starts and ends with an empty channel layer (in-memory: per process; Redis: the worker's prefix)."""
    yield
    layer = get_channel_layer()
    flush = getattr(layer, "flush", None)
    if flush is not None:
        with contextlib.suppress(Exception):  # a layer a test pointed at a dead Redis
            async_to_sync(flush)()
