"""The cover page's read model (zastupování): who stands in for whom, and when. Staff names, authorities and times
only — nothing about any case. One query per page of 50, keyset by (start, id), newest first."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from casework.models import SupervisorCover, User
from permissions.policy import Subject, may_end_cover, may_name_cover, may_see_covers

PAGE_SIZE = 50


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
    #: The keyset of the next (older) page, "<starts_at ISO>_<id>", or "" when this is the last page.
    next_before: str
    may_name: bool


def visible_covers(user: User) -> Q:
    """The covers ``user`` sees: their own authority's (as its supervisor) and those they stand in for."""
    subject = Subject.from_user(user)
    if not may_see_covers(subject):
        return Q(pk__in=[])
    return Q(municipality_id=subject.municipality_id) | Q(deputy_id=user.pk)


def parse_before(value: str) -> tuple[datetime.datetime, int] | None:
    """The ``before`` keyset of the query string, or None when absent or malformed (then the first page)."""
    moment, _sep, pk = value.rpartition("_")
    if not pk.isdigit():
        return None
    try:
        parsed = datetime.datetime.fromisoformat(moment)
    except ValueError:
        return None
    return (parsed, int(pk)) if timezone.is_aware(parsed) else None


def cover_page(*, user: User, before: tuple[datetime.datetime, int] | None = None) -> CoverPage:
    """One page of the covers ``user`` sees, newest start first. One query whatever the number of rows."""
    subject = Subject.from_user(user)
    rows = SupervisorCover.objects.filter(visible_covers(user))
    if before is not None:
        rows = rows.filter(Q(starts_at__lt=before[0]) | Q(starts_at=before[0], pk__lt=before[1]))
    loaded = list(
        rows.select_related("supervisor", "deputy", "deputy__organisation__municipality", "municipality").order_by(
            "-starts_at", "-pk"
        )[: PAGE_SIZE + 1]
    )
    now = timezone.now()
    shown = loaded[:PAGE_SIZE]
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
        next_before=f"{last.starts_at.isoformat()}_{last.pk}" if last is not None and len(loaded) > PAGE_SIZE else "",
        may_name=may_name_cover(subject, supervisor_municipality_id=subject.municipality_id),
    )
