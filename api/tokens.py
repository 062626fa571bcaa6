"""Personal API tokens: made, revoked and checked here, every step audited (docs/adr/0031-rest-api-and-tokens.md).

The token text is ``cw_<prefix>_<secret>``: the prefix (8 hex digits) finds the row, the SHA-256 of the whole text is
compared in constant time. The text is returned once by :func:`token_create` and never stored. A use that is refused
(revoked, expired, a wrong secret for a known prefix, an owner no longer active or without a second factor) is
audited under the token's prefix; a text naming no token is not (there is nothing to name, as a missing case id).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.models import ApiToken, TokenScope
from casework.models import User
from casework.selectors.accounts import second_factor_enrolled
from permissions import audit
from permissions.models import AuditAction, AuditOutcome
from permissions.policy import Subject, may_own_api_token

OBJECT_TYPE = "api.apitoken"
TOKEN_RE = re.compile(r"^cw_([0-9a-f]{8})_([A-Za-z0-9_-]{20,64})$")
NAME_MAX = 80
#: How long a token lives at most, and by default (days).
MAX_DAYS = 365
DEFAULT_DAYS = 90
#: ``last_used_at`` is written at most this often per token (not one write per request).
LAST_USED_EVERY = datetime.timedelta(minutes=1)


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def may_own_tokens(user: User) -> bool:
    return may_own_api_token(Subject.from_user(user), has_second_factor=second_factor_enrolled(user))


def _audit(user: User | None, token_prefix: str, purpose: str, outcome: str, action: str = AuditAction.ACCOUNT) -> None:
    audit.record_committed(
        actor=user,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=token_prefix,
        fields=[],
        purpose=purpose,
        outcome=outcome,
    )


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    #: The full text, shown to the owner once.
    text: str


def token_create(*, user: User, name: str, scope: str, days: int | None = DEFAULT_DAYS) -> NewToken:
    """A new token for ``user`` (only with a confirmed second factor: policy ``may_own_api_token``). Field-level
    ``ValidationError`` for a bad name, scope or lifetime; ``PermissionDenied`` (audited) without a second factor."""
    if not may_own_tokens(user):
        _audit(user, "-", "api token create", AuditOutcome.DENIED, AuditAction.DENY)
        raise PermissionDenied(_("Set up a second factor before you create an API token."))
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = [str(_("Give the token a name, e.g. the system that will use it."))]
    elif len(name) > NAME_MAX:
        errors["name"] = [str(_("At most %(max)d characters.")) % {"max": NAME_MAX}]
    if scope not in TokenScope.values:
        errors["scope"] = [str(_("Choose read, or read and write."))]
    if days is None or not 1 <= days <= MAX_DAYS:
        errors["days"] = [str(_("A token lives between 1 and %(max)d days.")) % {"max": MAX_DAYS}]
    if errors:
        raise ValidationError(errors)
    assert days is not None
    now = timezone.now()
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        text = f"cw_{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with audit.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    name=name,
                    prefix=prefix,
                    digest=digest_of(text),
                    scope=scope,
                    created_at=now,
                    expires_at=now + datetime.timedelta(days=days),
                )
                audit.record(
                    actor=user,
                    action=AuditAction.ACCOUNT,
                    object_type=OBJECT_TYPE,
                    object_id=prefix,
                    fields=["scope", "expires_at"],
                    purpose="api token create",
                    outcome=AuditOutcome.ALLOWED,
                )
        except IntegrityError:
            continue  # the same prefix twice: draw again
        return NewToken(token=token, text=text)
    raise RuntimeError("could not draw a free token prefix")


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s own tokens (someone else's, or a missing one: ``ApiToken.DoesNotExist`` alike)."""
    with audit.atomic():
        token = ApiToken.objects.select_for_update(no_key=True).get(pk=token_id, user=user)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(
                actor=user,
                action=AuditAction.ACCOUNT,
                object_type=OBJECT_TYPE,
                object_id=token.prefix,
                fields=["revoked_at"],
                purpose="api token revoke",
                outcome=AuditOutcome.ALLOWED,
            )
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


#: What a refused token is told, whatever the reason (which is audited, not answered); also the answer to a bearer
#: token that is no token at all (``api.authentication``).
REFUSED_MESSAGE = _("The token is not valid, has expired or was revoked.")


class TokenRefused(Exception):
    """The token text does not open the API (the message is for the response: never the text itself)."""


def token_check(text: str) -> ApiToken:
    """The live token ``text`` names, with its owner loaded; :class:`TokenRefused` otherwise (audited when the text
    names an existing token). Marks the token used (at most once a minute)."""
    match = TOKEN_RE.match(text)
    if match is None:
        raise TokenRefused(_("The token is not valid."))
    token = ApiToken.objects.select_related("user", "user__organisation").filter(prefix=match.group(1)).first()
    if token is None:
        raise TokenRefused(_("The token is not valid."))
    now = timezone.now()
    reason = ""
    if not hmac.compare_digest(token.digest, digest_of(text)):
        reason = "api token wrong secret"
    elif token.revoked_at is not None:
        reason = "api token revoked"
    elif token.expires_at <= now:
        reason = "api token expired"
    elif not may_own_tokens(token.user):
        reason = "api token owner not allowed"
    if reason:
        _audit(token.user, token.prefix, reason, AuditOutcome.DENIED, AuditAction.DENY)
        raise TokenRefused(REFUSED_MESSAGE)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
