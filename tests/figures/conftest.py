"""One fixed, fictional data set for the figures, built through the services under a frozen clock, with events on
both sides of the year boundaries 2024/2025 and 2025/2026 (Prague time). The expectations in the tests are counted
by hand from the comments here."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine

from casework.models import (
    Case,
    CloseReason,
    Conference,
    ConferenceStatus,
    CourtPetition,
    Municipality,
    NotifierKind,
    OpenReason,
    PetitionFiler,
    PetitionKind,
    Plan,
    PlanStatus,
    Report,
    ReportChannel,
    Role,
    Sector,
    User,
)
from casework.services import case_close
from services.models import Service
from services.referrals.models import DeclineReason, Referral, ReferralFor
from services.referrals.services import (
    AgreementInput,
    referral_accept,
    referral_decline,
    referral_send,
    referral_waitlist,
    referral_withdraw,
)
from tests.factories.cases import (
    health_partner,
    open_case,
    organisation,
    ospod_staff,
    school_partner,
    service_partner,
    team_role,
)
from tests.factories.people import MunicipalityFactory, UserFactory
from tests.factories.services import provider, service
from workflows.deadlines import PRAGUE
from workflows.models import Deadline, DeadlineKind

REGION = "Olomoucký kraj"

#: The tests' "now": after the year 2025 ended.
NOW = datetime.datetime(2026, 1, 5, 12, 0, tzinfo=PRAGUE)


def at(text: str) -> datetime.datetime:
    """A Prague wall-clock moment, ``YYYY-MM-DD HH:MM``."""
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PRAGUE)


@dataclass
class FiguresWorld:
    om: Municipality
    pv: Municipality
    supervisor: User
    coordinator: User
    foreign_supervisor: User
    regional: User = None  # type: ignore[assignment]
    cases: dict[str, Case] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    referrals: dict[str, Referral] = field(default_factory=dict)


_numbers = itertools.count(1)


def make_report(
    world: FiguresWorld, received: str, kind: str, *, municipality: Municipality | None = None, **fields: Any
) -> Report:
    municipality = municipality or world.om
    number = next(_numbers)
    channel = ReportChannel.ANONYMOUS if kind == NotifierKind.ANONYMOUS else ReportChannel.PHONE
    return Report.objects.create(
        municipality=municipality,
        year=2025,
        number=number,
        reference=Report.format_reference(municipality.code, 2025, number),
        received_at=at(received),
        channel=channel,
        notifier_kind=kind,
        recorded_by=world.coordinator,
        **fields,
    )


def _open(
    world: FiguresWorld, key: str, when: str, *, born: datetime.date, female: bool, reason: str, **kw: Any
) -> Case:
    coordinator = kw.pop("coordinator", world.coordinator)
    with time_machine.travel(at(when), tick=False):
        case = open_case(
            coordinator=coordinator, born=born, female=female, reason=reason, given_name=f"Kanarek{key}", **kw
        )
    world.cases[key] = case
    return case


def _close(world: FiguresWorld, key: str, when: str, reason: str) -> None:
    with time_machine.travel(at(when), tick=False):
        case_close(case=world.cases[key], closed_by=world.coordinator, reason=reason)


def _plan(world: FiguresWorld, key: str, version: int, approved: str, status: str) -> Plan:
    case = world.cases[key]
    return Plan.objects.create(
        case=case,
        version=version,
        status=status,
        drafted_by=world.coordinator,
        created_at=at(approved) - datetime.timedelta(days=3),
        submitted_at=at(approved) - datetime.timedelta(days=1),
        approved_by=world.supervisor,
        approved_at=at(approved),
        next_review_on=(at(approved) + datetime.timedelta(days=90)).date(),
    )


def _conference(world: FiguresWorld, key: str, held: str | None, status: str) -> Conference:
    return Conference.objects.create(
        case=world.cases[key],
        starts_at=at(held or "2025-02-01 10:00"),
        status=status,
        place="zasedačka OSPOD",
        organised_by=world.coordinator,
        held_at=at(held) if held else None,
        signed_off_by=world.coordinator if status == ConferenceStatus.SIGNED_OFF else None,
        signed_off_at=at(held) if held and status == ConferenceStatus.SIGNED_OFF else None,
        cancelled_at=at("2025-01-31 10:00") if status == ConferenceStatus.CANCELLED else None,
    )


#: The role an accepting provider's worker takes on the case's team (a services-sector role of the default list).
SERVICE_TEAM_ROLE = "sociální pracovník/pracovnice SAS"


def _services(world: FiguresWorld) -> None:
    """Two SAS providers, a counselling service and a low-threshold club, each with an intake worker."""
    for key, type_code in (("sas1", "sas"), ("sas2", "sas"), ("counselling", "counselling"), ("nzdm", "nzdm")):
        card = service(of=provider(municipality=world.om), type_code=type_code, name=f"Služba {key}", orps=(world.om,))
        world.services[key] = card
        UserFactory.create(username=f"st-prijem-{key}", role=Role.PARTNER, organisation=card.provider.organisation)


def _worker(world: FiguresWorld, service_key: str) -> User:
    return User.objects.get(username=f"st-prijem-{service_key}")


def refer(world: FiguresWorld, key: str, case_key: str, service_key: str, when: str, *, by: User | None = None) -> None:
    """Send a referral at the Prague time ``when``; its letter and reason carry the canary (sealed, never counted)."""
    with time_machine.travel(at(when), tick=False):
        world.referrals[key] = referral_send(
            case=world.cases[case_key],
            sent_by=by or world.coordinator,
            service=world.services[service_key],
            referred=ReferralFor.FAMILY,
            reason=f"Kanarek {key}: rodina potřebuje podporu.",
            include_child=True,
            note_ids=[],
            agreement=AgreementInput(given_by="mother", given_by_name="Kanarek Matka", given_on=at(when).date()),
        )


def answer(world: FiguresWorld, key: str, when: str, outcome: str, reason: str = "") -> None:
    """The provider's (or, to withdraw, the coordinator's) step at the Prague time ``when``."""
    referral = world.referrals[key]
    worker = _worker(world, next(k for k, s in world.services.items() if s.pk == referral.service_id))
    with time_machine.travel(at(when), tick=False):
        if outcome == "accept":
            done = referral_accept(referral=referral, by=worker, member=worker, team_role=team_role(SERVICE_TEAM_ROLE))
        elif outcome == "waitlist":
            expected = (at(when) + datetime.timedelta(days=30)).date()
            done = referral_waitlist(referral=referral, by=worker, expected_on=expected)
        elif outcome == "decline":
            done = referral_decline(referral=referral, by=worker, reason=reason, explanation=f"Kanarek {key}")
        else:
            done = referral_withdraw(referral=referral, by=world.coordinator)
    world.referrals[key] = done


def _referrals(world: FiguresWorld, foreign_worker: User) -> None:
    """Referrals sent in 2025 from the authority's cases, by service type and where they stand at NOW:

    - SAS: "b" accepted, "j" (sent 20 Dec 2025) accepted only on 2 Jan 2026 — counted as accepted, "c" waiting,
      "d" declined for no capacity: (2, 1, 1, 0, 0, 0 | 4).
    - counselling: "e" declined outside the target group, "f" waitlisted then declined for no capacity:
      (0, 0, 1, 1, 0, 0 | 2).
    - low-threshold club: "g" withdrawn, "i" sent on 31 Dec 2025 at 23:50 and not answered: (0, 0, 0, 0, 1, 1 | 2).

    Not in 2025: "a" sent on 31 Dec 2024 at 23:40 (accepted in 2025: the 2024 figure), "h" sent on 1 Jan 2026 at 00:10
    (pending); "foreign" is another authority's (pending).
    """
    _services(world)
    refer(world, "a", "c1", "sas1", "2024-12-31 23:40")
    answer(world, "a", "2025-01-03 10:00", "accept")
    refer(world, "b", "c2", "sas1", "2025-01-01 00:40")
    answer(world, "b", "2025-01-10 10:00", "accept")
    refer(world, "c", "c3", "sas2", "2025-03-11 09:00")
    answer(world, "c", "2025-03-15 09:00", "waitlist")
    refer(world, "d", "c5", "sas1", "2025-02-05 09:00")
    answer(world, "d", "2025-02-06 09:00", "decline", DeclineReason.NO_CAPACITY)
    refer(world, "e", "c1", "counselling", "2025-06-01 09:00")
    answer(world, "e", "2025-06-03 09:00", "decline", DeclineReason.OUTSIDE_TARGET_GROUP)
    refer(world, "f", "c2", "counselling", "2025-07-01 09:00")
    answer(world, "f", "2025-07-02 09:00", "waitlist")
    answer(world, "f", "2025-08-01 09:00", "decline", DeclineReason.NO_CAPACITY)
    refer(world, "g", "c3", "nzdm", "2025-04-01 09:00")
    answer(world, "g", "2025-04-05 09:00", "withdraw")
    refer(world, "i", "c2", "nzdm", "2025-12-31 23:50")
    refer(world, "j", "c1", "sas2", "2025-12-20 09:00")
    answer(world, "j", "2026-01-02 09:00", "accept")
    refer(world, "h", "c4", "nzdm", "2026-01-01 00:10")
    refer(world, "foreign", "foreign", "sas1", "2025-05-01 09:00", by=foreign_worker)


def build_world() -> FiguresWorld:
    om = MunicipalityFactory.create(code="OM")
    pv = MunicipalityFactory.create(code="PV")
    Municipality.objects.filter(pk__in=[om.pk, pv.pk]).update(region=REGION)
    om.refresh_from_db()
    pv.refresh_from_db()
    ospod = organisation(Sector.OSPOD, om)
    world = FiguresWorld(
        om=om,
        pv=pv,
        supervisor=ospod_staff(ospod, role=Role.SUPERVISOR, username="st-vedouci"),
        coordinator=ospod_staff(ospod, username="st-koord"),
        foreign_supervisor=ospod_staff(organisation(Sector.OSPOD, pv), role=Role.SUPERVISOR, username="st-cizi"),
    )
    world.regional = UserFactory.create(
        username="st-kraj", role=Role.REGIONAL_OFFICE, organisation=organisation(Sector.OTHER, om, "Krajský úřad")
    )
    foreign_worker = ospod_staff(world.foreign_supervisor.organisation, username="st-cizi-koord")  # type: ignore[arg-type]

    # Cases (the child's year of birth and sex come from the birth number at registration).
    _open(world, "c1", "2024-12-31 23:30", born=datetime.date(2014, 5, 1), female=True, reason=OpenReason.REPORT)
    _open(world, "c2", "2025-01-01 00:30", born=datetime.date(2022, 2, 2), female=False, reason=OpenReason.REPORT)
    _open(world, "c3", "2025-03-10 09:00", born=datetime.date(2009, 7, 7), female=True, reason=OpenReason.OWN_FINDING)
    _open(world, "c4", "2025-12-31 23:59", born=datetime.date(2025, 1, 3), female=False, reason=OpenReason.COURT)
    _open(world, "c5", "2025-02-01 10:00", born=datetime.date(2012, 9, 9), female=False, reason=OpenReason.REPORT)
    _open(
        world,
        "foreign",
        "2025-04-01 10:00",
        born=datetime.date(2015, 4, 4),
        female=True,
        reason=OpenReason.REPORT,
        coordinator=foreign_worker,
    )
    _referrals(world, foreign_worker)
    _close(world, "c3", "2025-06-01 10:00", CloseReason.GOALS_MET)
    _close(world, "c5", "2025-12-31 22:00", CloseReason.MOVED)
    _close(world, "c4", "2026-01-05 10:00", CloseReason.OTHER)

    # Plans: c1 due 2025-01-31 (made 01-30: on time), reviewed 05-05; c2 due 2025-02-01, a Saturday, rolled to
    # Monday 02-03 (made 02-03 noon: on time); c3 due 04-10 (made 04-20: late), reviewed 05-20; c5 due 03-01 (a
    # Saturday, rolled to 03-03), never made (late); c4 due in 2026.
    _plan(world, "c1", 1, "2025-01-30 10:00", PlanStatus.SUPERSEDED)
    _plan(world, "c1", 2, "2025-05-05 10:00", PlanStatus.CURRENT)
    _plan(world, "c2", 1, "2025-02-03 12:00", PlanStatus.CURRENT)
    _plan(world, "c3", 1, "2025-04-20 10:00", PlanStatus.SUPERSEDED)
    _plan(world, "c3", 2, "2025-05-20 10:00", PlanStatus.CURRENT)
    _plan(world, "foreign", 1, "2025-04-10 10:00", PlanStatus.CURRENT)

    # Conferences held in 2025: c1 twice, c3 once (3 conferences, 2 cases); a cancelled one, one held in 2026.
    held_c1 = _conference(world, "c1", "2025-01-15 10:00", ConferenceStatus.SIGNED_OFF)
    _conference(world, "c1", "2025-06-15 10:00", ConferenceStatus.HELD)
    _conference(world, "c3", "2025-03-20 10:00", ConferenceStatus.HELD)
    _conference(world, "c1", None, ConferenceStatus.CANCELLED)
    _conference(world, "c2", "2026-01-02 10:00", ConferenceStatus.HELD)
    _conference(world, "foreign", "2025-05-01 10:00", ConferenceStatus.HELD)

    # Court petitions in 2025: § 14(1) by the authority (c1) and by a parent (c2); § 16 by the authority (c3).
    # One in 2024 (c1, by the prosecutor) does not count.
    def petition(key: str, when: str, kind: str, filed_by: str, conference: Conference | None = None) -> None:
        CourtPetition.objects.create(
            case=world.cases[key],
            kind=kind,
            filed_by=filed_by,
            conference=conference,
            recorded_by=world.coordinator,
            recorded_at=at(when),
        )

    petition("c1", "2025-07-01 10:00", PetitionKind.PLACEMENT, PetitionFiler.AUTHORITY, held_c1)
    petition("c2", "2025-09-09 10:00", PetitionKind.PLACEMENT, PetitionFiler.PARENT)
    petition("c3", "2025-03-12 10:00", PetitionKind.URGENT, PetitionFiler.AUTHORITY)
    petition("c1", "2024-12-31 23:50", PetitionKind.URGENT, PetitionFiler.PROSECUTOR)

    # Reports received in 2025 (r1, r2, r3, r5, r6); r4 in 2024; one of another authority.
    by = world.coordinator
    world.reports["r1"] = make_report(
        world, "2025-01-06 09:00", NotifierKind.SCHOOL, urgent=False, decided_at=at("2025-01-10 09:00"),
        feedback_requested=True, feedback_sent_at=at("2025-02-04 09:00"), feedback_sent_by=by,
    )  # fmt: skip
    world.reports["r2"] = make_report(
        world, "2025-01-06 09:00", NotifierKind.HEALTH, urgent=True, decided_at=at("2025-01-07 10:00"),
        feedback_requested=True, feedback_sent_at=at("2025-03-01 09:00"), feedback_sent_by=by,
    )  # fmt: skip
    world.reports["r3"] = make_report(world, "2025-12-30 10:00", NotifierKind.OTHER_PERSON)
    world.reports["r4"] = make_report(world, "2024-12-31 23:00", NotifierKind.ANONYMOUS)
    world.reports["r5"] = make_report(
        world, "2025-12-31 23:30", NotifierKind.SCHOOL, urgent=False, decided_at=at("2026-01-02 09:00"),
        feedback_requested=True,
    )  # fmt: skip
    world.reports["r6"] = make_report(
        world, "2025-05-05 08:00", NotifierKind.STATE_BODY, urgent=True, decided_at=at("2025-05-05 12:00")
    )
    world.reports["foreign"] = make_report(world, "2025-05-05 08:00", NotifierKind.SCHOOL, municipality=world.pv)

    # Tasks at the end of 2025: OSPOD one overdue and one (the authority's queue) on time; school one on time;
    # service one overdue (done only in 2026); health's was done in 2025.
    school = school_partner(municipality=om)
    health_org = health_partner(municipality=om).organisation
    service = service_partner(municipality=om)
    with time_machine.travel(at("2025-10-01 10:00"), tick=False):
        for owner, org, due, done in (
            (world.coordinator, None, "2025-12-01 12:00", None),
            (school, None, "2026-02-01 12:00", None),
            (None, health_org, "2025-11-01 12:00", "2025-12-15 12:00"),
            (None, None, "2026-01-10 12:00", None),
            (service, None, "2025-12-20 12:00", "2026-01-03 12:00"),
        ):
            Deadline.objects.create(
                kind=DeadlineKind.PLAN_ACTION,
                municipality=om,
                owner=owner,
                owner_organisation=org,
                due_at=at(due),
                done_at=at(done) if done else None,
            )
        Deadline.objects.create(
            kind=DeadlineKind.PLAN_ACTION, municipality=world.pv, due_at=at("2025-12-01 12:00"), owner=foreign_worker
        )
    return world


@pytest.fixture
def figures_world(db: None) -> FiguresWorld:
    return build_world()


@pytest.fixture(autouse=True)
def _english() -> Any:
    from django.utils import translation

    with translation.override("en"):
        yield
