"""Behind the TLS proxy: the client address that axes and the audit use.

Every request reaches the server from the proxy's address. If that address counted, five wrong passwords typed by
anyone would lock the real user out too (axes locks the pair (username, address)). The proxy overwrites
``X-Forwarded-For`` with the address it saw; the product believes that header only from a configured trusted proxy, and
never from anyone else (a client could write any address into it).
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from casework.models import User
from config.proxy import TrustedProxyMiddleware
from permissions.middleware import RequestContextMiddleware, current_request_context
from tests.factories.people import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"
ATTACKER = "203.0.113.7"
USER_ADDRESS = "198.51.100.20"


def _login(client: Client, username: str, password: str, *, remote: str, forwarded: str | None) -> HttpResponse:
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)  # type: ignore[arg-type,return-value]


@override_settings(TRUSTED_PROXIES=[PROXY])
def test_wrong_passwords_through_the_proxy_lock_the_attacker_not_the_user(teacher: User) -> None:
    attacker = Client()
    for _ in range(5):
        response = _login(attacker, teacher.username, "wrong-password", remote=PROXY, forwarded=ATTACKER)
    assert response.status_code == 429

    user = Client()
    response = _login(user, teacher.username, TEST_PASSWORD, remote=PROXY, forwarded=USER_ADDRESS)
    assert response.status_code == 302
    assert "_auth_user_id" in user.session
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    # The attacker's own address stays locked, even with the right password.
    assert _login(Client(), teacher.username, TEST_PASSWORD, remote=PROXY, forwarded=ATTACKER).status_code == 429


@override_settings(TRUSTED_PROXIES=[PROXY])
def test_forwarded_for_from_an_untrusted_client_is_ignored(teacher: User) -> None:
    direct = "192.0.2.99"
    for _ in range(5):
        response = _login(Client(), teacher.username, "wrong-password", remote=direct, forwarded=USER_ADDRESS)
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {direct}
    # The forged address was not locked: the user behind it still logs in through the proxy.
    assert _login(Client(), teacher.username, TEST_PASSWORD, remote=PROXY, forwarded=USER_ADDRESS).status_code == 302


def _audited_address(remote: str, forwarded: str | None) -> str | None:
    """The client address the audit log would record for a request (``permissions.audit`` reads the context)."""
    seen: list[str | None] = []

    def view(request: HttpRequest) -> HttpResponse:
        context = current_request_context()
        seen.append(context.client_ip if context else None)
        return HttpResponse()

    chain = TrustedProxyMiddleware(RequestContextMiddleware(view))
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    chain(request)
    return seen[0]


@override_settings(TRUSTED_PROXIES=[PROXY, "fd00::/64"])
@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        (PROXY, USER_ADDRESS, USER_ADDRESS),
        # A client's own X-Forwarded-For arrives first; the proxy appends what it saw: the right-most hop counts.
        (PROXY, f"{ATTACKER}, {USER_ADDRESS}", USER_ADDRESS),
        ("fd00::1", USER_ADDRESS, USER_ADDRESS),
        (PROXY, None, PROXY),
        (PROXY, "not-an-address", PROXY),
        ("192.0.2.99", USER_ADDRESS, "192.0.2.99"),
    ],
)
def test_audit_records_the_forwarded_address_only_from_a_trusted_proxy(
    remote: str, forwarded: str | None, expected: str
) -> None:
    assert _audited_address(remote, forwarded) == expected
