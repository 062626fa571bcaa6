"""The websocket's origin check: the page that opens the socket must come from the same scheme, host and port.

Cookies are not scoped by port, so a page served by anything else on the same host (another port) would otherwise
open a socket with the user's session.
"""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings

from casework.models import User
from config.asgi import application
from tests.notifications.conftest import login_cookie, run

pytestmark = pytest.mark.django_db(transaction=True)


def _opens(cookie: str, *, origin: str, host: str | None) -> bool:
    headers = [(b"origin", origin.encode()), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    if host is not None:
        headers.append((b"host", host.encode()))

    async def scenario() -> bool:
        communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
        ok, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return bool(ok)

    return run(scenario)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://testserver", "testserver"),
        ("http://testserver:8000", "testserver:8000"),
        ("https://spod.example.cz", "spod.example.cz"),
        ("https://spod.example.cz:443", "spod.example.cz"),
    ],
)
def test_a_page_of_the_same_origin_opens_the_socket(teacher: User, origin: str, host: str) -> None:
    assert _opens(login_cookie(teacher), origin=origin, host=host) is True


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://testserver:8080", "testserver"),
        ("http://testserver:8080", "testserver:8000"),
        ("https://spod.example.cz:8443", "spod.example.cz"),
        ("http://evil.example", "testserver"),
        ("null", "testserver"),
        ("http://testserver", None),
    ],
)
def test_a_page_of_another_port_or_host_is_refused(teacher: User, origin: str, host: str | None) -> None:
    assert _opens(login_cookie(teacher), origin=origin, host=host) is False
