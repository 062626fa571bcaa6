"""Admin for the authorities' local time limits. Deadlines themselves are not here: they point at cases and people,
and the administrator never sees case work (casework/admin.py)."""

from __future__ import annotations

from django.contrib import admin

from workflows.models import AuthoritySettings


@admin.register(AuthoritySettings)
class AuthoritySettingsAdmin(admin.ModelAdmin):
    list_display = [
        "municipality",
        "urgent_hours",
        "standard_days",
        "review_months",
        "due_soon_days",
        "escalation_grace_days",
    ]
    list_select_related = ["municipality"]
    autocomplete_fields = ["municipality"]
    search_fields = ["municipality__name", "municipality__code"]
