"""The case list pages by key (DESIGN invariant 12, ``casework.paging``): 50 cases a page, newest first, every case
exactly once across the pages — also when cases were opened at the same moment — and the same statements for the
second page as for the first, whatever the number of cases."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework import paging
from casework.models import Case, CaseStatus, Child, Municipality, User
from casework.selectors.lists import CaseFilters, Scope, case_list_for_user, case_page_for_user

from .test_case_queries import CASE_LIST_QUERIES_COORDINATOR, _open_cases

pytestmark = pytest.mark.django_db

#: The supervisor's page: the same statements as the coordinator's (session, user, the page of cases, the data keys,
#: one committed audit batch, the badge).
#: A supervisor's list asks for the covers in force first (its authorities as values, so the database walks
#: ``case_list_order`` from the cursor: ``permissions.access.supervised_authorities``).
CASE_LIST_QUERIES_SUPERVISOR = CASE_LIST_QUERIES_COORDINATOR + 1


def _bulk_cases(count: int, *, municipality: Municipality, coordinator: User, moments: int) -> list[Case]:
    """``count`` open cases written in bulk (the selector reads ids, references and dates only, so the children
    carry no sealed values), opened at only ``moments`` distinct times: many ties on the list's sort key."""
    children = Child.objects.bulk_create(Child(municipality=municipality) for _ in range(count))
    year = timezone.localdate().year
    base = timezone.now().replace(microsecond=0) - datetime.timedelta(days=1)
    return Case.objects.bulk_create(
        Case(
            id=uuid.uuid4(),
            municipality=municipality,
            year=year,
            number=n + 1,
            reference=Case.format_reference(municipality.code, year, n + 1),
            child=child,
            status=CaseStatus.OPEN,
            coordinator=coordinator,
            opened_at=base + datetime.timedelta(minutes=n % moments),
            opened_by=coordinator,
            open_reason="report",
        )
        for n, child in enumerate(children)
    )


def _walk(user: User, filters: CaseFilters, size: int) -> list[list[Case]]:
    pages: list[list[Case]] = []
    after = ""
    while True:
        page = case_page_for_user(user=user, filters=filters, after=after, size=size)
        pages.append(page.cases)
        if page.next_after is None:
            return pages
        assert len(pages) < 100, "the pages never end"
        after = page.next_after


def test_the_pages_hold_every_case_once_newest_first_with_ties_broken_by_id(
    olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    cases = _bulk_cases(23, municipality=olomouc, coordinator=coordinator, moments=4)
    pages = _walk(supervisor, CaseFilters(scope=Scope.ALL), size=5)
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    walked = [case.pk for page in pages for case in page]
    expected = [case.pk for case in sorted(cases, key=lambda c: (c.opened_at, c.pk), reverse=True)]
    assert walked == expected
    assert len(set(walked)) == len(cases)
    # The same as the whole list in one go (what the access tests read).
    assert walked == [case.pk for case in case_list_for_user(user=supervisor, filters=CaseFilters(scope=Scope.ALL))]


def test_a_full_last_page_has_no_next_page(olomouc: Municipality, supervisor: User, coordinator: User) -> None:
    _bulk_cases(10, municipality=olomouc, coordinator=coordinator, moments=10)
    assert [len(page) for page in _walk(supervisor, CaseFilters(scope=Scope.ALL), size=5)] == [5, 5]


def test_filters_apply_on_every_page(olomouc: Municipality, supervisor: User, coordinator: User) -> None:
    cases = _bulk_cases(25, municipality=olomouc, coordinator=coordinator, moments=3)
    fragment = "/001"  # numbers 10 to 19: part of a reference, as people type it
    expected = [
        case.pk for case in sorted(cases, key=lambda c: (c.opened_at, c.pk), reverse=True) if fragment in case.reference
    ]
    walked = [
        case.pk for page in _walk(supervisor, CaseFilters(scope=Scope.ALL, reference=fragment), size=2) for case in page
    ]
    assert walked == expected
    assert 0 < len(walked) < len(cases)


@pytest.mark.parametrize("cursor", ["", "garbage", "1.2", "n.abc", "-5.3f2a9c1e5b7d4e8f9a0b1c2d3e4f5a6b", "9" * 400])
def test_an_unreadable_cursor_starts_at_the_first_page(
    cursor: str, olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    _bulk_cases(3, municipality=olomouc, coordinator=coordinator, moments=3)
    first = case_page_for_user(user=supervisor, filters=CaseFilters(scope=Scope.ALL), size=2)
    again = case_page_for_user(user=supervisor, filters=CaseFilters(scope=Scope.ALL), after=cursor, size=2)
    assert [c.pk for c in again.cases] == [c.pk for c in first.cases]


def test_a_cursor_is_a_position_not_a_permission(
    olomouc: Municipality, supervisor: User, coordinator: User, foreign_worker: User
) -> None:
    """A cursor taken from another user's list shows the reader only their own cases after that position."""
    _bulk_cases(4, municipality=olomouc, coordinator=coordinator, moments=4)
    cursor = case_page_for_user(user=supervisor, filters=CaseFilters(scope=Scope.ALL), size=1).next_after
    assert cursor is not None
    assert case_page_for_user(user=foreign_worker, filters=CaseFilters(), after=cursor).cases == []


def test_cursors_carry_only_times_and_ids() -> None:
    moment = datetime.datetime(2026, 3, 1, 8, 30, 5, 123456, tzinfo=datetime.UTC)
    case_id = uuid.uuid4()
    cursor = paging.cursor_for((moment, case_id))
    assert re.fullmatch(r"[0-9]+\.[0-9a-f]{32}", cursor)
    assert paging.parse_cursor(cursor, (datetime.datetime, uuid.UUID)) == (moment, case_id)
    assert paging.parse_cursor(
        paging.cursor_for((None, moment, 7)), (datetime.datetime, datetime.datetime, int), nullable=(True, False, False)
    ) == (None, moment, 7)


# --- The page: a fixed number of statements, and the way to the next page ------------------------------------------


def _next_link(html: str) -> str | None:
    found = re.search(r'<a rel="next" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.parametrize("count", [1, 120])
def test_every_page_of_the_supervisors_case_list_runs_the_same_statements(
    count: int,
    olomouc: Municipality,
    coordinator: User,
    supervisor: User,
    django_assert_num_queries: Callable[..., object],
) -> None:
    cases = _open_cases(coordinator, count)
    client = Client()
    client.force_login(supervisor)
    url = reverse("case_list")
    seen: list[str] = []
    for _ in range(4):
        with django_assert_num_queries(CASE_LIST_QUERIES_SUPERVISOR):  # type: ignore[attr-defined]
            response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        seen += re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', html)
        link = _next_link(html)
        if link is None:
            break
        url = reverse("case_list") + link
    assert sorted(seen) == sorted(case.reference for case in cases)
    assert len(seen) == len(set(seen))
    # One page for one case; three for 120 (50, 50, 20), the last one with the way back to the newest.
    assert response.request["QUERY_STRING"].count("after=") == (count > paging.PAGE_SIZE)
