"""Thin views: parse input, call one service or selector, render.

This module holds the product shell: health check, login and logout, the home redirect and the top-level pages.
Which role may open which top-level page is the table in ``casework.context_processors`` (the menu reads it too).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import wraps
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from casework.account_views import second_factor_begin
from casework.context_processors import may_open, pages_for
from casework.selectors.accounts import second_factor_needed

logger = logging.getLogger(__name__)

# A load balancer's probe gives up after a few seconds; answer 503 before that rather than hang. The two checks run side
# by side, each bounded by this, so the answer comes within 2 s whatever Redis or the database do.
HEALTHZ_TIMEOUT_SECONDS = 1.5

# The database check runs here so that a database that accepts and never answers cannot hold the request: the
# caller waits at most the budget, the stuck thread is left behind. With both workers stuck, further checks wait in
# the queue and time out, which is the right answer.
_database_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz-db")

View = Callable[..., HttpResponse]


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 only when the database and the channel layer both answer in time; 503 names the part that did not."""
    started = time.monotonic()
    database = _database_checks.submit(_database_ok)
    channel_layer_ok = _channel_layer_ok()
    try:
        database_ok = database.result(timeout=max(0.0, HEALTHZ_TIMEOUT_SECONDS - (time.monotonic() - started)))
    except TimeoutError:
        logger.warning("healthz: database check timed out")
        database_ok = False
    checks = {"database": database_ok, "channel_layer": channel_layer_ok}
    status = 200 if all(checks.values()) else 503
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", "checks": checks}, status=status)


def _database_ok() -> bool:
    """``SELECT 1`` on this worker thread's own connection, handed back (to the pool) afterwards."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("healthz: database check failed", exc_info=False)
        return False
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def _channel_layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        return async_to_sync(_ping_channel_layer)(layer)
    except Exception:
        logger.warning("healthz: channel layer check failed", exc_info=False)
        return False


async def _ping_channel_layer(layer: Any) -> bool:
    """Send a message to a fresh channel and read it back; a layer that accepts but never delivers is down too.

    The whole round trip is bounded, not only the receive: a Redis that accepts the connection and never answers
    would otherwise hold the send (or the connection setup) for as long as its socket timeout."""

    async def round_trip() -> bool:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "healthz.ping"})
        message = await layer.receive(channel)
        return bool(message.get("type") == "healthz.ping")

    return await asyncio.wait_for(round_trip(), timeout=HEALTHZ_TIMEOUT_SECONDS)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (Django's admin): answer instead of logging a 404.

    Resolved per request, not at import: with the manifest storage, ``static()`` needs collectstatic to have run.
    """
    return HttpResponseRedirect(static("img/favicon.svg"))


class LoginForm(AuthenticationForm):
    """Django's login form with one plain message for every failure.

    Unknown username, wrong password and a deactivated account all end in the same message, so the form never
    tells a stranger which usernames exist. (The model backend refuses inactive users before the form sees them.)
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Login failed. Check your username and password; both are case-sensitive."),
        "inactive": _("Login failed. Check your username and password; both are case-sensitive."),
    }


class LoginView(auth_views.LoginView):
    """Login with our form; a user who is already logged in goes straight on. A person who needs a second factor
    is not logged in by the password: the second step (``casework.account_views``) asks for the code first."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if second_factor_needed(user):
            return second_factor_begin(self.request, user, next_url=self.get_success_url())
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    """Logout by POST only (Django's default); the login page then confirms it, so a shared computer is left safe."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have been logged out."))
        return response


def shell_page(url_name: str) -> Callable[[View], View]:
    """Guard a top-level page: login first, then the role table; a role without a menu entry gets 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not may_open(request.user, url_name):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to its first menu entry (the inbox for OSPOD staff and partners, oversight for the DPO, …)."""
    pages = pages_for(request.user)
    if not pages:
        raise PermissionDenied
    return redirect(pages[0].url_name)
