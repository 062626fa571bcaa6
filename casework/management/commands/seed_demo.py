"""Fictional demo data for the Olomouc Region: one ORP, its OSPOD, partner organisations and one login per kind of user.

Every name, organisation and person here is invented; nothing refers to a real child or family. The command is
idempotent: it looks rows up by their natural keys (ORP code, organisation name, username) and only creates what is
missing, so running it twice changes nothing, and an existing account keeps its password and any edits made since.

Each part is a function that takes what the earlier parts returned, so later features add their own part (children,
cases, flows) by writing another ``seed_…`` function and calling it from :func:`seed_all`. All demo accounts share
:data:`DEMO_PASSWORD`, which is why the command refuses to run with production settings.

Cases are made through the real services (``case_open``, ``team_member_add``, ``case_note_add``, ``consent_record``,
``share_grant``, ``case_close``), so their notes are sealed, their teams indexed and every write audited as in use. A
demo child who has any case (open or closed) is left alone on a second run. :data:`JOURNEY_CHILD` never gets a case
here: the browser journey opens one for it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from casework.admin import administrator_permissions
from casework.birth_number import normalize_birth_number
from casework.compartments import Compartment
from casework.models import (
    Case,
    Child,
    CloseReason,
    MembershipEndReason,
    Municipality,
    OpenReason,
    Organisation,
    Role,
    Sector,
    TeamMembership,
    TeamRole,
    User,
)
from casework.selectors import birth_number_index
from casework.services import (
    RepresentativeInput,
    case_close,
    case_note_add,
    case_open,
    child_create,
    team_member_add,
    team_member_end,
    team_roles_ensure_defaults,
)
from permissions.models import ConsentGiver
from permissions.sharing import consent_record, share_grant

DEMO_PASSWORD = "demo-heslo-2026"  # noqa: S105 - the demo's published shared password, never used in production

MUNICIPALITY_CODE = "OM"
MUNICIPALITY_NAME = "Olomouc"


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    sector: Sector


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    role: Role
    organisation_key: str
    job_title: str


DEMO_ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation("ospod", "OSPOD Magistrát města Olomouce", Sector.OSPOD),
    DemoOrganisation("school_1", "ZŠ Javorová Olomouc", Sector.SCHOOL),
    DemoOrganisation("school_2", "ZŠ Na Vyhlídce Olomouc", Sector.SCHOOL),
    DemoOrganisation("paediatrics", "Dětská ordinace MUDr. Hany Vrbové", Sector.HEALTH),
    DemoOrganisation("psychiatry", "Ambulance dětské psychiatrie MUDr. Tomáše Kratochvíla", Sector.HEALTH),
    DemoOrganisation("sas", "SAS pro rodiny s dětmi Olomouc (Jabloňka pro rodiny, z. ú.)", Sector.SERVICE),
    # The municipal office the OSPOD department belongs to: home of the DPO and the administrator, who are not
    # OSPOD staff and never see case content.
    DemoOrganisation("office", "Magistrát města Olomouce", Sector.OTHER),
)

DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "vedouci", "Jana", "Dvořáková", Role.SUPERVISOR, "ospod", "vedoucí oddělení sociálně-právní ochrany dětí"
    ),
    DemoPerson("koordinator", "Petr", "Novotný", Role.OSPOD_WORKER, "ospod", "koordinátor případů"),
    DemoPerson("koordinatorka2", "Lucie", "Marková", Role.OSPOD_WORKER, "ospod", "koordinátorka případů"),
    DemoPerson("ucitelka", "Eva", "Procházková", Role.PARTNER, "school_1", "třídní učitelka"),
    DemoPerson("vychovny", "Martin", "Šťastný", Role.PARTNER, "school_2", "výchovný poradce"),
    DemoPerson("pediatr", "Hana", "Vrbová", Role.PARTNER, "paediatrics", "praktická lékařka pro děti a dorost"),
    DemoPerson("psychiatr", "Tomáš", "Kratochvíl", Role.PARTNER, "psychiatry", "dětský psychiatr"),
    DemoPerson("sas", "Kateřina", "Horáková", Role.PARTNER, "sas", "sociální pracovnice SAS"),
    DemoPerson("poverenec", "Jiří", "Černý", Role.DPO, "office", "pověřenec pro ochranu osobních údajů"),
    DemoPerson("spravce", "Ondřej", "Kučera", Role.ADMINISTRATOR, "office", "správce systému"),
)


@dataclass(frozen=True)
class DemoChild:
    given_name: str
    family_name: str
    born: datetime.date
    birth_number: str  # synthetic: computed to be valid, belongs to nobody we know of
    address: str
    representative: tuple[str, str, str]  # relation, name, contact


DEMO_CHILDREN: tuple[DemoChild, ...] = (
    DemoChild(
        "Anežka",
        "Pokorná",
        datetime.date(2014, 3, 9),
        "145309/1013",
        "Javorová 12, 779 00 Olomouc",
        ("mother", "Veronika Pokorná", "+420 601 000 101"),
    ),
    DemoChild(
        "Matyáš",
        "Kolář",
        datetime.date(2011, 11, 23),
        "111123/1011",
        "Na Vyhlídce 3, 779 00 Olomouc",
        ("father", "Radek Kolář", "+420 601 000 102"),
    ),
    DemoChild(
        "Viktorie",
        "Benešová",
        datetime.date(2017, 6, 2),
        "175602/1014",
        "Bělidla 7, 779 00 Olomouc",
        ("guardian", "Zdenka Benešová", "+420 601 000 103"),
    ),
    DemoChild(
        "Tobiáš",
        "Havelka",
        datetime.date(2013, 9, 14),
        "130914/1020",
        "Wellnerova 5, 779 00 Olomouc",
        ("mother", "Simona Havelková", "+420 601 000 104"),
    ),
)

#: The demo child with no case at all: the browser journey opens the first one (Tobiáš Havelka).
JOURNEY_CHILD = "130914/1020"


@dataclass(frozen=True)
class DemoMember:
    username: str
    team_role: str  # TeamRole.name_cs, from migration casework/0004_team_roles
    ended: str = ""  # a MembershipEndReason when the membership ended before the case did


@dataclass(frozen=True)
class DemoNote:
    author: str
    compartment: Compartment
    text: str


@dataclass(frozen=True)
class DemoShare:
    """The coordinator shares a whole compartment with one member; health rests on the consent recorded for it."""

    recipient: str
    compartment: Compartment
    purpose: str
    days: int


@dataclass(frozen=True)
class DemoCase:
    key: str
    birth_number: str  # whose case: a DemoChild
    coordinator: str
    opened_by: str
    open_reason: OpenReason
    members: tuple[DemoMember, ...]
    notes: tuple[DemoNote, ...] = ()
    consent: tuple[Compartment, ConsentGiver, str] | None = None  # scope, who agreed, their name
    shares: tuple[DemoShare, ...] = ()
    close_reason: CloseReason | None = None
    closed_by: str = ""


# Fictional case notes: no real child, family, school or clinic is described.
DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        key="case_1",
        birth_number="145309/1013",
        coordinator="koordinator",
        opened_by="vedouci",
        open_reason=OpenReason.REPORT,
        members=(
            DemoMember("ucitelka", "třídní učitel/ka"),
            DemoMember("pediatr", "praktický lékař pro děti a dorost"),
            DemoMember("sas", "sociální pracovník/pracovnice SAS"),
        ),
        notes=(
            DemoNote(
                "koordinator",
                Compartment.SOCIAL,
                "Šetření v domácnosti: matka samoživitelka, dluhy na nájemném, byt čistý, dítě má kout na učení.",
            ),
            DemoNote(
                "ucitelka",
                Compartment.SCHOOL,
                "Od září 14 neomluvených hodin, vždy první hodina v pondělí. Ve třídě klidná, horší v matematice.",
            ),
            DemoNote(
                "pediatr",
                Compartment.HEALTH,
                "Preventivní prohlídka: váha na spodní hranici pásma, matka uvádí nechutenství. Kontrola za 3 měsíce.",
            ),
            DemoNote(
                "sas",
                Compartment.SERVICES,
                "SAS: dvě návštěvy týdně, sestaven rozpočet domácnosti, matka souhlasí s doprovodem na úřad práce.",
            ),
        ),
        consent=(Compartment.HEALTH, ConsentGiver.MOTHER, "Veronika Pokorná"),
        shares=(DemoShare("sas", Compartment.HEALTH, "plánování podpory rodiny v domácnosti (stravování)", 90),),
    ),
    DemoCase(
        key="case_2",
        birth_number="111123/1011",
        coordinator="koordinatorka2",
        opened_by="vedouci",
        open_reason=OpenReason.OWN_FINDING,
        members=(
            DemoMember("vychovny", "výchovný poradce / výchovná poradkyně"),
            DemoMember("psychiatr", "dětský psychiatr/psychiatrička"),
        ),
        notes=(
            DemoNote(
                "koordinatorka2",
                Compartment.SOCIAL,
                "Otec pečuje sám, pracuje na směny. Chlapec po škole často bez dozoru, otec spolupráci vítá.",
            ),
            DemoNote(
                "vychovny",
                Compartment.SCHOOL,
                "Opakované konflikty se spolužáky o přestávkách, dohodnuta spolupráce se školním psychologem.",
            ),
            DemoNote(
                "psychiatr",
                Compartment.HEALTH,
                "Vstupní vyšetření: poruchy spánku a úzkost, doporučena psychoterapie, medikace zatím ne.",
            ),
        ),
    ),
    DemoCase(
        key="case_3",
        birth_number="175602/1014",
        coordinator="koordinator",
        opened_by="koordinator",
        open_reason=OpenReason.PARENT_REQUEST,
        members=(
            DemoMember("sas", "sociální pracovník/pracovnice SAS", ended=MembershipEndReason.TASK_DONE),
            DemoMember("ucitelka", "třídní učitel/ka"),
        ),
        notes=(
            DemoNote(
                "koordinator",
                Compartment.SOCIAL,
                "Poručnice zvládá péči, bydlení zajištěno, cíle plánu splněny. Doporučeno ukončení.",
            ),
            DemoNote("sas", Compartment.SERVICES, "Spolupráce ukončena po splnění zakázky: rodina je stabilizovaná."),
        ),
        close_reason=CloseReason.GOALS_MET,
        closed_by="vedouci",
    ),
)


@dataclass
class DemoData:
    """What the parts have seeded so far; later parts read it (e.g. a case needs ``users["koordinator"]``)."""

    municipality: Municipality
    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    created_usernames: set[str] = field(default_factory=set)
    children: dict[str, Child] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    created_cases: set[str] = field(default_factory=set)


def seed_municipality() -> Municipality:
    municipality, _ = Municipality.objects.get_or_create(code=MUNICIPALITY_CODE, defaults={"name": MUNICIPALITY_NAME})
    return municipality


def seed_organisations(data: DemoData) -> None:
    for spec in DEMO_ORGANISATIONS:
        organisation, _ = Organisation.objects.get_or_create(
            name=spec.name, municipality=data.municipality, defaults={"sector": spec.sector}
        )
        data.organisations[spec.key] = organisation


def seed_users(data: DemoData, *, password: str = DEMO_PASSWORD) -> None:
    """One account per demo person; the password is set only when the account is created."""
    for person in DEMO_PEOPLE:
        user = User.objects.filter(username=person.username).first()
        if user is None:
            user = User(
                username=person.username,
                first_name=person.first_name,
                last_name=person.last_name,
                email=f"{person.username}@demo.example.org",
                role=person.role,
                organisation=data.organisations[person.organisation_key],
                job_title=person.job_title,
                is_staff=person.role == Role.ADMINISTRATOR,
            )
            user.set_password(password)
            user.full_clean()
            user.save()
            data.created_usernames.add(person.username)
        data.users[person.username] = user


def seed_administrator_access(data: DemoData) -> None:
    """Administrators manage users and organisations in the admin: staff status plus exactly those permissions."""
    permissions = list(administrator_permissions())
    for user in data.users.values():
        if user.role == Role.ADMINISTRATOR:
            user.user_permissions.add(*permissions)


def seed_children(data: DemoData) -> None:
    """Register the demo children through the real service, so their identity is sealed exactly as in use."""
    for spec in DEMO_CHILDREN:
        index = birth_number_index(normalize_birth_number(spec.birth_number))
        child = Child.objects.filter(birth_number_index=index).first()
        if child is None:
            relation, name, contact = spec.representative
            child = child_create(
                municipality=data.municipality,
                given_name=spec.given_name,
                family_name=spec.family_name,
                date_of_birth=spec.born,
                birth_number=spec.birth_number,
                address=spec.address,
                representatives=[RepresentativeInput(relation=relation, full_name=name, contact=contact)],
                created_by=data.users["koordinator"],
            )
        data.children[spec.birth_number] = child


def seed_cases(data: DemoData) -> None:
    """Open the demo cases and build their teams through the services. A child with any case already is skipped."""
    for spec in DEMO_CASES:
        child = data.children[spec.birth_number]
        existing = Case.objects.filter(child=child).order_by("opened_at").first()
        if existing is not None:
            data.cases[spec.key] = existing
            continue
        data.cases[spec.key] = _seed_case(data, spec, child)
        data.created_cases.add(spec.key)


def _seed_case(data: DemoData, spec: DemoCase, child: Child) -> Case:
    users = data.users
    coordinator = users[spec.coordinator]
    case = case_open(child=child, coordinator=coordinator, opened_by=users[spec.opened_by], reason=spec.open_reason)
    memberships: dict[str, TeamMembership] = {}
    for member in spec.members:
        memberships[member.username] = team_member_add(
            case=case,
            user=users[member.username],
            team_role=TeamRole.objects.get(name_cs=member.team_role),
            valid_from=None,
            valid_until=None,
            added_by=coordinator,
        )
    for note in spec.notes:
        case_note_add(case=case, author=users[note.author], compartment=note.compartment, text=note.text)
    consent = None
    if spec.consent is not None:
        scope, giver, name = spec.consent
        consent = consent_record(
            case=case,
            recorded_by=coordinator,
            compartment=scope,
            given_by=giver,
            given_by_name=name,
            on_behalf_of_child=giver != ConsentGiver.CHILD,
            given_on=timezone.localdate(),
        )
    for shared in spec.shares:
        share_grant(
            case=case,
            granted_by=coordinator,
            recipient_user=users[shared.recipient],
            compartment=shared.compartment,
            purpose=shared.purpose,
            valid_until=timezone.localdate() + datetime.timedelta(days=shared.days),
            consent=consent if consent is not None and consent.compartment == shared.compartment else None,
        )
    for member in spec.members:
        if member.ended:
            team_member_end(membership=memberships[member.username], ended_by=coordinator, reason=member.ended)
    if spec.close_reason is not None:
        case_close(case=case, closed_by=users[spec.closed_by or spec.coordinator], reason=spec.close_reason)
    return case


def seed_all() -> DemoData:
    """Run every part in order, in one transaction. Later features append their parts here."""
    with transaction.atomic():
        data = DemoData(municipality=seed_municipality())
        seed_organisations(data)
        seed_users(data)
        seed_administrator_access(data)
        seed_children(data)
        team_roles_ensure_defaults()
        seed_cases(data)
    return data


class Command(BaseCommand):
    help = "Create the fictional Olomouc demo data and logins (idempotent; refuses production settings)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SETTINGS_MODULE.endswith(".prod"):
            raise CommandError("seed_demo creates accounts with a published password; it never runs in production.")
        data = seed_all()
        self.stdout.write(self.style.SUCCESS(f"Demo data for {data.municipality} ({data.municipality.code}) ready."))
        self.stdout.write(self._logins_table(data))
        self.stdout.write("")
        self.stdout.write(self._cases_table(data))
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
        self.stdout.write("Accounts that existed before kept their password.")

    @staticmethod
    def _logins_table(data: DemoData) -> str:
        rows = [("login", "name", "role", "organisation", "account")]
        for username, user in data.users.items():
            rows.append(
                (
                    username,
                    user.get_full_name(),
                    str(user.get_role_display()),
                    str(user.organisation or ""),
                    "new" if username in data.created_usernames else "existing",
                )
            )
        return _table(rows)

    @staticmethod
    def _cases_table(data: DemoData) -> str:
        """Case references and logins only: no child's name goes to the terminal."""
        rows = [("case", "status", "coordinator", "current team", "record")]
        for key, case in data.cases.items():
            team = TeamMembership.objects.current().filter(case=case).order_by("added_at")
            rows.append(
                (
                    case.reference,
                    str(case.get_status_display()),
                    case.coordinator.username,
                    ", ".join(m.user.username for m in team.select_related("user")) or "-",
                    "new" if key in data.created_cases else "existing",
                )
            )
        return _table(rows)


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths).rstrip())
    return "\n".join(lines)
