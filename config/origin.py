"""The websocket's origin check: same scheme's port and host as the request, and a host in ``ALLOWED_HOSTS``.

channels' ``AllowedHostsOriginValidator`` compares the Origin's host with ``ALLOWED_HOSTS`` and ignores its port.
Cookies are not scoped by port, so a page served by anything else on the same host name (another port: a test
instance, a mail web UI) could open a socket that carries the user's session. Here the Origin must also name the host
and port the socket itself was requested on (the ``Host`` header, whose missing port is the Origin scheme's default) —
what a browser sends for a page of this very site — or be listed in ``CSRF_TRUSTED_ORIGINS``. A request without a
``Host`` header (no browser sends one) is refused. Behind a proxy, the proxy must pass the public ``Host`` with its port
(nginx: ``proxy_set_header Host $http_host``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def same_origin(origin: str, host: str) -> bool:
    """Whether ``origin`` (``scheme://host[:port]``) names the host and port of the ``Host`` header ``host``."""
    try:
        parsed = urlsplit(origin)
        requested = urlsplit("//" + host)
        origin_port = parsed.port or DEFAULT_PORTS.get(parsed.scheme)
        requested_port = requested.port or DEFAULT_PORTS.get(parsed.scheme)
    except ValueError:  # a port that is not a number
        return False
    if parsed.scheme not in DEFAULT_PORTS or not parsed.hostname or not requested.hostname:
        return False
    return parsed.hostname == requested.hostname and origin_port == requested_port


class SameOriginValidator(OriginValidator):
    """channels' ``OriginValidator`` over ``ALLOWED_HOSTS``, plus the same-host-and-port rule above."""

    def __init__(self, application: Any) -> None:
        allowed_hosts = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not allowed_hosts:
            allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed_hosts)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket":
            origin = _header(scope, b"origin") or ""
            host = _header(scope, b"host") or ""
            trusted = origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", [])
            if not trusted and not (host and same_origin(origin, host)):
                return await WebsocketDenier()(scope, receive, send)
        return await super().__call__(scope, receive, send)
