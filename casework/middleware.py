"""Turns a sealed value that can't be opened into a clear error page, logged with ids only.

Without this, Django's 500 handler would log a traceback; ours names the request and the kind of failure, never a
value (the crypto errors themselves carry only table, field and row ids).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation

from casework.crypto.errors import CryptoError
from permissions.middleware import current_request_context

logger = logging.getLogger("casework.sealed")


class SealedDataErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CryptoError):
            return None
        context = current_request_context()
        request_id = context.request_id if context else "-"
        logger.error("request %s: protected data could not be opened (%s)", request_id, type(exception).__name__)
        body = render_to_string("casework/sealed_error.html", {"request_id": request_id}, request=request)
        return HttpResponse(body, status=500)


class CzechFirstLocaleMiddleware(LocaleMiddleware):
    """Czech unless the user chose otherwise with the language switch (the cookie).

    Django's own middleware would follow the browser's Accept-Language, so a Czech authority's worker with an English
    browser would get English pages; the product speaks Czech first, English on request.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
