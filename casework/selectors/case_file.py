"""The case's read model (DESIGN invariant 11): the case page as the gate lets a viewer read it.

``case_disclosed`` returns a frozen :class:`CaseView`: the header every case page shows (:class:`CaseHeader`), the
child's basics, the team, the note sections and what the viewer may do. What a role sees is decided here once —
the viewer's standing (``permissions.access.AccessedCase``) and the gate's answer per field — and the views and
templates only render. The parts are frozen dataclasses of their own so that the case file can compose them with the
other read models (the plan's ``casework.selectors.plans.PlanView``, …).

A fixed number of queries whatever the size of the team and the file: the memberships and the notes are one query
each, and each gate read is one committed audit write. This module imports ``permissions``, so it is imported from its
own path, never from ``casework.selectors``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import NOTE_COMPARTMENTS, Case, CaseNote, TeamMembership, User
from casework.selectors.cases import case_memberships, case_notes
from permissions import gate
from permissions.access import AccessedCase, accessed_case
from permissions.policy import CaseAccess, Relationship

#: The child's fields every case page may show (as far as the gate allows).
CHILD_BASICS = ["given_name", "family_name", "date_of_birth"]


# --- The header ---------------------------------------------------------------------------------------------------


def relation(access: CaseAccess) -> str:
    """The viewer's relation to the case, as the header and the case list say it."""
    if access.is_coordinator:
        return _("coordinator")
    if access.is_lead:
        return _("supervisor")
    if access.relationship is Relationship.TEAM_MEMBER:
        return _("team member")
    return ""


@dataclass(frozen=True)
class CaseHeader:
    """The case's header: only columns of the case and rows ``case_get`` loaded with it (nothing sealed)."""

    id: uuid.UUID
    reference: str
    is_open: bool
    status: str
    opened_at: datetime.datetime
    open_reason: str
    closed_at: datetime.datetime | None
    close_reason: str
    coordinator: str
    authority: str
    relation: str


def case_header(case: Case, access: CaseAccess) -> CaseHeader:
    return CaseHeader(
        id=case.pk,
        reference=case.reference,
        is_open=case.is_open,
        status=case.get_status_display(),
        opened_at=case.opened_at,
        open_reason=case.get_open_reason_display(),
        closed_at=case.closed_at,
        close_reason=case.get_close_reason_display() if case.close_reason else "",
        coordinator=case.coordinator.display_name(),
        authority=case.municipality.name,
        relation=relation(access),
    )


# --- The child ----------------------------------------------------------------------------------------------------


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


# --- The team -----------------------------------------------------------------------------------------------------


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


# --- The notes ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteRow:
    id: uuid.UUID
    created_at: datetime.datetime
    author: str
    organisation: str
    text: str
    #: Read because it was shared with the viewer (their compartment is otherwise hidden from them).
    shared: bool


@dataclass(frozen=True)
class NoteSection:
    compartment: str
    label: str
    #: The viewer reads the compartment as a whole; otherwise the page says it is hidden (never how much).
    whole: bool
    shared_whole: bool
    notes: tuple[NoteRow, ...] = ()


def note_sections(access: CaseAccess, notes: Sequence[CaseNote], texts: Sequence[gate.Disclosure]) -> list[NoteSection]:
    """The file's compartments in order, each with the notes the viewer reads; a compartment the viewer does not read
    as a whole keeps only notes shared with them (or of their organisation) and says it is hidden. A withheld note
    is left out: neither its text nor that it exists."""
    shared_items = access.facts.shared_items
    whole = {c.value: access.may_read_compartment(c) for c in NOTE_COMPARTMENTS}
    rows: dict[str, list[NoteRow]] = {c.value: [] for c in NOTE_COMPARTMENTS}
    for note, disclosure in zip(notes, texts, strict=True):
        if not disclosure.shows("text"):
            continue
        rows[note.compartment].append(
            NoteRow(
                id=note.pk,
                created_at=note.created_at,
                author=note.author.display_name(),
                organisation=note.author_organisation.name if note.author_organisation else "",
                text=disclosure.get("text") or "",
                shared=not whole[note.compartment] and (note._meta.label_lower, str(note.pk)) in shared_items,
            )
        )
    return [
        NoteSection(
            compartment=c.value,
            label=str(c.label),
            whole=whole[c.value],
            shared_whole=not access.is_lead and c in access.facts.shared_compartments,
            notes=tuple(rows[c.value]),
        )
        for c in NOTE_COMPARTMENTS
    ]


# --- The case page ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    """The case as far as the viewer may read it, and what they may do on it."""

    header: CaseHeader
    child: ChildBasics
    #: The child's register entry: linked for the case's lead only.
    child_id: uuid.UUID | None
    members: tuple[MemberRow, ...]
    #: Past members: the lead only.
    past_members: tuple[MemberRow, ...]
    sections: tuple[NoteSection, ...]
    may_write: bool
    may_manage: bool
    may_close: bool
    is_lead: bool
    read_only: bool


def case_disclosed(*, user: User, case: AccessedCase | Case, purpose: str) -> CaseView:
    """The case page's content for ``user``, every protected value read through the gate with ``purpose``.

    ``case`` must come from ``permissions.access`` (``access_case_by_id``), loaded by ``case_get``.
    """
    accessed = accessed_case(user, case)
    case, access = accessed
    child = gate.read_case(user, accessed, [case.child], CHILD_BASICS, purpose=purpose)[0]
    current, past = member_rows(case_memberships(case=case))
    notes = case_notes(case=case)
    texts = gate.read_case(user, accessed, notes, ["text"], purpose=purpose)
    return CaseView(
        header=case_header(case, access),
        child=child_basics(child),
        child_id=case.child_id if access.is_lead else None,
        members=tuple(current),
        past_members=tuple(past) if access.is_lead else (),
        sections=tuple(note_sections(access, notes, texts)),
        may_write=bool(access.note_compartments()),
        may_manage=access.may_manage,
        may_close=access.may_close,
        is_lead=access.is_lead,
        read_only=access.read_only,
    )
