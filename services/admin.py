"""Admin for the service directory: the list of service types (configuration), providers and their cards.

The administrator keeps the list of types and registers providers (an organisation and its registration number); the
providers' own users keep their cards current in the product (``services.views``). A card saved here goes through the
same service as the product's edit form, so it is audited and its search text and ``card_updated_at`` are refreshed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from services.models import Provider, Service, ServiceType
from services.services import service_card_saved_in_admin


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_cs", "name_en", "abbreviation", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["code", "name_cs", "name_en", "abbreviation"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a type in use stays; deactivate it instead


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["organisation", "registration_number", "is_active"]
    list_select_related = ["organisation"]
    search_fields = ["organisation__name", "registration_number", "organisation__ico"]
    autocomplete_fields = ["organisation"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "provider", "service_type", "free_places", "waiting_days", "card_updated_at", "is_active"]
    list_filter = ["service_type", "is_active", "cost"]
    list_select_related = ["provider__organisation", "service_type"]
    search_fields = ["name", "provider__organisation__name"]
    autocomplete_fields = ["provider", "service_type"]
    filter_horizontal = ["area_orps", "area_municipalities"]
    readonly_fields = ["card_updated_at", "card_updated_by"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        service_card_saved_in_admin(service=form.instance, by=request.user)  # type: ignore[arg-type]  # staff only
