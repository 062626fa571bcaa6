"""The production smoke test (``make prod-smoke``; also in .ci/run's second pass): the product as an operator runs it.

``config.settings.prod`` with freshly generated throwaway secrets, on loopback, against PostgreSQL and Redis:
collectstatic, ``check --deploy``, migrate, two daphne processes (the README's process model), a login over HTTP with
the headers the TLS proxy sets, a live notification crossing processes (the socket on one process, the change made
through the other), ``/healthz`` — and everything it started is stopped, whatever happened (``Stack.stop``).

The user is a partner created for the test: OSPOD roles will need a second factor in production.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.stack import DAPHNE, Server, Stack, _postgres_url, prod_environment

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

USERNAME = "smoke-partner"
PASSWORD = "smoke-heslo-2026-x"
CLIENT_ADDRESS = "198.51.100.23"


class ProxiedClient:
    """An HTTP client that talks to one server as the TLS proxy would pass a browser on: ``X-Forwarded-Proto: https``
    and ``X-Forwarded-For``. Cookies are kept by hand (they are ``Secure``, and the hop to the server is plain HTTP)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def proxy_headers(self) -> dict[str, str]:
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT_ADDRESS}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPResponse, str]:
        headers = self.proxy_headers()
        body = None
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": self.origin,
                    "Referer": self.origin + path,
                }
            )
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, response, text

    def switch_to(self, server: Server) -> ProxiedClient:
        other = ProxiedClient(server)
        other.cookies = dict(self.cookies)
        return other


def test_production_build_serves_logins_and_live_notifications_across_processes(tmp_path: Path) -> None:
    base = _postgres_url()
    assert base is not None
    env = prod_environment(tmp_path, database_url=base, redis_url=os.environ["REDIS_URL"])
    stack = Stack(
        workdir=tmp_path,
        redis_url=os.environ["REDIS_URL"],
        base_env=env,
        setup=[
            ["collectstatic", "--noinput"],
            ["check", "--deploy", "--fail-level", "WARNING"],
            ["migrate", "--noinput"],
        ],
    )
    try:
        stack.prepare()
        stack.create_partner(USERNAME, PASSWORD)
        one, two = stack.start(command=DAPHNE), stack.start(command=DAPHNE)

        # Plain HTTP without the proxy's header is sent to HTTPS (the proxy terminates TLS).
        connection = http.client.HTTPConnection("127.0.0.1", one.port, timeout=20)
        connection.request("GET", "/accounts/login/")
        plain = connection.getresponse()
        connection.close()
        assert plain.status == 301
        assert plain.headers["Location"].startswith("https://")

        # The login page through the proxy, its static files from the manifest, and the security headers.
        browser = ProxiedClient(one)
        status, response, page = browser.request("GET", "/accounts/login/")
        assert status == 200
        assert "Strict-Transport-Security" in response.headers
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
        assert stylesheet is not None, "the page does not name the hashed stylesheet of the manifest"
        assert browser.request("GET", stylesheet.group(1))[0] == 200

        status, response, _ = browser.request("POST", "/accounts/login/", {"username": USERNAME, "password": PASSWORD})
        assert status == 302, "login failed"
        assert "sessionid" in browser.cookies

        # A live notification across processes: the socket on server one, the change through server two.
        socket_headers = {
            **browser.proxy_headers(),
            "Origin": browser.origin,
        }
        with connect(
            f"{one.ws_url}/ws/notifications/?last_seen=0",
            additional_headers=socket_headers,
            proxy=None,
            open_timeout=10,
        ) as socket:
            caught_up = json.loads(socket.recv(timeout=10))
            assert caught_up["type"] == "notification"
            assert caught_up["unread"] == 1

            elsewhere = browser.switch_to(two)
            status, response, _ = elsewhere.request("GET", "/notifications/")
            assert status == 200
            assert "no-store" in response.headers["Cache-Control"]
            status, _, _ = elsewhere.request("POST", "/notifications/read-all/", {})
            assert status == 302
            pushed = json.loads(socket.recv(timeout=10))
            assert pushed == {"type": "unread", "unread": 0}

        for server in (one, two):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/healthz")
            health = connection.getresponse()
            assert health.status == 200
            assert json.loads(health.read()) == {"status": "ok", "checks": {"database": True, "channel_layer": True}}
            connection.close()
    except Exception:
        for server in stack.servers:
            print(f"--- server {server.port} ---\n{server.output()[-4000:]}")
        raise
    finally:
        stack.stop()
    assert all(server.process.poll() is not None for server in (one, two))
