"""Query counts are part of the contract (STYLE.md, DESIGN invariant 8): the case list and the case page run the same,
exact number of queries whatever the number of cases, members and notes."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from casework.models import Case, Municipality, Organisation, Role, Sector, TeamRole, User
from casework.selectors.case_file import SECTION_LIMIT, case_disclosed
from casework.services import case_note_add, case_open, team_member_add
from permissions.access import access_case_by_id
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.children import register_child

pytestmark = pytest.mark.django_db

# The numbers, pinned. If a change moves them, decide whether it is worth it and update them here with a reason.
# Each page: session, user, organisation, the case(s), the membership/share check for partners, one committed audit
# batch per disclosure (a savepoint in the test, lock the chain head, insert and move the head; one savepoint pair
# fewer since the append takes none of its own), the data keys, the rows shown, and
# the header's notifications badge (unread count and newest id in one query).
CASE_LIST_QUERIES_COORDINATOR = 11
CASE_LIST_QUERIES_PARTNER = 13
# The case file's other sections (tasks, reports, the assessment's versions and inputs, conferences, the plan's
# versions, the timeline) add one query each while they are empty; tests/casework/test_case_file.py pins a full file.
# The lead's page adds the case's referrals to services (one query; services.referrals.selectors).
CASE_PAGE_QUERIES_COORDINATOR = 27
CASE_PAGE_QUERIES_PARTNER = 28
# The case page's read model on its own (``case_disclosed``, the case loaded by ``access_case_by_id`` beforehand):
# the memberships, the notes, and two gate reads (the child, the notes), each a committed audit batch and a key load.
# The same for a partner: their standing (membership, shares) was decided by ``access_case_by_id`` and is reused.
CASE_READ_MODEL_QUERIES_COORDINATOR = 22  # the lead's referrals section
CASE_READ_MODEL_QUERIES_PARTNER = 21


def _open_cases(coordinator: User, count: int, *, teacher: User | None = None) -> list[Case]:
    role = TeamRole.objects.get(name_cs="třídní učitel/ka")
    cases = []
    for n in range(count):
        child = register_child(
            by=coordinator, given_name=f"Dítě{n}", born=datetime.date(2012, 1, 1) + datetime.timedelta(days=n)
        )
        case = case_open(child=child, coordinator=coordinator, opened_by=coordinator, reason="report")
        if teacher is not None:
            team_member_add(
                case=case, user=teacher, team_role=role, valid_from=None, valid_until=None, added_by=coordinator
            )
        cases.append(case)
    return cases


def _grow_case(case: Case, coordinator: User, members: int, notes: int, municipality: Municipality) -> None:
    role = TeamRole.objects.get(name_cs="jiná role")
    for n in range(members):
        sector = (Sector.SCHOOL, Sector.HEALTH, Sector.SERVICE)[n % 3]
        org = OrganisationFactory.create(name=f"Org {case.pk.hex[:6]} {n}", sector=sector, municipality=municipality)
        user = UserFactory.create(role=Role.PARTNER, organisation=org)
        team_member_add(case=case, user=user, team_role=role, valid_from=None, valid_until=None, added_by=coordinator)
    for n in range(notes):
        # The first note is one the partner may read, so both sizes load the case's data key for the partner.
        compartment = ("school", "social", "health", "services", "child_voice")[n % 5]
        case_note_add(case=case, author=coordinator, compartment=compartment, text=f"Záznam číslo {n}")


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("count", [1, 50])
def test_case_list_for_the_coordinator_runs_a_fixed_number_of_queries(
    count: int, coordinator: User, django_assert_num_queries: Callable[..., object]
) -> None:
    _open_cases(coordinator, count)
    client = _logged_in(coordinator)
    with django_assert_num_queries(CASE_LIST_QUERIES_COORDINATOR):  # type: ignore[attr-defined]
        response = client.get(reverse("case_list"))
    assert response.status_code == 200
    assert response.content.decode().count("Dítě") >= count


@pytest.mark.parametrize("count", [1, 50])
def test_case_list_for_a_partner_runs_a_fixed_number_of_queries(
    count: int, coordinator: User, teacher: User, django_assert_num_queries: Callable[..., object]
) -> None:
    _open_cases(coordinator, count, teacher=teacher)
    client = _logged_in(teacher)
    with django_assert_num_queries(CASE_LIST_QUERIES_PARTNER):  # type: ignore[attr-defined]
        response = client.get(reverse("case_list"))
    assert response.status_code == 200
    assert response.content.decode().count("Dítě") >= count


@pytest.mark.parametrize("size", [1, 50])
def test_case_page_runs_a_fixed_number_of_queries(
    size: int,
    coordinator: User,
    teacher: User,
    olomouc: Municipality,
    django_assert_num_queries: Callable[..., object],
) -> None:
    [case] = _open_cases(coordinator, 1, teacher=teacher)
    _grow_case(case, coordinator, members=size, notes=size, municipality=olomouc)
    url = reverse("case_detail", kwargs={"case_id": case.pk})
    for user, expected in ((coordinator, CASE_PAGE_QUERIES_COORDINATOR), (teacher, CASE_PAGE_QUERIES_PARTNER)):
        client = _logged_in(user)
        with django_assert_num_queries(expected):  # type: ignore[attr-defined]
            response = client.get(url)
        assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 50])
def test_the_case_read_model_runs_a_fixed_number_of_queries(
    size: int,
    coordinator: User,
    teacher: User,
    olomouc: Municipality,
    django_assert_num_queries: Callable[..., object],
) -> None:
    [case] = _open_cases(coordinator, 1, teacher=teacher)
    _grow_case(case, coordinator, members=size, notes=size, municipality=olomouc)
    for user, expected in (
        (coordinator, CASE_READ_MODEL_QUERIES_COORDINATOR),
        (teacher, CASE_READ_MODEL_QUERIES_PARTNER),
    ):
        loaded = access_case_by_id(user, case.pk, purpose="case page")
        with django_assert_num_queries(expected):  # type: ignore[attr-defined]
            view = case_disclosed(user=user, case=loaded, purpose="case page")
        assert len(view.members) == size + 1
        # The teacher reads the school notes only: every fifth note (``_grow_case``); the case file shows the newest
        # SECTION_LIMIT of each compartment.
        per_compartment = [len(range(start, size, 5)) for start in range(5)]
        readable = per_compartment if user == coordinator else per_compartment[:1]
        shown = sum(min(n, SECTION_LIMIT) for n in readable)
        assert sum(len(section.notes) for section in view.sections) == shown


def test_the_fixtures_really_grow(coordinator: User, olomouc: Municipality, ospod: Organisation) -> None:
    """Guard against a count test that passes because nothing was created."""
    [case] = _open_cases(coordinator, 1)
    _grow_case(case, coordinator, members=5, notes=5, municipality=olomouc)
    assert case.memberships.count() == 5
    assert case.notes.count() == 5
