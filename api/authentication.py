"""How the API knows who calls: a personal token (``Authorization: Bearer cw_…``) or an OAuth2 access token of an
organisation's application (client credentials), which acts as the 2FA-protected account that owns the application.
No session authentication: the API has no CSRF question (the schema and docs pages are ordinary pages)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from api import tokens
from casework.models import User


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer" or not parts[1].startswith(b"cw_"):
            return None  # not ours: an OAuth2 access token, or nothing
        try:
            token = tokens.token_check(parts[1].decode("ascii", "replace"))
        except tokens.TokenRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def _sends_bearer_credentials(request: Request) -> bool:
    parts = get_authorization_header(request).split()
    return bool(parts) and parts[0].lower() == b"bearer"


class OwnedApplicationAuthentication(OAuth2Authentication):
    """django-oauth-toolkit's check of the access token; a client-credentials token (no user of its own) acts as the
    account that owns the application, which must be active and protected by a second factor.

    Last in the chain: a bearer token that neither this nor :class:`ApiTokenAuthentication` recognises (unknown,
    expired, revoked, malformed) is refused here as invalid — django-oauth-toolkit alone answers ``None`` and DRF
    would then say that no credentials were given. A request without an Authorization header still gets that."""

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        found = super().authenticate(request)
        if found is None:
            if _sends_bearer_credentials(request):
                raise exceptions.AuthenticationFailed(tokens.REFUSED_MESSAGE)
            return None
        user, access_token = found
        owner = user or access_token.application.user
        if owner is None or not tokens.may_own_tokens(owner):
            raise exceptions.AuthenticationFailed(_("The application's account may not use the API."))
        return owner, access_token
