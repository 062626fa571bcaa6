"""Logins, logouts and failed logins in the audit chain (issue 19); django-axes keeps its own table for lockouts.

Action ``login``, object the account (``casework.user``) and no field names; purposes ``login``, ``logout``,
``login failed`` (password step) and ``second factor failed`` (the code step). A failed attempt's actor is
*anonymous*: nobody proved who they are. The username typed is never stored — it may be a password typed in the wrong
box: the row names the account's id when an account of that name exists, and ``unknown`` otherwise.

django-axes counts failures per (username, address) in its own table and logs each attempt; it is given a keyed hash
of the typed username (:func:`axes_username`, ``AXES_USERNAME_CALLABLE``), so the lockout still works per name while
neither its table nor its log lines hold what was typed.

The rows are appended at once (a login happens outside any write transaction); a login whose row cannot be written
fails with the error (fail closed), a failed attempt is refused anyway.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from casework.models import User
from permissions import audit
from permissions.models import AuditAction, AuditOutcome

OBJECT_TYPE = "casework.user"
UNKNOWN_ACCOUNT = "unknown"
#: The sender ``casework.account_views`` uses for a wrong second-factor code.
SECOND_FACTOR_SENDER = "casework.account_views"


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> str | None:
    """What django-axes counts failed logins under: a keyed hash of the username typed (or ``None`` without one)."""
    source = credentials if credentials else getattr(request, "data", request.POST) if request is not None else None
    typed = source.get("username") if source is not None else None
    if not typed:
        return None
    return "h:" + salted_hmac("casework.axes.username", str(typed), algorithm="sha256").hexdigest()[:40]


@receiver(user_logged_in, dispatch_uid="casework.audit_login")
def audit_login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit.record(
        actor=user,
        action=AuditAction.LOGIN,
        object_type=OBJECT_TYPE,
        object_id=user.pk,
        fields=[],
        purpose="login",
        outcome=AuditOutcome.ALLOWED,
    )


@receiver(user_logged_out, dispatch_uid="casework.audit_logout")
def audit_logout(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is None or not user.is_authenticated:
        return
    audit.record(
        actor=user,
        action=AuditAction.LOGIN,
        object_type=OBJECT_TYPE,
        object_id=user.pk,
        fields=[],
        purpose="logout",
        outcome=AuditOutcome.ALLOWED,
    )


@receiver(user_login_failed, dispatch_uid="casework.audit_login_failed")
def audit_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = credentials.get(User.USERNAME_FIELD)
    account_id = None
    if isinstance(username, str) and username:
        account_id = User.objects.filter(**{User.USERNAME_FIELD: username}).values_list("pk", flat=True).first()
    audit.record(
        actor=AnonymousUser(),
        action=AuditAction.LOGIN,
        object_type=OBJECT_TYPE,
        object_id=account_id if account_id is not None else UNKNOWN_ACCOUNT,
        fields=[],
        purpose="second factor failed" if sender == SECOND_FACTOR_SENDER else "login failed",
        outcome=AuditOutcome.DENIED,
    )
