"""Writes of the service directory: service types, providers and their service cards.

Each write is one ``permissions.audit.atomic()`` transaction with its audit row (field *names* only). Saving a card
confirms it: ``card_updated_at`` moves to now and the card stops being stale. Who may edit which card is decided by
``permissions.policy`` (``may_edit_service_card``); the views ask it before calling these functions.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions import audit
from services.models import DEFAULT_SERVICE_TYPES, Provider, Service, ServiceType

if TYPE_CHECKING:
    from casework.models import Municipality, Organisation, ResidenceMunicipality, User

#: The card fields a provider's user may change (everything but provider, type's history and the bookkeeping).
CARD_FIELDS: tuple[str, ...] = (
    "service_type",
    "name",
    "description",
    "target_group",
    "age_min",
    "age_max",
    "address",
    "phone",
    "email",
    "web",
    "opening_hours",
    "how_to_refer",
    "capacity_total",
    "free_places",
    "waiting_days",
    "languages",
    "cost",
    "cost_note",
    "is_active",
)
AREA_FIELDS: tuple[str, ...] = ("area_orps", "area_municipalities")


def fold(text: str) -> str:
    """Lower case without diacritics ("Raná péče" → "rana pece"): the directory searches in this form, so that a
    search typed without háčky and čárky finds the same cards on both databases."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def service_search_text(service: Service) -> str:
    """What the directory's full-text search looks through: the card's texts, its provider and type names."""
    kind = service.service_type
    parts = [
        service.name,
        service.description,
        service.target_group,
        service.provider.organisation.name,
        kind.name_cs,
        kind.name_en,
        kind.abbreviation,
        kind.code,
        service.languages,
    ]
    return fold(" ".join(part for part in parts if part))


def service_types_ensure_defaults() -> int:
    """Create any missing type of ``DEFAULT_SERVICE_TYPES`` (edited ones stay). Returns how many were created."""
    created = 0
    for position, (code, name_cs, name_en, abbreviation) in enumerate(DEFAULT_SERVICE_TYPES):
        _, made = ServiceType.objects.get_or_create(
            code=code,
            defaults={"name_cs": name_cs, "name_en": name_en, "abbreviation": abbreviation, "position": position * 10},
        )
        created += made
    return created


def provider_register(
    *, organisation: Organisation, registration_number: str = "", web: str = "", by: User | None
) -> Provider:
    """Make ``organisation`` a provider of the directory (idempotent: returns the existing row, updated)."""
    with audit.atomic():
        provider, _created = Provider.objects.get_or_create(organisation=organisation)
        provider.registration_number = registration_number
        provider.web = web
        provider.full_clean()
        provider.save()
        audit.record_write(by, None, "services.provider", provider.pk, ["registration_number", "web"], "directory")
    return provider


def _validated(service: Service, exclude: Iterable[str] = ()) -> None:
    service.full_clean(exclude=list(exclude))
    if service.age_min is not None and service.age_max is not None and service.age_min > service.age_max:
        raise ValidationError({"age_max": ValidationError(_("The upper age must not be below the lower one."))})
    if (
        service.free_places is not None
        and service.capacity_total is not None
        and service.free_places > service.capacity_total
    ):
        raise ValidationError(
            {"free_places": ValidationError(_("There cannot be more free places than the capacity."))}
        )


def service_create(
    *,
    provider: Provider,
    data: Mapping[str, Any],
    area_orps: Iterable[Municipality] = (),
    area_municipalities: Iterable[ResidenceMunicipality] = (),
    by: User | None,
) -> Service:
    """A new card of ``provider``. ``data`` holds values of ``CARD_FIELDS``; field-level ``ValidationError``."""
    unknown = set(data) - set(CARD_FIELDS)
    if unknown:
        raise ValueError(f"not card fields: {sorted(unknown)}")
    service = Service(provider=provider, card_updated_by=by, card_updated_at=timezone.now(), **data)
    _validated(service, exclude=["search_text"])
    with audit.atomic():
        service.search_text = service_search_text(service)
        service.save()
        service.area_orps.set(list(area_orps))
        service.area_municipalities.set(list(area_municipalities))
        audit.record_write(by, None, "services.service", service.pk, [*data, *AREA_FIELDS], "service card created")
    return service


def service_card_update(
    *,
    service: Service,
    data: Mapping[str, Any],
    area_orps: Iterable[Municipality] | None = None,
    area_municipalities: Iterable[ResidenceMunicipality] | None = None,
    by: User,
) -> Service:
    """Save and confirm a card: the changed fields, ``card_updated_at = now`` (also when nothing changed — the
    provider confirms the card is current), the search text. Audited with the names of the changed fields. Raises
    field-level ``ValidationError`` and leaves the row untouched."""
    unknown = set(data) - set(CARD_FIELDS)
    if unknown:
        raise ValueError(f"not card fields: {sorted(unknown)}")
    changed = [name for name, value in data.items() if getattr(service, name) != value]
    for name, value in data.items():
        setattr(service, name, value)
    try:
        _validated(service, exclude=["search_text"])
    except ValidationError:
        service.refresh_from_db()
        raise
    with audit.atomic():
        Service.objects.select_for_update().filter(pk=service.pk).first()
        service.card_updated_at = timezone.now()
        service.card_updated_by = by
        service.search_text = service_search_text(service)
        service.save()
        if area_orps is not None:
            new = sorted(m.pk for m in area_orps)
            if sorted(service.area_orps.values_list("pk", flat=True)) != new:
                changed.append("area_orps")
                service.area_orps.set(new)
        if area_municipalities is not None:
            new = sorted(m.pk for m in area_municipalities)
            if sorted(service.area_municipalities.values_list("pk", flat=True)) != new:
                changed.append("area_municipalities")
                service.area_municipalities.set(new)
        audit.record_write(
            by, None, "services.service", service.pk, [*changed, "card_updated_at"], "service card updated"
        )
    return service


def service_card_saved_in_admin(*, service: Service, by: User) -> None:
    """After the admin saved a card (and its areas): refresh its search text, confirm it and audit the save."""
    with audit.atomic():
        Service.objects.filter(pk=service.pk).update(
            search_text=service_search_text(service), card_updated_at=timezone.now(), card_updated_by=by
        )
        audit.record_write(by, None, "services.service", service.pk, ["card_updated_at"], "service card (admin)")


def service_search_text_refresh(*, services: Iterable[Service] | None = None) -> int:
    """Recompute the search text of ``services`` (default: all), e.g. after a provider's organisation was renamed."""
    rows = (
        services if services is not None else Service.objects.select_related("provider__organisation", "service_type")
    )
    count = 0
    for service in rows:
        Service.objects.filter(pk=service.pk).update(search_text=service_search_text(service))
        count += 1
    return count
