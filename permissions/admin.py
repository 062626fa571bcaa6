"""The audit log in the admin: read-only, for the data-protection officer's oversight.

Nobody can add, change or delete a row here (the database refuses the last two anyway). The DPO enters the admin for
this page alone (``casework.admin_site``; ``permissions.policy.may_read_audit_admin``), with view access and nothing
else. Showing a row reveals only who, when, what kind and which field *names*, never case content.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from permissions.models import AuditEvent
from permissions.policy import may_read_audit_admin


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("seq", "occurred_at", "actor_username", "actor_role", "action", "object_type", "case_id", "outcome")
    list_filter = ("action", "outcome", "actor_role", "actor_sector")
    search_fields = ("actor_username", "object_id", "request_id")
    ordering = ("-seq",)
    # COUNT(*) over an ever-growing table on every page is the slow part of a changelist.
    show_full_result_count = False
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_read_audit_admin(request.user)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return may_read_audit_admin(request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
