"""Case lists for one user, filtered in SQL with a fixed number of queries (DESIGN invariant 8).

Which cases a user sees is ``permissions.access.visible_cases``; this module adds the user's filters and what a list
row shows. Child names are not here: they are read through the gate (``permissions.gate.read_case_children``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Exists, OuterRef, QuerySet

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


def case_list_for_user(*, user: User, filters: CaseFilters | None = None, limit: int = 200) -> QuerySet[Case]:
    """The cases ``user`` may see, filtered; one query, ordered newest first, at most ``limit`` rows."""
    filters = filters or CaseFilters()
    # A file destroyed after a shredding review is a stub: its page says so, the list leaves it out.
    rows = Case.objects.filter(visible_cases(user), file_destroyed_at__isnull=True)
    if filters.scope is Scope.COORDINATING:
        rows = rows.filter(coordinator=user)
    elif filters.scope is Scope.MEMBER:
        rows = rows.filter(Exists(TeamMembership.objects.current().filter(case=OuterRef("pk"), user=user)))
    if filters.status in CaseStatus.values:
        rows = rows.filter(status=filters.status)
    reference = " ".join(filters.reference.split())
    if reference:
        rows = rows.filter(reference__icontains=reference)
    return rows.select_related("child", "municipality", "coordinator").order_by("-opened_at")[:limit]
