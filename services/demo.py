# ruff: noqa: RUF001 (Czech text uses the en dash)
"""Demo data of the service network: a dozen services of the Olomouc Region with fictional providers.

Called by ``seed_demo`` (``workflows/management/commands/seed_demo.py``) inside its transaction; idempotent (a
service is found by provider and name). The demo's own SAS organisation (login ``sas``) gets a card with free places
in the Olomouc ORP — where the demo children live — so that a coordinator finds it with "only with free places".
Every name, address, phone number and registration number here is made up.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from casework.competence_data import OLOMOUC_REGION
from casework.models import Municipality, Organisation, ResidenceMunicipality, Sector, User
from services.models import Cost, Provider, Service, ServiceType
from services.services import provider_register, service_create, service_types_ensure_defaults

#: The demo SAS organisation's name in seed_demo (its partner user ``sas`` keeps the card current).
DEMO_SAS_ORGANISATION = "SAS pro rodiny s dětmi Olomouc (Jabloňka pro rodiny, z. ú.)"


@dataclass(frozen=True)
class DemoProvider:
    name: str
    sector: str
    orp_code: str
    registration_number: str


@dataclass(frozen=True)
class DemoService:
    provider: str
    type_code: str
    name: str
    description: str
    age: tuple[int | None, int | None]
    orps: tuple[str, ...]
    capacity: int | None
    free: int | None
    waiting_days: int | None
    cost: str = Cost.FREE
    languages: str = "čeština"
    months_old: int = 0
    municipalities: tuple[str, ...] = ()


DEMO_PROVIDERS: tuple[DemoProvider, ...] = (
    DemoProvider(DEMO_SAS_ORGANISATION, Sector.SERVICE, "OM", "9990001"),
    DemoProvider("Rodinné centrum Modrý most, z. s.", Sector.SERVICE, "OM", "9990002"),
    DemoProvider("Klub Přístav Hranice, o. p. s.", Sector.SERVICE, "HR", "9990003"),
    DemoProvider("Raná péče Krůček Haná, z. ú.", Sector.SERVICE, "PV", "9990004"),
    DemoProvider("Krizové centrum Kotva Olomouc, z. ú.", Sector.SERVICE, "OM", "9990005"),
    DemoProvider("Pedagogicko-psychologická poradna Hanácký kraj (fiktivní)", Sector.SCHOOL, "OM", ""),
    DemoProvider("Speciálně pedagogické centrum Duha Šumperk (fiktivní)", Sector.SCHOOL, "SU", ""),
    DemoProvider("Ambulance dětské psychiatrie MUDr. Ivany Sládkové (fiktivní)", Sector.HEALTH, "PR", ""),
    DemoProvider("Azylový dům Světluška Přerov, z. s.", Sector.SERVICE, "PR", "9990009"),
    DemoProvider("Intervenční centrum Olomouckého kraje – pobočka Jeseník (fiktivní)", Sector.SERVICE, "JE", "9990010"),
)

DEMO_SERVICES: tuple[DemoService, ...] = (
    DemoService(
        DEMO_SAS_ORGANISATION,
        "sas",
        "SAS Jabloňka – terénní práce s rodinou",
        "Sociálně aktivizační služba pro rodiny s dětmi: podpora rodičů v péči o děti, hospodaření, škola, bydlení. "
        "Pracujeme v rodině i v poradně.",
        (0, 18),
        ("OM", "ST"),
        12,
        3,
        7,
    ),
    DemoService(
        "Rodinné centrum Modrý most, z. s.",
        "sas",
        "SAS Modrý most",
        "Sociálně aktivizační služba pro rodiny s dětmi v Olomouci a okolí; skupinové programy pro rodiče.",
        (0, 15),
        ("OM",),
        8,
        0,
        45,
        languages="čeština, ukrajinština",
    ),
    DemoService(
        "Rodinné centrum Modrý most, z. s.",
        "mediation",
        "Rodinná mediace Modrý most",
        "Mediace pro rodiče v rozchodu; dohody o péči o děti.",
        (None, None),
        ("OM", "LT", "ST"),
        None,
        None,
        21,
        cost=Cost.CONTRIBUTION,
        months_old=8,
    ),
    DemoService(
        "Klub Přístav Hranice, o. p. s.",
        "nzdm",
        "NZDM Přístav",
        "Nízkoprahový klub pro děti a mladé lidi: volný čas, doučování, rozhovor se sociálním pracovníkem.",
        (11, 20),
        ("HR", "LI"),
        30,
        12,
        0,
    ),
    DemoService(
        "Raná péče Krůček Haná, z. ú.",
        "early_care",
        "Raná péče Krůček",
        "Terénní služba pro rodiny dětí s postižením nebo ohroženým vývojem do 7 let.",
        (0, 7),
        ("PV", "KO", "OM"),
        40,
        2,
        30,
    ),
    DemoService(
        "Krizové centrum Kotva Olomouc, z. ú.",
        "crisis",
        "Krizová pomoc Kotva – nonstop linka a ambulance",
        "Krizová intervence pro děti, dospívající a rodiče; ambulantně i telefonicky 24 hodin denně.",
        (None, None),
        ("OM", "PV", "PR", "ST", "UN", "LT"),
        None,
        None,
        0,
        languages="čeština, angličtina",
    ),
    DemoService(
        "Krizové centrum Kotva Olomouc, z. ú.",
        "counselling",
        "Odborné sociální poradenství Kotva",
        "Poradenství rodinám v obtížné situaci: dluhy, bydlení, vztahy, péče o děti.",
        (None, None),
        ("OM",),
        None,
        None,
        10,
    ),
    DemoService(
        "Krizové centrum Kotva Olomouc, z. ú.",
        "therapy",
        "Rodinná terapie Kotva",
        "Rodinná a individuální terapie dětí a dospívajících, i po traumatické zkušenosti.",
        (6, 18),
        ("OM",),
        15,
        0,
        90,
        cost=Cost.CONTRIBUTION,
        months_old=7,
    ),
    DemoService(
        "Pedagogicko-psychologická poradna Hanácký kraj (fiktivní)",
        "ppp",
        "PPP – pracoviště Olomouc",
        "Psychologická a speciálně pedagogická diagnostika, poradenství škole a rodině.",
        (3, 19),
        ("OM", "ST", "UN", "LT"),
        None,
        None,
        60,
    ),
    DemoService(
        "Speciálně pedagogické centrum Duha Šumperk (fiktivní)",
        "spc",
        "SPC Duha – děti s poruchou autistického spektra",
        "Podpora dětí s PAS, jejich rodin a škol.",
        (2, 19),
        ("SU", "ZA", "MO"),
        60,
        5,
        40,
    ),
    DemoService(
        "Ambulance dětské psychiatrie MUDr. Ivany Sládkové (fiktivní)",
        "child_psychiatrist",
        "Dětská psychiatrická ambulance Přerov",
        "Dětská a dorostová psychiatrie, ambulantní péče; nové pacienty přijímáme na doporučení.",
        (0, 18),
        ("PR", "HR", "LI"),
        None,
        0,
        120,
        cost=Cost.FREE,
    ),
    DemoService(
        "Azylový dům Světluška Přerov, z. s.",
        "shelter",
        "Azylový dům pro matky s dětmi Světluška",
        "Přechodné ubytování pro matky (i otce) s dětmi v bytové nouzi.",
        (None, None),
        ("PR", "HR", "LI", "OM"),
        24,
        1,
        14,
        cost=Cost.PAID,
    ),
    DemoService(
        "Intervenční centrum Olomouckého kraje – pobočka Jeseník (fiktivní)",
        "intervention_centre",
        "Intervenční centrum – pobočka Jeseník",
        "Pomoc osobám ohroženým domácím násilím, včetně dětí, které jsou jeho svědky.",
        (None, None),
        ("JE",),
        None,
        None,
        2,
        municipalities=("Zlaté Hory", "Javorník"),
    ),
)


def _orp(code: str) -> Municipality:
    name = next((name for c, name, _places in OLOMOUC_REGION if c == code), code)
    orp = Municipality.objects.filter(code=code).first()
    if orp is None:
        orp = Municipality.objects.create(code=code, name=name)
    return orp


def seed_service_directory(*, by: User | None = None) -> dict[str, Service]:
    """The demo's providers and services (see the module's docstring). Returns the services by name."""
    service_types_ensure_defaults()
    types = {t.code: t for t in ServiceType.objects.all()}
    providers: dict[str, Provider] = {}
    for spec in DEMO_PROVIDERS:
        orp = _orp(spec.orp_code)
        organisation = Organisation.objects.filter(name=spec.name).first()
        if organisation is None:
            organisation = Organisation.objects.create(name=spec.name, sector=spec.sector, municipality=orp)
        provider = Provider.objects.filter(organisation=organisation).first()
        if provider is None:
            provider = provider_register(organisation=organisation, registration_number=spec.registration_number, by=by)
        providers[spec.name] = provider
    made: dict[str, Service] = {}
    now = timezone.now()
    for item in DEMO_SERVICES:
        provider = providers[item.provider]
        service = Service.objects.filter(provider=provider, name=item.name).first()
        if service is None:
            data: dict[str, Any] = {
                "service_type": types[item.type_code],
                "name": item.name,
                "description": item.description,
                "age_min": item.age[0],
                "age_max": item.age[1],
                "capacity_total": item.capacity,
                "free_places": item.free,
                "waiting_days": item.waiting_days,
                "languages": item.languages,
                "cost": item.cost,
                "address": f"{item.provider}, ulice Demo 1, Olomoucký kraj",
                "phone": "+420 600 000 000",
                "email": "kontakt@demo.example.org",
                "opening_hours": "Po–Pá 8:00–16:00",
                "how_to_refer": "Telefonicky nebo e-mailem; s doporučením OSPOD přednostně.",
            }
            municipalities = ResidenceMunicipality.objects.filter(name__in=item.municipalities)
            service = service_create(
                provider=provider,
                data=data,
                area_orps=[_orp(code) for code in item.orps],
                area_municipalities=list(municipalities),
                by=by,
            )
            if item.months_old:
                # A card its provider has not confirmed for months: flagged as stale in the demo.
                Service.objects.filter(pk=service.pk).update(
                    card_updated_at=now - datetime.timedelta(days=31 * item.months_old)
                )
        made[item.name] = service
    return made
