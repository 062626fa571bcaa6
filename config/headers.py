"""Response headers that keep what a logged-in person saw out of caches.

A page for a logged-in user carries case references, names and notes. ``Cache-Control: no-store`` keeps it out of the
browser's disk cache (a shared office computer, the back button after logout) and out of any cache between the proxy
and the browser. It is set on every response to an authenticated request, whatever the view set before (a PDF, a
JSON endpoint), so a new view cannot forget it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreWhenAuthenticatedMiddleware:
    """``Cache-Control: no-store`` (with ``no-cache, must-revalidate, private, max-age=0``) for logged-in requests.

    Place it after ``AuthenticationMiddleware``; whitenoise answers static files before it runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
