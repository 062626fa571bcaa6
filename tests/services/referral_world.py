"""A small world for referral tests: a case in Olomouc, an SAS provider with an intake worker, a referral helper."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from casework.models import Case, Municipality, Organisation, Role, Sector, User
from services.models import Provider, Service, ServiceType
from services.referrals.models import Referral, ReferralFor
from services.referrals.services import AgreementInput, referral_send
from tests.factories import OrganisationFactory, UserFactory, open_case, write_note

SAS_WORKER_ROLE = "sociální pracovník/pracovnice SAS"


def service_type(code: str = "sas", name_cs: str = "sociálně aktivizační služby pro rodiny s dětmi") -> ServiceType:
    found, _created = ServiceType.objects.get_or_create(
        code=code, defaults={"name_cs": name_cs, "name_en": f"{code} (en)", "abbreviation": code.upper()}
    )
    return found


def sas_service(
    municipality: Municipality, *, name: str = "SAS Rodina spolu", waiting_days: int | None = 14, free: int = 2
) -> Service:
    org = OrganisationFactory.create(name=f"Poskytovatel {name}", sector=Sector.SERVICE, municipality=municipality)
    provider = Provider.objects.create(organisation=org)
    service = Service.objects.create(
        provider=provider,
        service_type=service_type(),
        name=name,
        capacity_total=10,
        free_places=free,
        waiting_days=waiting_days,
    )
    service.area_orps.add(municipality)
    return service


def intake_worker(organisation: Organisation, username: str = "sas-prijem") -> User:
    return UserFactory.create(username=username, role=Role.PARTNER, organisation=organisation)


@dataclass
class ReferralWorld:
    case: Case
    coordinator: User
    service: Service
    worker: User


def agreement(day: datetime.date | None = None) -> AgreementInput:
    return AgreementInput(given_by="mother", given_by_name="Jana Testovací", given_on=day or timezone.localdate())


def send(world: ReferralWorld, *, note_ids: list[str] | None = None, include_child: bool = True) -> Referral:
    return referral_send(
        case=world.case,
        sent_by=world.coordinator,
        service=world.service,
        referred=ReferralFor.FAMILY,
        reason="Rodina potřebuje podporu při péči o domácnost.",
        include_child=include_child,
        note_ids=note_ids or [],
        agreement=agreement(),
    )


def make_world(coordinator: User) -> ReferralWorld:
    assert coordinator.organisation is not None
    case = open_case(coordinator=coordinator)
    service = sas_service(coordinator.organisation.municipality)
    worker = intake_worker(service.provider.organisation)
    return ReferralWorld(case=case, coordinator=coordinator, service=service, worker=worker)


__all__ = ["make_world", "send", "write_note"]
