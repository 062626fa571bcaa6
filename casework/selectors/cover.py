"""The cover page's read model (zastupování): who stands in for whom, and when. Staff names, authorities and times
only — nothing about any case. One query per page of 50, keyset by (start, id), newest first."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from casework import paging
from casework.models import SupervisorCover, User
from permissions.policy import Subject, may_end_cover, may_name_cover, may_see_covers


@dataclass(frozen=True)
class CoverRow:
    cover_id: int
    supervisor: str
    deputy: str
    #: The deputy's own authority (a neighbouring ORP's head may stand in).
    deputy_authority: str
    authority: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    #: "current", "future" or "past".
    state: str
    ended_early: bool
    note: str
    may_end: bool


@dataclass(frozen=True)
class CoverPage:
    rows: tuple[CoverRow, ...]
    #: The cursor of the next (older) page (``casework.paging``), or "" when this is the last page.
    next_before: str
    may_name: bool


def visible_covers(user: User) -> Q:
    """The covers ``user`` sees: their own authority's (as its supervisor) and those they stand in for."""
    subject = Subject.from_user(user)
    if not may_see_covers(subject):
        return Q(pk__in=[])
    return Q(municipality_id=subject.municipality_id) | Q(deputy_id=user.pk)


_COVER_ORDER = (("starts_at", True), ("pk", True))
_COVER_KINDS = (datetime.datetime, int)


def cover_page(*, user: User, before: str = "") -> CoverPage:
    """One page of the covers ``user`` sees, newest start first, after the cursor ``before`` (the first page when it
    is empty or does not parse). One query whatever the number of rows."""
    subject = Subject.from_user(user)
    rows = SupervisorCover.objects.filter(visible_covers(user))
    key = paging.parse_cursor(before, _COVER_KINDS)
    if key is not None:
        rows = rows.filter(paging.after(_COVER_ORDER, key))
    shown, more = paging.take(
        rows.select_related("supervisor", "deputy", "deputy__organisation__municipality", "municipality").order_by(
            "-starts_at", "-pk"
        ),
        paging.PAGE_SIZE,
    )
    now = timezone.now()
    result = []
    for cover in shown:
        state = "past" if cover.ends_at <= now else ("current" if cover.starts_at <= now else "future")
        deputy_org = cover.deputy.organisation
        result.append(
            CoverRow(
                cover_id=cover.pk,
                supervisor=cover.supervisor.display_name(),
                deputy=cover.deputy.display_name(),
                deputy_authority=deputy_org.municipality.name if deputy_org and deputy_org.municipality else "",
                authority=cover.municipality.name,
                starts_at=cover.starts_at,
                ends_at=cover.ends_at,
                state=state,
                ended_early=cover.ended_early_at is not None,
                note=cover.note,
                may_end=state != "past"
                and may_end_cover(subject, municipality_id=cover.municipality_id, deputy_id=cover.deputy_id),
            )
        )
    last = shown[-1] if shown else None
    return CoverPage(
        rows=tuple(result),
        next_before=paging.cursor_for((last.starts_at, last.pk)) if last is not None and more else "",
        may_name=may_name_cover(subject, supervisor_municipality_id=subject.municipality_id),
    )
