"""Case lists for one user, filtered in SQL with a fixed number of queries (DESIGN invariant 8), paged by key
(invariant 12, ``casework.paging``): newest opened first, ``PAGE_SIZE`` rows a page, the case's id breaking ties.

Which cases a user sees is ``permissions.access.visible_cases``; this module adds the user's filters and what a list
row shows. Child names are not here: they are read through the gate (``permissions.gate.read_case_children``), for
the rows of one page only.

The order (``opened_at`` descending, then ``id`` descending) is the order of the index ``case_list_order``
(authority, status, opened, id): a supervisor's page is a walk down that index from the cursor.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Exists, OuterRef, QuerySet

from casework import paging
from casework.models import Case, CaseStatus, TeamMembership, User
from permissions.access import visible_cases
from permissions.policy import Subject


class Scope(StrEnum):
    #: Cases the user coordinates ("My cases").
    COORDINATING = "coordinating"
    #: Cases the user is on the team of ("Cases I'm on").
    MEMBER = "member"
    #: Every case the user may see (for supervisors: the whole authority).
    ALL = "all"


def case_list_scopes(*, user: User) -> tuple[list[Scope], Scope]:
    """The list's tabs for the viewer's system role, and the default tab: a supervisor sees the whole authority
    first, other OSPOD staff the cases they coordinate, a partner the cases they are on. Tabs only filter: which cases
    are listed at all is ``visible_cases``."""
    subject = Subject.from_user(user)
    if subject.is_supervisor:
        return [Scope.ALL, Scope.COORDINATING, Scope.MEMBER], Scope.ALL
    if subject.is_authority_staff:
        return [Scope.COORDINATING, Scope.MEMBER], Scope.COORDINATING
    return [Scope.MEMBER], Scope.MEMBER


@dataclass(frozen=True)
class CaseFilters:
    scope: Scope = Scope.ALL
    #: "open", "closed" or "" for both.
    status: str = CaseStatus.OPEN
    #: Part of a reference number, e.g. "0042" or "OM 2026/0042".
    reference: str = ""


#: The list's order: newest opened first; the id (unique) makes it a total order for the cursor.
CASE_LIST_ORDER = (("opened_at", True), ("id", True))
_CURSOR_KINDS = (datetime.datetime, uuid.UUID)


@dataclass(frozen=True)
class CasePage:
    """One page of a case list: at most ``PAGE_SIZE`` cases, and the cursor of the next page (None on the last)."""

    cases: list[Case]
    next_after: str | None


def case_list_for_user(*, user: User, filters: CaseFilters | None = None) -> QuerySet[Case]:
    """Every case ``user`` may see, filtered, in the list's order (newest first). Unsliced: pages come from
    :func:`case_page_for_user`; this is "which cases", for it and for the access tests."""
    filters = filters or CaseFilters()
    # A file destroyed after a shredding review is a stub: its page says so, the list leaves it out.
    # The supervisor's authorities as values: "= own authority" lets the database walk ``case_list_order`` in the
    # list's order and stop after a page (``permissions.access.supervised_authorities``).
    rows = Case.objects.filter(visible_cases(user, covers_as_values=True), file_destroyed_at__isnull=True)
    if filters.scope is Scope.COORDINATING:
        rows = rows.filter(coordinator=user)
    elif filters.scope is Scope.MEMBER:
        rows = rows.filter(Exists(TeamMembership.objects.current().filter(case=OuterRef("pk"), user=user)))
    if filters.status in CaseStatus.values:
        rows = rows.filter(status=filters.status)
    reference = " ".join(filters.reference.split())
    if reference:
        # On PostgreSQL a trigram index on UPPER(reference) answers this (migration 0020); SQLite scans.
        rows = rows.filter(reference__icontains=reference)
    return rows.select_related("child", "municipality", "coordinator").order_by("-opened_at", "-id")


def case_page_for_user(
    *, user: User, filters: CaseFilters | None = None, after: str = "", size: int = paging.PAGE_SIZE
) -> CasePage:
    """One page of :func:`case_list_for_user`: the ``size`` cases after the cursor ``after`` (the first page for an
    empty or unreadable cursor). One query."""
    rows = case_list_for_user(user=user, filters=filters)
    key = paging.parse_cursor(after, _CURSOR_KINDS)
    if key is not None:
        rows = rows.filter(paging.after(CASE_LIST_ORDER, key))
    fetched = list(rows[: size + 1])
    shown = fetched[:size]
    more = len(fetched) > size and bool(shown)
    return CasePage(cases=shown, next_after=paging.cursor_for((shown[-1].opened_at, shown[-1].pk)) if more else None)
