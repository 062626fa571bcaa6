"""The service directory's test data: providers and service cards (fictional)."""

from __future__ import annotations

from typing import Any

from casework.models import Municipality, Organisation, ResidenceMunicipality, Sector, User
from services.models import Provider, Service, ServiceType
from services.services import provider_register, service_create, service_types_ensure_defaults
from tests.factories.people import OrganisationFactory


def service_type(code: str = "sas") -> ServiceType:
    service_types_ensure_defaults()
    return ServiceType.objects.get(code=code)


def provider(*, organisation: Organisation | None = None, municipality: Municipality | None = None) -> Provider:
    if organisation is None:
        extra = {"municipality": municipality} if municipality is not None else {}
        organisation = OrganisationFactory.create(sector=Sector.SERVICE, **extra)
    return provider_register(organisation=organisation, registration_number="1234567", by=None)


def service(
    *,
    of: Provider | None = None,
    type_code: str = "sas",
    orps: tuple[Municipality, ...] = (),
    municipalities: tuple[ResidenceMunicipality, ...] = (),
    by: User | None = None,
    **fields: Any,
) -> Service:
    data: dict[str, Any] = {"name": "Služba", "service_type": service_type(type_code), **fields}
    return service_create(
        provider=of or provider(), data=data, area_orps=orps, area_municipalities=municipalities, by=by
    )
