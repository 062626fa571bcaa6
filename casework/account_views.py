"""Account security: the second step of the login, 2FA enrolment, recovery codes, and the session's remaining time.

The login is two steps. The password step (``casework.views.LoginView``) does not log a person in when they need a
second factor: it remembers them in the session as *pending* (for a few minutes) and sends them here. Only a valid
code from the authenticator app or an unused recovery code completes ``django.contrib.auth.login``; until then the
request is anonymous everywhere (pages, admin, websocket). Wrong codes count as failed logins for django-axes (the
same per-username-and-address lockout as wrong passwords); the counter is reset only by a complete login.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict

import django_otp
import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.models import User
from casework.selectors.accounts import (
    authenticator_of,
    second_factor_needed,
    second_factor_required,
    second_factor_state,
)
from casework.services.accounts import (
    recovery_code_used,
    recovery_codes_regenerate,
    second_factor_confirm,
    second_factor_enrol_start,
    second_factor_remove,
)

PENDING_KEY = "second_factor_pending"
ENROL_DEVICE_KEY = "second_factor_enrol_device"
# Between the password and the code (or the end of enrolment, which may include installing the app).
PENDING_SECONDS = 600
TOTP_DIGITS = 6
# The credential django-axes counts failures by (its AXES_USERNAME_FORM_FIELD, "username" by default).
_USERNAME_FIELD = "username"
# Set at every login (remember_second_factor_need below): whether this session must be verified.
NEED_KEY = "second_factor_needed"
# When the session was last extended (seconds since the epoch), written by casework.middleware.IdleSessionMiddleware.
TOUCHED_KEY = "session_touched_at"


def session_verified(user: object) -> bool:
    """Whether this request's user proved a second factor in this session (set by django-otp's OTPMiddleware)."""
    return getattr(user, "otp_device", None) is not None


class Pending(TypedDict):
    user: int
    backend: str
    next: str
    at: float


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
        help_text=_("The six digits from your authenticator app, or one of your recovery codes."),
    )

    def clean_token(self) -> str:
        return "".join(str(self.cleaned_data["token"]).split()).lower()


def second_factor_begin(request: HttpRequest, user: User, *, next_url: str) -> HttpResponse:
    """Called by the password step for a person who needs a second factor: remember them as pending, ask for it."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = Pending(
        user=user.pk, backend=getattr(user, "backend", ""), next=next_url, at=time.time()
    )
    return redirect("otp_verify")


def _pending(request: HttpRequest) -> tuple[User, Pending] | None:
    pending: Pending | None = request.session.get(PENDING_KEY)
    if not pending:
        return None
    if time.time() - pending["at"] > PENDING_SECONDS:
        del request.session[PENDING_KEY]
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return (user, pending) if user is not None else None


def _subject(request: HttpRequest) -> tuple[User, Pending | None] | None:
    """Who is proving a second factor: the pending person, or a logged-in one whose session is not verified yet."""
    found = _pending(request)
    if found is not None:
        return found
    user = request.user
    if isinstance(user, User) and not session_verified(user):
        return user, None
    return None


def _complete_login(request: HttpRequest, user: User, pending: Pending | None, device: Device) -> str:
    """Log in (a pending person) and mark the session verified by ``device``; returns where to go next."""
    next_url = pending["next"] if pending else settings.LOGIN_REDIRECT_URL
    request.session.pop(PENDING_KEY, None)
    request.session.pop(ENROL_DEVICE_KEY, None)
    if pending is not None:
        auth_login(request, user, backend=pending["backend"] or None)
    django_otp.login(request, device)
    return next_url


def _match(user: User, token: str) -> Device | None:
    """Six digits go to the authenticator, anything else to the recovery codes (a used code is deleted by
    django-otp). Trying only the one device the token is meant for keeps a recovery code from counting as a failed
    authenticator code in django-otp's per-device throttle."""
    model: type[Device] = TOTPDevice if token.isdigit() and len(token) == TOTP_DIGITS else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update(no_key=True):
            if device.verify_token(token):
                return device
    return None


def _locked_out(request: HttpRequest, user: User) -> HttpResponse | None:
    credentials = {_USERNAME_FIELD: user.get_username()}
    if getattr(request, "axes_locked_out", False) or AxesProxyHandler.is_locked(request, credentials):
        request.session.pop(PENDING_KEY, None)
        return get_lockout_response(request, None, credentials)
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    subject = _subject(request)
    if subject is None:
        return redirect("login")
    user, pending = subject
    if authenticator_of(user) is None:
        return redirect("otp_enrol")
    locked = _locked_out(request, user)
    if locked is not None:
        return locked
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _match(user, form.cleaned_data["token"])
        if device is not None:
            next_url = _complete_login(request, user, pending, device)
            if isinstance(device, StaticDevice):
                recovery_code_used(user=user)
                left = device.token_set.count()
                messages.warning(
                    request,
                    _("You logged in with a recovery code; %(left)s left. Generate new ones on your account page.")
                    % {"left": left},
                )
            return redirect(next_url)
        user_login_failed.send(sender=__name__, credentials={_USERNAME_FIELD: user.get_username()}, request=request)
        locked = _locked_out(request, user)
        if locked is not None:
            return locked
        form.add_error("token", _("The code is not valid. Enter the current code from the app or a recovery code."))
    return render(request, "registration/otp_verify.html", {"form": form})


def _qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG (paths only, no script), rendered on the server."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, border=2))


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: scan the QR code (or type the secret), confirm one code, get recovery codes."""
    subject = _subject(request)
    if subject is None:  # anonymous, or already verified by a second factor
        return redirect("account" if request.user.is_authenticated else "login")
    user, pending = subject
    if authenticator_of(user) is not None:
        return redirect("otp_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False, pk=request.session.get(ENROL_DEVICE_KEY)).first()
    form = TokenForm(request.POST or None)
    form.fields["token"].help_text = ""  # recovery codes come after enrolment; the page's steps say what to enter
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            device, codes = second_factor_confirm(user=user, device_id=device.pk, token=form.cleaned_data["token"])
        except ValidationError as error:
            form.add_error("token", error.message_dict.get("token", error.messages))
        else:
            next_url = _complete_login(request, user, pending, device)
            return render(request, "registration/otp_recovery_codes.html", {"codes": codes, "next_url": next_url})
    if device is None:
        device = second_factor_enrol_start(user=user)
        request.session[ENROL_DEVICE_KEY] = device.pk
    uri = device.config_url
    context: dict[str, Any] = {
        "form": form,
        "qr_svg": _qr_svg(uri),
        "otpauth_uri": uri,
        "secret": _grouped(uri.split("secret=", 1)[1].split("&", 1)[0]),
        "required": second_factor_required(user),
    }
    return render(request, "registration/otp_enrol.html", context)


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_security(request: HttpRequest) -> HttpResponse:
    """The person's own 2FA: status, new recovery codes, switching it off where it is optional."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "recovery_codes":
                codes = recovery_codes_regenerate(user=user)
                context = {"codes": codes, "next_url": reverse("account")}
                return render(request, "registration/otp_recovery_codes.html", context)
            if action == "remove":
                second_factor_remove(user=user, removed_by=user)
                messages.success(request, _("The second factor is switched off for your account."))
                return redirect("account")
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("account")
    return render(request, "registration/account.html", {"state": second_factor_state(user)})


@never_cache
@require_http_methods(["GET", "POST"])
def session_status(request: HttpRequest) -> JsonResponse:
    """Seconds left before the session ends for inactivity. GET only reads (it does not extend the session, so the
    warning's own polling cannot keep an idle session alive); POST is "stay logged in" and extends it."""
    if not request.user.is_authenticated:
        return JsonResponse({"remaining": 0})
    if request.method == "POST":
        request.session[TOUCHED_KEY] = time.time()
    return JsonResponse({"remaining": session_remaining_seconds(request)})


def session_remaining_seconds(request: HttpRequest) -> int:
    touched = float(request.session.get(TOUCHED_KEY, time.time()))
    return max(0, int(touched + settings.SESSION_COOKIE_AGE - time.time()))


@receiver(user_logged_in)
def remember_second_factor_need(sender: type, request: HttpRequest | None, user: User, **kwargs: object) -> None:
    """Record at login whether this session must be verified by a second factor (see SecondFactorMiddleware), and
    start its inactivity clock."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[NEED_KEY] = second_factor_needed(user)
    request.session[TOUCHED_KEY] = time.time()
