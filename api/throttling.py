"""Rate limits per credential (a personal token, or an OAuth2 access token), in the ``api`` cache: Redis when
``REDIS_URL`` is set (one count across the server's processes), local memory otherwise."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken


class PerTokenThrottle(SimpleRateThrottle):
    scope = "token"
    cache = caches["api"]

    def get_rate(self) -> str | None:
        """Read at each request (``settings.API_RATES``), so a test or an operator's change applies at once."""
        return settings.API_RATES.get(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        auth = request.auth
        if auth is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        ident = f"pat-{auth.pk}" if isinstance(auth, ApiToken) else f"oauth-{getattr(auth, 'pk', 'x')}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PerTokenWriteThrottle(PerTokenThrottle):
    """Writes have a lower limit of their own beside the overall one."""

    scope = "token_write"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)
