"""The product's admin site: Django's, except that the data-protection officer enters it too — to read the audit log,
view only (``permissions.policy.may_read_audit_admin``) — without staff status, which only administrators have.

Installed in ``INSTALLED_APPS`` as ``casework.admin_apps.AdminConfig`` in place of ``django.contrib.admin`` (that
module imports no models: app configs load before them).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from permissions.policy import may_read_audit_admin


class CaseworkAdminSite(AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) or may_read_audit_admin(request.user)  # type: ignore[arg-type]

    def password_change(  # type: ignore[override]
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """One's own password is changed on the account pages, where the change is audited and notified."""
        return redirect("password_change")
