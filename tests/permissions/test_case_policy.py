"""The case policy, enumerated: DOMAIN.md's "Information sharing rules" table, cell by cell, as the policy answers it.

No database here: the policy decides from a ``Subject`` (who asks) and ``CaseFacts`` (what ``permissions.access``
loaded about the case), so every combination of relationship, member sector and compartment is cheap to ask.
How the facts are loaded from the database is tested in ``test_case_access.py``.
"""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest

from casework.compartments import Compartment
from casework.models import Role, Sector
from permissions.policy import (
    CONSENT_REQUIRED,
    SHAREABLE_COMPARTMENTS,
    SHAREABLE_ITEM_COMPARTMENTS,
    CaseAccess,
    CaseFacts,
    Item,
    Relationship,
    Subject,
    case_access,
    relationship_to_case,
)

C = Compartment
OLOMOUC, PROSTEJOV = 1, 2
OSPOD_OLOMOUC, OSPOD_PROSTEJOV, SCHOOL, HEALTH, SERVICE, POLICE, NGO, OFFICE = range(10, 18)
COORDINATOR_ID = 100
CASE_ID = uuid.uuid4()

# --- The cast -----------------------------------------------------------------------------------------------------

_ids = iter(range(200, 10_000))


def person(
    role: str, sector: str | None, organisation: int | None, municipality: int = OLOMOUC, user_id: int | None = None
) -> Subject:
    return Subject(
        user_id=user_id or next(_ids),
        role=role,
        sector=sector,
        municipality_id=municipality,
        organisation_id=organisation,
        active=True,
    )


COORDINATOR = person(Role.OSPOD_WORKER, Sector.OSPOD, OSPOD_OLOMOUC, user_id=COORDINATOR_ID)
SUPERVISOR = person(Role.SUPERVISOR, Sector.OSPOD, OSPOD_OLOMOUC)
OSPOD_COLLEAGUE = person(Role.OSPOD_WORKER, Sector.OSPOD, OSPOD_OLOMOUC)
TEACHER = person(Role.PARTNER, Sector.SCHOOL, SCHOOL)
PAEDIATRICIAN = person(Role.PARTNER, Sector.HEALTH, HEALTH)
SAS_WORKER = person(Role.PARTNER, Sector.SERVICE, SERVICE)
POLICE_OFFICER = person(Role.PARTNER, Sector.OTHER, POLICE)
FOREIGN_WORKER = person(Role.OSPOD_WORKER, Sector.OSPOD, OSPOD_PROSTEJOV, municipality=PROSTEJOV)
FOREIGN_SUPERVISOR = person(Role.SUPERVISOR, Sector.OSPOD, OSPOD_PROSTEJOV, municipality=PROSTEJOV)
DPO = person(Role.DPO, Sector.OTHER, OFFICE)
ADMINISTRATOR = person(Role.ADMINISTRATOR, Sector.OTHER, OFFICE)
NO_ORGANISATION = person(Role.PARTNER, None, None)  # invalid data (User.clean refuses it): must fail closed

MEMBER_OF_SECTOR: dict[str, Subject] = {
    Sector.OSPOD: OSPOD_COLLEAGUE,
    Sector.SCHOOL: TEACHER,
    Sector.HEALTH: PAEDIATRICIAN,
    Sector.SERVICE: SAS_WORKER,
    Sector.OTHER: POLICE_OFFICER,
}


def facts(
    *,
    member: bool = False,
    is_open: bool = True,
    shared: frozenset[Compartment] | set[Compartment] = frozenset(),
    items: set[tuple[str, str]] | None = None,
) -> CaseFacts:
    return CaseFacts(
        case_id=CASE_ID,
        municipality_id=OLOMOUC,
        coordinator_id=COORDINATOR_ID,
        is_open=is_open,
        is_current_member=member,
        shared_compartments=frozenset(shared),
        shared_items=frozenset(items or set()),
    )


def access(subject: Subject, **kw) -> CaseAccess:
    return case_access(subject, facts(**kw))


def note(compartment: Compartment, *, author_organisation: int | None = None) -> Item:
    return Item("casework.casenote", str(uuid.uuid4()), compartment, author_organisation)


# --- Who stands how to a case (DOMAIN.md, "Who sees which case") ---------------------------------------------------

RELATIONSHIPS = [
    # who,               on the team?, case open?, relationship
    ("coordinator", COORDINATOR, False, True, Relationship.CASE_LEAD),
    ("coordinator of a closed case", COORDINATOR, False, False, Relationship.CASE_LEAD),
    ("supervisor of the authority", SUPERVISOR, False, True, Relationship.CASE_LEAD),
    ("supervisor, closed case", SUPERVISOR, False, False, Relationship.CASE_LEAD),
    ("OSPOD colleague on the team", OSPOD_COLLEAGUE, True, True, Relationship.TEAM_MEMBER),
    ("OSPOD colleague off the team", OSPOD_COLLEAGUE, False, True, Relationship.NONE),
    ("teacher on the team", TEACHER, True, True, Relationship.TEAM_MEMBER),
    ("teacher on the team of a closed case", TEACHER, True, False, Relationship.NONE),
    ("teacher off the team", TEACHER, False, True, Relationship.NONE),
    ("paediatrician on the team", PAEDIATRICIAN, True, True, Relationship.TEAM_MEMBER),
    ("SAS worker on the team", SAS_WORKER, True, True, Relationship.TEAM_MEMBER),
    ("police officer on the team", POLICE_OFFICER, True, True, Relationship.TEAM_MEMBER),
    ("another authority's worker, even if listed on the team", FOREIGN_WORKER, True, True, Relationship.NONE),
    ("another authority's supervisor", FOREIGN_SUPERVISOR, False, True, Relationship.NONE),
    ("the DPO, even if listed on the team", DPO, True, True, Relationship.NONE),
    ("the administrator, even if listed on the team", ADMINISTRATOR, True, True, Relationship.NONE),
    ("a partner without an organisation, even if listed", NO_ORGANISATION, True, True, Relationship.NONE),
]


@pytest.mark.parametrize(
    ("who", "subject", "member", "is_open", "expected"), RELATIONSHIPS, ids=[r[0] for r in RELATIONSHIPS]
)
def test_relationship_to_case(who: str, subject: Subject, member: bool, is_open: bool, expected: Relationship) -> None:
    assert relationship_to_case(subject, facts(member=member, is_open=is_open)) is expected


# --- The table ----------------------------------------------------------------------------------------------------
# DOMAIN.md, "Information sharing rules", without shares. Columns: the case lead (coordinator, supervisor), then a
# current team member of each sector. "own" = only items written by the member's own organisation.
# Identity (rodné číslo, address, representatives) is not in DOMAIN's table; ADR 0002 adds it, OSPOD only.
# The OSPOD column: an OSPOD worker on the team who does not coordinate. DOMAIN's table gives "social" to the
# coordinator and the supervisor only; identity as in the register of their own authority (permissions.policy).

TABLE = """
compartment   lead  ospod  school  health  service  other
basics        ✔     ✔      ✔       ✔       ✔        ✔
identity      ✔     ✔      —       —       —        —
social        ✔     —      —       —       —        —
school        ✔     —      ✔       —       —        —
health        ✔     —      —       ✔       —        —
services      ✔     —      —       —       ✔        —
other         ✔     —      —       —       —        own
notifier      ✔     —      —       —       —        —
child_voice   ✔     —      —       —       —        —
"""

VIEWERS = {
    "lead": COORDINATOR,
    "ospod": OSPOD_COLLEAGUE,
    "school": TEACHER,
    "health": PAEDIATRICIAN,
    "service": SAS_WORKER,
    "other": POLICE_OFFICER,
}


def _table() -> list[tuple[str, Compartment, str]]:
    header, *rows = [line.split() for line in TABLE.strip().splitlines()]
    return [
        (viewer, Compartment(row[0]), cell) for row in rows for viewer, cell in zip(header[1:], row[1:], strict=True)
    ]


def test_the_table_covers_every_compartment() -> None:
    assert {compartment for _, compartment, _ in _table()} == set(Compartment)


@pytest.mark.parametrize(("viewer", "compartment", "cell"), _table(), ids=[f"{v}-{c}" for v, c, _ in _table()])
def test_domain_table(viewer: str, compartment: Compartment, cell: str) -> None:
    subject = VIEWERS[viewer]
    standing = access(subject, member=subject is not COORDINATOR)
    own_item = note(compartment, author_organisation=subject.organisation_id)
    others_item = note(compartment, author_organisation=NGO)
    assert standing.may_read_compartment(compartment) is (cell == "✔")
    assert standing.may_read(own_item) is (cell in {"✔", "own"})
    assert standing.may_read(others_item) is (cell == "✔")


def test_supervisor_reads_the_whole_file_like_the_coordinator() -> None:
    standing = access(SUPERVISOR)
    assert all(standing.may_read_compartment(c) for c in Compartment)


@pytest.mark.parametrize("subject", [OSPOD_COLLEAGUE, TEACHER, FOREIGN_WORKER, FOREIGN_SUPERVISOR, DPO, ADMINISTRATOR])
def test_nobody_off_the_team_reads_anything(subject: Subject) -> None:
    standing = access(subject)
    assert not standing.visible
    assert not any(standing.may_read_compartment(c) for c in Compartment)
    assert not any(standing.may_read(note(c, author_organisation=subject.organisation_id)) for c in Compartment)


def test_other_sector_reads_only_its_own_organisations_other_items() -> None:
    police = access(POLICE_OFFICER, member=True)
    ngo_worker = person(Role.PARTNER, Sector.OTHER, NGO)
    ngo = access(ngo_worker, member=True)
    police_report = note(C.OTHER, author_organisation=POLICE)
    assert police.may_read(police_report)
    assert not ngo.may_read(police_report)
    assert not police.may_read_compartment(C.OTHER)  # not the whole compartment: the NGO's items stay closed
    assert not police.may_read(note(C.OTHER, author_organisation=None))
    # Same organisation but another sector's compartment: no.
    assert not police.may_read(note(C.SCHOOL, author_organisation=POLICE))


# --- Shares ("only if shared") ------------------------------------------------------------------------------------

SHAREABLE = """
compartment   shareable whole   shareable item
basics        —                 —
identity      —                 —
social        —                 ✔
school        ✔                 ✔
health        ✔ (agreement)     ✔ (agreement)
services      ✔                 ✔
other         ✔                 ✔
notifier      —                 —
child_voice   ✔ (agreement)     ✔ (agreement)
"""


def _shareable() -> dict[Compartment, tuple[bool, bool, bool]]:
    rows = {}
    for line in SHAREABLE.strip().splitlines()[1:]:
        name, whole, item = re.split(r"\s{2,}", line.strip())
        rows[Compartment(name)] = (whole.startswith("✔"), item.startswith("✔"), "agreement" in whole + item)
    return rows


def test_the_shareable_sets_read_like_the_table() -> None:
    table = _shareable()
    assert set(table) == set(Compartment)
    assert {c for c, (whole, _, _) in table.items() if whole} == SHAREABLE_COMPARTMENTS
    assert {c for c, (_, item, _) in table.items() if item} == SHAREABLE_ITEM_COMPARTMENTS
    assert {c for c, (_, _, agreement) in table.items() if agreement} == CONSENT_REQUIRED


@pytest.mark.parametrize("sector", list(MEMBER_OF_SECTOR))
@pytest.mark.parametrize("compartment", list(Compartment))
def test_a_compartment_share_works_only_for_shareable_compartments(sector: str, compartment: Compartment) -> None:
    subject = MEMBER_OF_SECTOR[sector]
    without = access(subject, member=True)
    shared = access(subject, member=True, shared={compartment})
    expected = without.may_read_compartment(compartment) or compartment in SHAREABLE_COMPARTMENTS
    assert shared.may_read_compartment(compartment) is expected
    # The share widens that one compartment, nothing else.
    for other in Compartment:
        if other is not compartment:
            assert shared.may_read_compartment(other) is without.may_read_compartment(other)


def test_a_teacher_reads_health_only_while_it_is_shared_with_her() -> None:
    assert not access(TEACHER, member=True).may_read_compartment(C.HEALTH)
    assert access(TEACHER, member=True, shared={C.HEALTH}).may_read_compartment(C.HEALTH)


def test_an_item_share_of_a_social_note_opens_that_note_only() -> None:
    shared_note = note(C.SOCIAL)
    other_note = note(C.SOCIAL)
    teacher = access(TEACHER, member=True, items={(shared_note.object_type, shared_note.object_id)})
    assert teacher.may_read(shared_note)
    assert not teacher.may_read(other_note)
    assert not teacher.may_read_compartment(C.SOCIAL)


@pytest.mark.parametrize("compartment", [C.NOTIFIER, C.IDENTITY, C.BASICS])
def test_an_item_share_never_opens_the_notifier_or_identity(compartment: Compartment) -> None:
    item = note(compartment)
    teacher = access(TEACHER, member=True, items={(item.object_type, item.object_id)})
    # Basics are readable anyway; the notifier and the identity never, shared or not.
    assert teacher.may_read(item) is (compartment is C.BASICS)


def test_the_notifier_compartment_is_never_shared_whole() -> None:
    for subject in MEMBER_OF_SECTOR.values():
        assert not access(subject, member=True, shared=set(Compartment)).may_read_compartment(C.NOTIFIER)
        assert not access(subject, member=True, shared=set(Compartment)).may_read(note(C.NOTIFIER))


def test_shares_never_make_a_case_visible_to_someone_off_the_team() -> None:
    item = note(C.SCHOOL)
    standing = access(TEACHER, member=False, shared=set(Compartment), items={(item.object_type, item.object_id)})
    assert not standing.visible
    assert not standing.may_read(item)
    assert not standing.may_read_compartment(C.BASICS)


# --- Inactive users, writing notes, managing ----------------------------------------------------------------------


@pytest.mark.parametrize("subject", [COORDINATOR, SUPERVISOR, TEACHER, POLICE_OFFICER])
def test_an_inactive_user_sees_nothing(subject: Subject) -> None:
    inactive = dataclasses.replace(subject, active=False)
    standing = access(inactive, member=True, shared=set(Compartment))
    assert standing.relationship is Relationship.NONE
    assert not any(standing.may_read_compartment(c) for c in Compartment)
    assert standing.note_compartments() == []
    assert not standing.may_manage
    # Even a decision made while they were active stops answering once the account is off.
    stale = CaseAccess(subject=inactive, facts=facts(), relationship=Relationship.CASE_LEAD)
    assert not any(stale.may_read_compartment(c) for c in Compartment)


ALL_NOTES = [C.SOCIAL, C.SCHOOL, C.HEALTH, C.SERVICES, C.OTHER, C.CHILD_VOICE]
NOTE_COMPARTMENTS = [
    ("coordinator", COORDINATOR, ALL_NOTES),
    ("supervisor", SUPERVISOR, ALL_NOTES),
    ("OSPOD colleague on the team", OSPOD_COLLEAGUE, ALL_NOTES),
    ("teacher", TEACHER, [C.SCHOOL]),
    ("paediatrician", PAEDIATRICIAN, [C.HEALTH]),
    ("SAS worker", SAS_WORKER, [C.SERVICES]),
    ("police officer", POLICE_OFFICER, [C.OTHER]),
    ("DPO", DPO, []),
    ("administrator", ADMINISTRATOR, []),
    ("another authority's worker", FOREIGN_WORKER, []),
]


@pytest.mark.parametrize(("who", "subject", "expected"), NOTE_COMPARTMENTS, ids=[r[0] for r in NOTE_COMPARTMENTS])
def test_who_writes_notes_where(who: str, subject: Subject, expected: list[Compartment]) -> None:
    assert access(subject, member=subject not in (COORDINATOR, SUPERVISOR)).note_compartments() == expected


@pytest.mark.parametrize("subject", [COORDINATOR, SUPERVISOR, OSPOD_COLLEAGUE, TEACHER])
def test_nobody_writes_notes_in_a_closed_case(subject: Subject) -> None:
    assert access(subject, member=True, is_open=False).note_compartments() == []


def test_only_the_lead_manages_and_only_while_the_case_is_open() -> None:
    for subject in (COORDINATOR, SUPERVISOR):
        open_case, closed_case = access(subject), access(subject, is_open=False)
        assert open_case.may_manage
        assert open_case.may_close
        assert not open_case.read_only
        assert closed_case.visible
        assert closed_case.read_only
        assert not closed_case.may_manage
        assert not closed_case.may_close
    assert access(COORDINATOR).is_coordinator
    assert not access(SUPERVISOR).is_coordinator
    for subject in MEMBER_OF_SECTOR.values():
        assert not access(subject, member=True).may_manage
