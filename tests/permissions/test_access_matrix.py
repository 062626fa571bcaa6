"""The access matrix: every URL that takes a case, for every role, for each way the user stands to the case.

The URL patterns come from the resolver, so a new case URL without an entry in ``EXPECTED`` fails
``test_every_case_url_has_an_expected_row`` — nobody can add a case page and forget to decide who may open it.

Situations, relative to the viewer (DOMAIN.md, "Who sees which case"):
  own        the viewer coordinates the case (only OSPOD staff can; "-" for the others)
  team       the viewer is a current member of the case's team (the DPO and the administrator can't be: for them it is
             simply a case of their authority with a team)
  unrelated  a case of the viewer's authority they have nothing to do with
  closed     a closed case the viewer coordinated or was on the team of
  foreign    a case of another authority

Every case carries a note in each compartment with a unique marker; each response is checked for the markers of the
compartments the viewer may not read (``VISIBLE``) — they must be absent whatever the status code.
"""

from __future__ import annotations

import datetime
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from pypdf import PdfReader

from casework.models import (
    Case,
    CaseNote,
    CaseStatus,
    CloseReason,
    ClosureRequest,
    Conference,
    CourtPetition,
    FileInspection,
    InspectionRecipient,
    Municipality,
    Plan,
    PlanAction,
    PlanGoal,
    PlanStatus,
    Role,
    Sector,
    TeamMembership,
    TeamRole,
    User,
)
from casework.sealing import seal_values
from casework.services import (
    case_close,
    case_note_add,
    case_open,
    closure_request,
    conference_schedule,
    team_member_add,
)
from casework.services.inspections import inspection_prepare
from permissions.break_glass import break_glass_open
from permissions.models import AuditAction, AuditEvent, Consent, Share
from permissions.sharing import consent_record, share_grant
from tests.factories import MunicipalityFactory, OrganisationFactory, UserFactory
from tests.factories.children import register_child

pytestmark = pytest.mark.django_db

ROLES = ("supervisor", "ospod_worker", "school", "health", "service", "dpo", "administrator", "regional_office")
SITUATIONS = ("own", "team", "unrelated", "closed", "foreign")
NOTE_PARTS = ("social", "school", "health", "services", "other", "child_voice")

N = 404  # the same "not found" as for a case that does not exist
F = 403  # the user sees the case but may not do this
OK = 200
R = 302  # a lead is sent on to another page
NA = None  # the situation cannot exist for this role

# Expected GET status per URL name: role -> (own, team, unrelated, closed, foreign).
_READ: dict[str, tuple[int | None, ...]] = {
    "supervisor": (OK, OK, OK, OK, N),
    "ospod_worker": (OK, OK, N, OK, N),
    "school": (NA, OK, N, N, N),
    "health": (NA, OK, N, N, N),
    "service": (NA, OK, N, N, N),
    "dpo": (NA, N, N, N, N),
    "administrator": (NA, N, N, N, N),
    # The regional office (krajský úřad) sees aggregates only: no case of any authority exists for it.
    "regional_office": (NA, N, N, N, N),
}
_WRITE_NOTE: dict[str, tuple[int | None, ...]] = {
    **_READ,
    "supervisor": (OK, OK, OK, F, N),
    "ospod_worker": (OK, OK, N, F, N),
}
_MANAGE: dict[str, tuple[int | None, ...]] = {
    # Coordinator or supervisor (covering) on an open case; a member sees the case but may not manage it.
    "supervisor": (OK, OK, OK, F, N),
    "ospod_worker": (OK, F, N, F, N),
    "school": (NA, F, N, N, N),
    "health": (NA, F, N, N, N),
    "service": (NA, F, N, N, N),
    "dpo": (NA, N, N, N, N),
    "administrator": (NA, N, N, N, N),
    # The regional office (krajský úřad) sees aggregates only: no case of any authority exists for it.
    "regional_office": (NA, N, N, N, N),
}
_LEAD: dict[str, tuple[int | None, ...]] = {
    # Coordinator or supervisor, also on a closed case; a member sees the case but not this page.
    "supervisor": (OK, OK, OK, OK, N),
    "ospod_worker": (OK, F, N, OK, N),
    "school": (NA, F, N, N, N),
    "health": (NA, F, N, N, N),
    "service": (NA, F, N, N, N),
    "dpo": (NA, N, N, N, N),
    "administrator": (NA, N, N, N, N),
    # The regional office (krajský úřad) sees aggregates only: no case of any authority exists for it.
    "regional_office": (NA, N, N, N, N),
}
_OVERSIGHT: dict[str, tuple[int | None, ...]] = {
    # Access oversight (the audit of a case, never its content): supervisors of the case's authority and the DPO;
    # every other role has no oversight page at all (403, the shell's rule), another authority's case is not found.
    "supervisor": (OK, OK, OK, OK, N),
    "ospod_worker": (F, F, F, F, F),
    "school": (NA, F, F, F, F),
    "health": (NA, F, F, F, F),
    "service": (NA, F, F, F, F),
    "dpo": (NA, OK, OK, OK, OK),
    "administrator": (NA, F, F, F, F),
    "regional_office": (NA, F, F, F, F),
}
_BREAK_GLASS: dict[str, tuple[int | None, ...]] = {
    # Asking for break-glass: the authority's OSPOD worker on a case nothing relates them to gets the form; whoever
    # already sees the case is sent to it; partners (even on the team: they are sent to what they see), the DPO, the
    # administrator and other authorities never break glass (not found, audited).
    "supervisor": (R, R, R, R, N),
    "ospod_worker": (R, R, OK, R, N),
    "school": (NA, R, N, N, N),
    "health": (NA, R, N, N, N),
    "service": (NA, R, N, N, N),
    "dpo": (NA, N, N, N, N),
    "administrator": (NA, N, N, N, N),
    # The regional office (krajský úřad) sees aggregates only: no case of any authority exists for it.
    "regional_office": (NA, N, N, N, N),
}
_MANAGE_REDIRECT: dict[str, tuple[int | None, ...]] = {
    role: tuple(R if status == OK else status for status in row) for role, row in _MANAGE.items()
}
_LEAD_REDIRECT: dict[str, tuple[int | None, ...]] = {
    role: tuple(R if status == OK else status for status in row) for role, row in _LEAD.items()
}
EXPECTED: dict[str, dict[str, tuple[int | None, ...]]] = {
    "case_detail": _READ,
    "case_note_add": _WRITE_NOTE,
    "case_team": _MANAGE,
    "team_member_end": _MANAGE,
    "case_handover": _MANAGE,
    # Proposing to transfer the file to another ORP: like a handover, the lead of an open case.
    "transfer_propose": _MANAGE,
    "case_sharing": _MANAGE,
    "share_revoke": _MANAGE,
    "consent_add": _MANAGE,
    "consent_withdraw": _MANAGE,
    "case_process": _LEAD,
    # Closure with four eyes and court petitions: the old direct-close address and the withdraw address send a lead
    # on to the proposal page; the proposal and petition pages are the lead's, read-only on a closed case.
    "case_close": _MANAGE_REDIRECT,
    "case_closure_request": _LEAD,
    "case_closure_withdraw": _MANAGE_REDIRECT,
    "case_petition": _LEAD,
    "case_kept_apart": _LEAD,
    # Case conferences: the list and a conference's logistics for leads and invited members (every member is invited
    # in the matrix world); scheduling for the lead of an open case; the action addresses send a lead back.
    "conference_list": _READ,
    "conference_detail": _READ,
    "conference_schedule": _MANAGE,
    "conference_record": _MANAGE_REDIRECT,
    "conference_decision_add": _MANAGE_REDIRECT,
    # Signing off is irreversible: its address shows the lead a confirmation page first.
    "conference_sign_off": _MANAGE,
    "conference_addendum_add": _MANAGE_REDIRECT,
    "conference_cancel": _MANAGE_REDIRECT,
    "conference_reschedule": _MANAGE,
    # The plan (IPOD): the board, a version and its PDF for everyone who sees the case (as far as the gate lets them).
    "case_plan": _READ,
    "case_plan_version": _READ,
    "case_plan_pdf": _READ,
    # A person's own form drafts (casework.form_views): GET says whether there is one (never its text), POST saves it;
    # whoever sees the case may keep a draft there, nobody reads another's.
    "draft_assessment": _READ,
    "draft_minutes": _READ,
    "draft_plan_version": _READ,
    "case_plan_acquaintance": _MANAGE_REDIRECT,
    # § 55 file inspection: the lead's (closed cases too: the file is kept and may be inspected); the PDF is the
    # lead's only (a preview marked as a draft until approved); approving and recording are POSTs that send a GET on.
    "case_inspections": _LEAD,
    "case_inspection": _LEAD,
    "case_inspection_pdf": _LEAD,
    "case_inspection_decide": _LEAD_REDIRECT,
    "case_inspection_record": _LEAD_REDIRECT,
    # Who accessed the case: its timeline from the audit chain and its CSV export (the export is itself audited).
    "oversight_case": _OVERSIGHT,
    "oversight_case_export": _OVERSIGHT,
    "case_break_glass": _BREAK_GLASS,
    # Referral to a service of the network (services.referrals; its own pages: tests/services/test_referral_matrix.py).
    "referral_new": _MANAGE,
}

_ALL = frozenset(NOTE_PARTS)
# Which compartments' markers may appear for role -> situation (on any page). Everything else must be absent.
VISIBLE: dict[str, dict[str, frozenset[str]]] = {
    "supervisor": dict.fromkeys(("own", "team", "unrelated", "closed"), _ALL) | {"foreign": frozenset()},
    "ospod_worker": {
        "own": _ALL,
        "team": frozenset(),  # an OSPOD worker on the team: basics (and identity), no social notes (DOMAIN's table)
        "unrelated": frozenset(),
        "closed": _ALL,
        "foreign": frozenset(),
    },
    "school": {"team": frozenset({"school"})},
    "health": {"team": frozenset({"health"})},
    "service": {"team": frozenset({"services"})},
}

# URL kwargs naming an object of a case, and where the world keeps that object.
OBJECT_KWARGS = {
    "membership_id": "membership",
    "share_id": "share",
    "consent_id": "consent",
    "request_id": "closure",
    "conference_id": "conference",
    "plan_id": "plan",
    "inspection_id": "inspection",
}


def _case_patterns() -> Iterator[tuple[str, list[str]]]:
    """(url name, kwarg names) of every named URL pattern with a ``case_id`` parameter."""

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[tuple[str, str]]:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, route)
            elif entry.name:
                yield entry.name, route

    seen = set()
    for name, route in walk(get_resolver().url_patterns, ""):
        if "case_id" in route and name not in seen:
            seen.add(name)
            kwargs = [part.split(":")[-1].rstrip(">") for part in route.split("<")[1:]]
            yield name, [k.split(">")[0] for k in kwargs]


@dataclass
class CaseFixture:
    case: Case
    markers: dict[str, str]
    membership: TeamMembership
    share: Share
    consent: Consent
    closure: ClosureRequest
    conference: Conference
    plan: Plan
    inspection: FileInspection


@dataclass
class World:
    users: dict[str, User]
    cases: dict[str, CaseFixture] = field(default_factory=dict)
    by_role: dict[str, dict[str, str | None]] = field(default_factory=dict)


def _role(name: str) -> TeamRole:
    return TeamRole.objects.get(name_cs=name)


def _approved_plan(case: Case, coordinator: User, approver: User, markers: dict[str, str]) -> Plan:
    """A current plan whose support offered (social) and child's views carry those markers, with one action owned by
    the coordinator (social: no partner reads it). Written directly: the database asks only that the approver is
    not the drafter."""
    plan = Plan(
        case=case,
        version=1,
        status=PlanStatus.CURRENT,
        drafted_by=coordinator,
        approved_by=approver,
        approved_at=timezone.now(),
        next_review_on=timezone.localdate() + datetime.timedelta(days=180),
    )
    texts = {"support_offered": f"Podpora {markers['social']}", "child_views": f"Názor {markers['child_voice']}"}
    seal_values(plan, texts)
    plan.save()
    goal = PlanGoal(case=case, plan=plan)
    seal_values(goal, {"text": "Docházka do školy"})
    goal.save()
    action = PlanAction(case=case, plan=plan, goal=goal, owner_user=coordinator, due_on=timezone.localdate())
    seal_values(action, {"what": f"Úkol {markers['social']}"})
    action.save()
    return plan


def _people(olomouc: Municipality) -> dict[str, User]:
    ospod = OrganisationFactory.create(name="OSPOD Matice", sector=Sector.OSPOD, municipality=olomouc)
    other = OrganisationFactory.create(name="Magistrát Matice", sector=Sector.OTHER, municipality=olomouc)

    def partner(username: str, sector: str) -> User:
        org = OrganisationFactory.create(name=f"Organizace {username}", sector=sector, municipality=olomouc)
        return UserFactory.create(username=username, role=Role.PARTNER, organisation=org)

    return {
        "supervisor": UserFactory.create(username="m-vedouci", role=Role.SUPERVISOR, organisation=ospod),
        "ospod_worker": UserFactory.create(username="m-koord", role=Role.OSPOD_WORKER, organisation=ospod),
        "neutral": UserFactory.create(username="m-kolega", role=Role.OSPOD_WORKER, organisation=ospod),
        "school": partner("m-ucitel", Sector.SCHOOL),
        "health": partner("m-lekar", Sector.HEALTH),
        "service": partner("m-sas", Sector.SERVICE),
        "helper": partner("m-asistent", Sector.SCHOOL),  # the fixed member every share goes to
        "dpo": UserFactory.create(username="m-dpo", role=Role.DPO, organisation=other),
        "administrator": UserFactory.create(username="m-spravce", role=Role.ADMINISTRATOR, organisation=other),
        "regional_office": UserFactory.create(username="m-kraj", role=Role.REGIONAL_OFFICE, organisation=other),
    }


def _case(
    key: str, *, coordinator: User, members: list[User], helper: User, municipality: Municipality, serial: int
) -> CaseFixture:
    child = register_child(
        by=coordinator,
        municipality=municipality,
        given_name=f"Dítě{key.capitalize()}",
        born=datetime.date(2013, 1, 1) + datetime.timedelta(days=serial),
    )
    case = case_open(child=child, coordinator=coordinator, opened_by=coordinator, reason="report")
    membership = team_member_add(
        case=case,
        user=helper,
        team_role=_role("třídní učitel/ka"),
        valid_from=None,
        valid_until=None,
        added_by=coordinator,
    )
    for member in members:
        team_member_add(
            case=case,
            user=member,
            team_role=_role("jiná role"),
            valid_from=None,
            valid_until=None,
            added_by=coordinator,
        )
    markers = {}
    for part in NOTE_PARTS:
        markers[part] = f"MATRIXMARK-{key}-{part}-{serial}"
        case_note_add(case=case, author=coordinator, compartment=part, text=markers[part])
    consent = consent_record(
        case=case,
        recorded_by=coordinator,
        compartment="health",
        given_by="mother",
        given_by_name=f"MATRIXMARK-{key}-identity-{serial}",
        on_behalf_of_child=True,
        given_on=timezone.localdate(),
    )
    share = share_grant(
        case=case,
        granted_by=coordinator,
        recipient_user=helper,
        compartment="services",
        purpose="příprava podkladů",
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
    )
    # A pending closure proposal whose final evaluation (social) carries the social marker.
    closure = closure_request(
        case=case, by=coordinator, reason=CloseReason.GOALS_MET, final_evaluation=f"Hodnocení {markers['social']}"
    )
    # A scheduled case conference to which every member of the team is invited.
    conference = conference_schedule(
        case=case,
        by=coordinator,
        starts_at=timezone.now() + datetime.timedelta(days=3),
        duration_minutes=60,
        place="Zasedací místnost",
        online_link="",
        members=[helper, *members],
        participants=[],
    )
    return CaseFixture(
        case=case,
        markers=markers,
        membership=membership,
        share=share,
        consent=consent,
        closure=closure,
        conference=conference,
        plan=_approved_plan(case, coordinator, helper, markers),
        inspection=inspection_prepare(
            case=case, by=coordinator, recipient=InspectionRecipient.CHILD, representative_id=None, sections=["notes"]
        ),
    )


@pytest.fixture
def world(olomouc: Municipality) -> World:
    people = _people(olomouc)
    prostejov = MunicipalityFactory.create(code="PV", name="Prostějov")
    foreign_ospod = OrganisationFactory.create(name="OSPOD PV", sector=Sector.OSPOD, municipality=prostejov)
    foreign_worker = UserFactory.create(username="m-cizi", role=Role.OSPOD_WORKER, organisation=foreign_ospod)
    foreign_helper = UserFactory.create(
        username="m-cizi-skola",
        role=Role.PARTNER,
        organisation=OrganisationFactory.create(name="ZŠ PV", sector=Sector.SCHOOL, municipality=prostejov),
    )
    partners = [people["school"], people["health"], people["service"]]
    serial = itertools.count(1)
    w = World(users=people)

    def make(key: str, coordinator: User, members: list[User]) -> None:
        w.cases[key] = _case(
            key,
            coordinator=coordinator,
            members=members,
            helper=people["helper"],
            municipality=olomouc,
            serial=next(serial),
        )

    make("ownworker", people["ospod_worker"], [])
    make("ownsupervisor", people["supervisor"], [])
    make("team", people["neutral"], [people["ospod_worker"], *partners])
    make("unrelated", people["neutral"], [])
    make("closed", people["ospod_worker"], partners)
    case_close(case=w.cases["closed"].case, closed_by=people["ospod_worker"], reason=CloseReason.GOALS_MET)
    w.cases["foreign"] = _case(
        "foreign",
        coordinator=foreign_worker,
        members=[],
        helper=foreign_helper,
        municipality=prostejov,
        serial=next(serial),
    )
    for role in ROLES:
        own = {"ospod_worker": "ownworker", "supervisor": "ownsupervisor"}.get(role)
        w.by_role[role] = {
            "own": own,
            "team": "team",
            "unrelated": "unrelated",
            "closed": "closed",
            "foreign": "foreign",
        }
    return w


def _url(name: str, kwargs: list[str], fixture: CaseFixture) -> str:
    values: dict[str, object] = {"case_id": fixture.case.pk}
    for kwarg in kwargs:
        if kwarg != "case_id":
            values[kwarg] = getattr(fixture, OBJECT_KWARGS[kwarg]).pk
    return reverse(name, kwargs=values)


def _body(response: Any) -> str:
    """What a response shows: the page, or a PDF's text without the spaces and hyphens a line break put into it (the
    markers have no spaces), so the markers are looked for in files too."""
    if response.get("Content-Type") == "application/pdf":
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        return re.sub(r"[\s\u2010\u00ad]+", "", text)
    return response.content.decode()


def _state() -> tuple[object, ...]:
    """Everything a refused request could have changed."""
    return (
        sorted(TeamMembership.objects.values_list("pk", "ended_at")),
        sorted(Share.objects.values_list("pk", "revoked_at")),
        sorted(Consent.objects.values_list("pk", "withdrawal_recorded_at")),
        CaseNote.objects.count(),
        sorted(Case.objects.values_list("pk", "status", "coordinator_id")),
        sorted(ClosureRequest.objects.values_list("pk", "status")),
        sorted(Conference.objects.values_list("pk", "status", "minutes")),
        CourtPetition.objects.count(),
        sorted(FileInspection.objects.values_list("pk", "status")),
    )


def test_every_case_url_has_an_expected_row() -> None:
    found = dict(_case_patterns())
    assert found, "no case URLs found: the resolver walk is broken"
    missing = sorted(set(found) - set(EXPECTED))
    assert not missing, f"case URLs without an entry in the access matrix: {missing}"
    stale = sorted(set(EXPECTED) - set(found))
    assert not stale, f"matrix entries for URLs that no longer exist: {stale}"
    for name, kwargs in found.items():
        unknown = [k for k in kwargs if k != "case_id" and k not in OBJECT_KWARGS]
        assert not unknown, f"{name}: teach the matrix how to fill {unknown}"


def test_access_matrix(world: World) -> None:
    patterns = dict(_case_patterns())
    state_before = _state()
    problems: list[str] = []
    all_markers = {
        (key, part): marker for key, fixture in world.cases.items() for part, marker in fixture.markers.items()
    }
    for role in ROLES:
        client = Client()
        client.force_login(world.users[role])
        for name, kwargs in sorted(patterns.items()):
            for situation, expected in zip(SITUATIONS, EXPECTED[name][role], strict=True):
                key = world.by_role[role][situation]
                if expected is NA:
                    assert key is None, f"{role}/{situation} exists but the matrix says n/a"
                    continue
                assert key is not None, f"{role}/{situation} has an expected status but no case"
                url = _url(name, kwargs, world.cases[key])
                response = client.get(url)
                body = _body(response)
                if response.status_code != expected:
                    problems.append(f"GET {name} as {role} on {situation}: {response.status_code}, expected {expected}")
                allowed = VISIBLE.get(role, {}).get(situation, frozenset())
                for (case_key, part), marker in all_markers.items():
                    if marker in body and not (case_key == key and part in allowed):
                        problems.append(f"GET {name} as {role} on {situation}: shows {case_key}/{part}")
                for part in ("identity",):
                    marker = f"MATRIXMARK-{key}-{part}"
                    if marker in body and not (allowed == _ALL and name == "case_sharing"):
                        problems.append(f"GET {name} as {role} on {situation}: shows the consent giver's name")
                if expected in (N, F):
                    # A refused POST answers the same and changes nothing (checked once at the end).
                    posted = client.post(url, {})
                    if posted.status_code != expected:
                        problems.append(
                            f"POST {name} as {role} on {situation}: {posted.status_code}, expected {expected}"
                        )
    assert not problems, "\n".join(problems)
    assert _state() == state_before


def test_case_detail_shows_each_role_what_it_may_read(world: World) -> None:
    """The positive side: a 200 case page does show the compartments the viewer may read."""
    for role, situations in VISIBLE.items():
        client = Client()
        client.force_login(world.users[role])
        for situation, parts in situations.items():
            key = world.by_role[role][situation]
            if key is None or not parts:
                continue
            fixture = world.cases[key]
            body = client.get(reverse("case_detail", kwargs={"case_id": fixture.case.pk})).content.decode()
            for part in parts:
                assert fixture.markers[part] in body, f"{role} on {situation} should read {part}"


def test_an_object_of_another_case_is_not_found(world: World) -> None:
    """Tampering: a membership, share or consent id of case B under case A's URL is 404, even for A's coordinator."""
    client = Client()
    client.force_login(world.users["supervisor"])
    patterns = dict(_case_patterns())
    mine, theirs = world.cases["unrelated"], world.cases["team"]
    for name, kwargs in patterns.items():
        objects = [k for k in kwargs if k != "case_id"]
        if not objects:
            continue
        values: dict[str, object] = {"case_id": mine.case.pk}
        for kwarg in objects:
            values[kwarg] = getattr(theirs, OBJECT_KWARGS[kwarg]).pk
        url = reverse(name, kwargs=values)
        assert client.get(url).status_code == N, name
        assert client.post(url, {}).status_code == N, name
    assert theirs.case.status == CaseStatus.OPEN
    assert Share.objects.get(pk=theirs.share.pk).revoked_at is None


# --- The shredding review (not case URLs: a review of a closed file whose period ended) -----------------------------

# role -> (GET the list, GET a review of the own authority, POST a (blank) decision on it, GET another authority's)
RETENTION_EXPECTED: dict[str, tuple[int, int, int, int]] = {
    "supervisor": (OK, OK, OK, N),  # a blank decision: the form again, with its field errors
    "records_officer": (OK, OK, OK, N),  # an OSPOD worker the administrator marked
    "ospod_worker": (F, F, F, F),
    "school": (F, F, F, F),
    "health": (F, F, F, F),
    "service": (F, F, F, F),
    "dpo": (OK, OK, F, OK),  # every authority's, read-only
    "administrator": (F, F, F, F),
    "administrator_flagged": (F, F, F, F),  # the flag means nothing outside OSPOD staff
    "dpo_flagged": (OK, OK, F, OK),
}


def test_retention_review_pages_by_role(olomouc: Municipality) -> None:
    from casework.models import RetentionReview

    people = _people(olomouc)
    ospod = people["supervisor"].organisation
    other = people["dpo"].organisation
    people["records_officer"] = UserFactory.create(
        username="m-spisovna", role=Role.OSPOD_WORKER, organisation=ospod, is_records_officer=True
    )
    people["administrator_flagged"] = UserFactory.create(
        username="m-spravce2", role=Role.ADMINISTRATOR, organisation=other, is_records_officer=True
    )
    people["dpo_flagged"] = UserFactory.create(
        username="m-dpo2", role=Role.DPO, organisation=other, is_records_officer=True
    )
    prostejov = MunicipalityFactory.create(code="PX", name="Prostějov Matice")
    foreign_ospod = OrganisationFactory.create(name="OSPOD PX", sector=Sector.OSPOD, municipality=prostejov)
    foreign_lead = UserFactory.create(username="px-vedouci", role=Role.SUPERVISOR, organisation=foreign_ospod)

    def closed_file(coordinator: User, supervisor: User) -> RetentionReview:
        child = register_child(by=coordinator)
        case = case_open(child=child, coordinator=coordinator, opened_by=coordinator, reason="report")
        case_close(case=case, closed_by=supervisor, reason=CloseReason.GOALS_MET)
        return RetentionReview.objects.create(case=case, due_on=datetime.date(2026, 1, 1), proposed_at=timezone.now())

    own = closed_file(people["ospod_worker"], people["supervisor"])
    foreign = closed_file(foreign_lead, foreign_lead)
    problems = []
    for role, expected in RETENTION_EXPECTED.items():
        client = Client()
        client.force_login(people[role])
        got = (
            client.get("/retention/").status_code,
            client.get(f"/retention/{own.pk}/").status_code,
            client.post(f"/retention/{own.pk}/", {}).status_code,
            client.get(f"/retention/{foreign.pk}/").status_code,
        )
        if got != expected:
            problems.append(f"{role}: {got}, expected {expected}")
    assert not problems, "\n".join(problems)
    assert set(RetentionReview.objects.values_list("state", flat=True)) == {"proposed"}


INSPECTION_ROUTES = frozenset(
    {"case_inspections", "case_inspection", "case_inspection_pdf", "case_inspection_decide", "case_inspection_record"}
)


def test_break_glass_reads_like_the_coordinator_of_a_closed_case_until_it_expires(world: World) -> None:
    """Through a live grant the OSPOD worker reads the unrelated case as the coordinator reads a closed case (every
    page of the ``closed`` column, read-only, no other case's markers), every read is marked break-glass in the audit;
    once the grant expires, every case URL is "not found" again (frozen time)."""
    worker = world.users["ospod_worker"]
    fixture = world.cases["unrelated"]
    grant = break_glass_open(
        user=worker, case=fixture.case, reason="Noční služba: policie volá kvůli dítěti.", minutes=10
    )
    patterns = dict(_case_patterns())
    state_before = _state()
    closed = SITUATIONS.index("closed")
    unrelated = SITUATIONS.index("unrelated")
    first_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    client = Client()
    client.force_login(worker)
    problems: list[str] = []
    for name, kwargs in sorted(patterns.items()):
        expected: int | None
        if name == "case_break_glass":
            expected = R
        elif name in INSPECTION_ROUTES:
            expected = F  # the file's § 55 inspections are the lead's work, never an emergency read
        else:
            expected = EXPECTED[name]["ospod_worker"][closed]
        url = _url(name, kwargs, fixture)
        response = client.get(url)
        if response.status_code != expected:
            problems.append(f"GET {name} through break-glass: {response.status_code}, expected {expected}")
        body = _body(response)
        for key, other in world.cases.items():
            for part, marker in other.markers.items():
                if marker in body and key != "unrelated":
                    problems.append(f"GET {name} through break-glass shows {key}/{part}")
        if expected == F and client.post(url, {}).status_code != F:
            problems.append(f"POST {name} through break-glass was not refused")
    page = client.get(reverse("case_detail", kwargs={"case_id": fixture.case.pk})).content.decode()
    for part in NOTE_PARTS:
        assert fixture.markers[part] in page, part
    assert not problems, "\n".join(problems)
    assert _state() == state_before
    reads = AuditEvent.objects.filter(seq__gt=first_seq, actor=worker, action=AuditAction.READ)
    assert reads.exists()
    unmarked = [p for p in reads.values_list("purpose", flat=True) if not p.startswith("break-glass: ")]
    assert not unmarked, unmarked

    with time_machine.travel(grant.expires_at + datetime.timedelta(seconds=1)):
        for name, kwargs in sorted(patterns.items()):
            expected = EXPECTED[name]["ospod_worker"][unrelated]
            assert client.get(_url(name, kwargs, fixture)).status_code == expected, name
