"""Request-wide guards: a sealed value that can't be opened becomes a clear error page (logged with ids only); the
locale is Czech first; a session that needs a second factor reaches nothing else until it has one; sessions end
after inactivity.

Sealed values: without the first, Django's 500 handler would log a traceback; ours names the request and the kind of
failure, never a value (the crypto errors themselves carry only table, field and row ids).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from casework.account_views import NEED_KEY, TOUCHED_KEY, session_verified
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


class SecondFactorMiddleware:
    """A logged-in session that needs a second factor and has not proved one reaches only the 2FA pages and logout.

    The login itself asks for the code before logging anyone in (``casework.account_views``); this catches the other
    ways into a session: a role that became subject to 2FA after login, an authenticator reset by an administrator,
    any login path that bypasses ours. Whether the session needs it is decided once at login
    (``casework.account_views.remember_second_factor_need``), so ordinary requests cost no query. Installed after
    django-otp's ``OTPMiddleware``, which tells whether the session is verified.
    """

    _open_url_names = ("otp_verify", "otp_enrol", "logout", "session_status", "set_language")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and request.session.get(NEED_KEY)
            and not session_verified(user)
            and not self._is_open(request.path)
        ):
            return redirect("otp_verify")
        return self.get_response(request)

    def _is_open(self, path: str) -> bool:
        if path.startswith(settings.STATIC_URL):
            return True
        return path in {reverse(name) for name in self._open_url_names}


class IdleSessionMiddleware:
    """Sessions end after ``SESSION_COOKIE_AGE`` seconds without a request (30 minutes by default).

    Django moves a session's end only when it saves it; saving on every request would cost a write per page view.
    Instead the session is marked modified when its clock is more than a minute old, so it is saved (and its cookie
    re-sent) at most once a minute and the idle limit holds to within that minute. ``session_status`` reads the
    clock without moving it: the warning's polling must not keep an idle session alive.
    """

    touch_after_seconds = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and request.path != reverse("session_status"):
            touched = request.session.get(TOUCHED_KEY)
            if touched is None or time.time() - float(touched) >= self.touch_after_seconds:
                request.session[TOUCHED_KEY] = time.time()
        return self.get_response(request)


class KeepWorkAfterSessionEndMiddleware:
    """A form posted after its session ended (idle timeout, logout in another tab) keeps what was written.

    Forms that carry the ``_keep_work`` marker (``templates/forms/_keep.html``) are kept when their POST arrives
    without a logged-in user: the fields are sealed under a one-time key that goes to the browser in a cookie
    (``casework.services.drafts.kept_work_store``), and the person is sent to log in and back to the same page, where
    ``static/js/forms.js`` asks for the text once (``kept_work_restore``). Runs as ``process_view``, after the CSRF
    check (a forged cross-site post is refused before anything is kept). Nothing of the text is logged or put in
    the URL; the login's ``next`` is the form's own path.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., HttpResponse], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        from casework.form_views import set_kept_work_cookie
        from casework.services.drafts import KEEP_FIELD, KeptWorkRefused, form_fields, kept_work_store

        if request.method != "POST" or request.user.is_authenticated or KEEP_FIELD not in request.POST:
            return None
        path = request.get_full_path()
        try:
            cookie = kept_work_store(
                path=path, fields=form_fields(request.POST), address=request.META.get("REMOTE_ADDR")
            )
        except KeptWorkRefused:
            messages.warning(
                request,
                translation.gettext(
                    "Your session had ended and what you wrote could not be kept this time. Log in again and go back"
                    " with the browser's Back button: the text may still be in the form."
                ),
            )
            return redirect_to_login(path)
        messages.info(
            request,
            translation.gettext("Your session had ended. Log in again: what you wrote is kept and comes back."),
        )
        response = redirect_to_login(path)
        set_kept_work_cookie(response, cookie)
        return response
