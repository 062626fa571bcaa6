"""What the case pages share: the viewer and their standing, the case header, the child's basics and team rows."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import Case, TeamMembership, User
from permissions import gate
from permissions.policy import CaseAccess, Relationship

CHILD_BASICS = ["given_name", "family_name", "date_of_birth"]


def viewer(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise Http404
    return request.user


def _age(born: datetime.date) -> int:
    today = timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True)
class ChildBasics:
    name: str
    age: int | None
    withheld: bool


def child_name(disclosure: gate.Disclosure) -> str:
    """The child's name from a gate read of ``given_name`` and ``family_name``; a withheld part is left out."""
    return " ".join(filter(None, [disclosure.get("given_name"), disclosure.get("family_name")]))


def child_basics(disclosure: gate.Disclosure) -> ChildBasics:
    born = disclosure.get("date_of_birth")
    return ChildBasics(
        name=child_name(disclosure),
        age=_age(datetime.date.fromisoformat(born)) if born else None,
        withheld=bool(disclosure.withheld),
    )


def relation(access: CaseAccess) -> str:
    if access.is_coordinator:
        return _("coordinator")
    if access.is_lead:
        return _("supervisor")
    if access.relationship is Relationship.TEAM_MEMBER:
        return _("team member")
    return ""


def header(case: Case, access: CaseAccess) -> dict[str, Any]:
    """The case's header: only columns of the case and rows ``case_get`` loaded with it."""
    return {
        "id": case.pk,
        "reference": case.reference,
        "is_open": case.is_open,
        "status": case.get_status_display(),
        "opened_at": case.opened_at,
        "open_reason": case.get_open_reason_display(),
        "closed_at": case.closed_at,
        "close_reason": case.get_close_reason_display() if case.close_reason else "",
        "coordinator": case.coordinator.display_name(),
        "authority": case.municipality.name,
        "relation": relation(access),
    }


@dataclass(frozen=True)
class MemberRow:
    id: uuid.UUID
    name: str
    organisation: str
    sector: str
    role: str
    valid_from: datetime.date
    valid_until: datetime.date | None
    ended_at: datetime.datetime | None
    end_reason: str
    #: Not ended and not past the last day (it may start later).
    ongoing: bool


def member_row(m: TeamMembership, today: datetime.date) -> MemberRow:
    organisation = m.user.organisation
    return MemberRow(
        id=m.pk,
        name=m.user.display_name(),
        organisation=organisation.name if organisation else "",
        sector=organisation.get_sector_display() if organisation else "",
        role=str(m.team_role),
        valid_from=m.valid_from,
        valid_until=m.valid_until,
        ended_at=m.ended_at,
        end_reason=m.get_end_reason_display() if m.end_reason else "",
        ongoing=m.ended_at is None and (m.valid_until is None or m.valid_until >= today),
    )


def member_rows(memberships: Sequence[TeamMembership]) -> tuple[list[MemberRow], list[MemberRow]]:
    """(the team now and to come, past members): ended, or past their last day."""
    today = timezone.localdate()
    rows = [member_row(m, today) for m in memberships]
    return [r for r in rows if r.ongoing], [r for r in rows if not r.ongoing]
