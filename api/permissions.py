"""DRF permission classes of the API: the credential's scope. Who may read which case is never decided here — the
views use ``permissions.access`` and the gate like the pages do."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from api.models import ApiToken
from permissions.policy import (
    Subject,
    api_token_scope_allows,
    may_search_service_directory,
    may_use_authority_api,
)


def credential_scope(auth: Any) -> str:
    """ "read" or "write": a personal token's scope; an OAuth2 token's ("write" among its scopes)."""
    if isinstance(auth, ApiToken):
        return auth.scope
    scopes = set(str(getattr(auth, "scope", "")).split())
    return "write" if "write" in scopes else "read" if "read" in scopes else ""


class HasScope(BasePermission):
    """Authenticated by a credential whose scope covers the method (writes need "write")."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user is None or not request.user.is_authenticated or request.auth is None:
            return False
        return api_token_scope_allows(credential_scope(request.auth), writes=request.method not in SAFE_METHODS)


class AuthorityStaff(BasePermission):
    """The OSPOD routes (``may_use_authority_api``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return may_use_authority_api(Subject.from_user(request.user))


class DirectoryReader(BasePermission):
    """The service directory's routes (``may_search_service_directory``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return may_search_service_directory(request.user)
