"""The case conference's read model (DESIGN invariant 11): a conference as the gate lets a viewer read it.

Who sees what is decided here once. The case's leads (coordinator, or a supervisor) see everything: the invitees
(participants' names and addresses through the gate), the record, the decisions and the addenda. An invited team
member sees the logistics (when, where) and nothing of the record; a member who is not invited gets an audited 403
(``conference_access``); everyone else got the same 404 as for a missing case before (``access_case_object``).

The views add their forms on top of :class:`ConferenceView` (the record form's initial values come from its rows).
A fixed number of queries: invitees, decisions and addenda are one query each, each gate read one audit write.
This module imports ``permissions``, so it is imported from its own path, never from ``casework.selectors``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import (
    Case,
    Conference,
    ConferenceAddendum,
    ConferenceDecision,
    ConferenceInvitee,
    ConferenceStatus,
    User,
)
from casework.selectors.case_file import CaseHeader, case_header
from permissions import gate
from permissions.access import AccessedCase, accessed_case, refuse
from permissions.policy import CaseAccess, may_see_conference


@dataclass(frozen=True)
class ConferenceLogistics:
    """When and where: what every invitee may know (nothing sealed)."""

    id: uuid.UUID
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    duration_minutes: int
    place: str
    online_link: str
    status: str
    cancelled: bool


def conference_logistics(conference: Conference) -> ConferenceLogistics:
    return ConferenceLogistics(
        id=conference.pk,
        starts_at=conference.starts_at,
        ends_at=conference.ends_at,
        duration_minutes=conference.duration_minutes,
        place=conference.place,
        online_link=conference.online_link,
        status=conference.get_status_display(),
        cancelled=conference.status == ConferenceStatus.CANCELLED,
    )


def _invited(user: User, conference_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    return set(
        ConferenceInvitee.objects.filter(conference_id__in=conference_ids, user=user).values_list(
            "conference_id", flat=True
        )
    )


def conferences_visible(*, user: User, case: AccessedCase | Case) -> list[ConferenceLogistics]:
    """The case's conferences newest first: every one for a lead, the ones they are invited to for a member."""
    case, access = accessed_case(user, case)
    conferences = list(Conference.objects.filter(case=case).order_by("-starts_at", "-id"))
    invited = set() if access.is_lead else _invited(user, [c.pk for c in conferences])  # no query for a lead
    conferences = [c for c in conferences if may_see_conference(access, invited=c.pk in invited)]
    return [conference_logistics(c) for c in conferences]


def conference_access(*, user: User, case: AccessedCase | Case, conference: Conference, purpose: str) -> CaseAccess:
    """A lead, or an invited member; anyone else who sees the case gets an audited 403 (``PermissionDenied``)."""
    case, access = accessed_case(user, case)
    invited = not access.is_lead and conference.pk in _invited(user, [conference.pk])  # no query for a lead
    if not may_see_conference(access, invited=invited):
        raise refuse(user, case, purpose=purpose)
    return access


@dataclass(frozen=True)
class InviteeRow:
    id: uuid.UUID
    name: str
    email: str
    relation: str
    #: The attendance as recorded (the record form's initial value) and as the page says it.
    attendance: str
    attendance_label: str
    withheld: bool

    @property
    def pk(self) -> uuid.UUID:
        """The invitee's id, as the record form names its attendance fields."""
        return self.id


@dataclass(frozen=True)
class DecisionRow:
    text: str | None
    withheld: bool
    owner: str
    due_on: datetime.date | None


@dataclass(frozen=True)
class AddendumRow:
    text: str | None
    withheld: bool
    author: str
    at: datetime.datetime


@dataclass(frozen=True)
class ConferenceRecord:
    """What the leads read of a conference: the invitees, the record, the decisions and the addenda."""

    invitees: tuple[InviteeRow, ...]
    minutes: str | None
    minutes_withheld: bool
    child_participation: str
    #: The recorded choice (the record form's initial value).
    child_participation_value: str
    held_at: datetime.datetime | None
    signed_off_at: datetime.datetime | None
    signed_off_by: str
    decisions: tuple[DecisionRow, ...]
    addenda: tuple[AddendumRow, ...]


@dataclass(frozen=True)
class ConferenceView:
    header: CaseHeader
    logistics: ConferenceLogistics
    is_lead: bool
    #: The leads' part; None for an invited member.
    record: ConferenceRecord | None = None
    #: The record can be written now (a lead on an open case, the conference started, not signed off or cancelled).
    may_record: bool = False
    may_decide: bool = False
    may_add_addendum: bool = False
    may_sign_off: bool = False
    may_cancel: bool = False
    may_reschedule: bool = False


def _record(user: User, case: AccessedCase, conference: Conference) -> ConferenceRecord:
    invitees = list(conference.invitees.select_related("user"))
    names = gate.read_case(user, case, invitees, ["name", "email"], purpose="case conference invitees")
    minutes = gate.read_case(user, case, [conference], ["minutes"], purpose="case conference record")[0]
    decisions = list(
        ConferenceDecision.objects.filter(conference=conference).select_related("owner_user", "owner_organisation")
    )
    texts = gate.read_case(user, case, decisions, ["text"], purpose="case conference decisions")
    addenda = list(ConferenceAddendum.objects.filter(conference=conference).select_related("author"))
    addendum_texts = gate.read_case(user, case, addenda, ["text"], purpose="case conference addenda")
    return ConferenceRecord(
        invitees=tuple(
            InviteeRow(
                id=i.pk,
                name=i.user.display_name() if i.user is not None else (d.get("name") or _("(hidden)")),
                email=d.get("email") or "",
                relation=i.get_relation_display() if i.relation else "",
                attendance=i.attendance,
                attendance_label=i.get_attendance_display(),
                withheld=bool(d.withheld),
            )
            for i, d in zip(invitees, names, strict=True)
        ),
        minutes=minutes.get("minutes"),
        minutes_withheld=bool(minutes.withheld),
        child_participation=conference.get_child_participation_display() if conference.child_participation else "",
        child_participation_value=conference.child_participation,
        held_at=conference.held_at,
        signed_off_at=conference.signed_off_at,
        signed_off_by=conference.signed_off_by.display_name() if conference.signed_off_by else "",
        decisions=tuple(
            DecisionRow(
                text=t.get("text"),
                withheld=bool(t.withheld),
                owner=(
                    d.owner_user.display_name()
                    if d.owner_user is not None
                    else (d.owner_organisation.name if d.owner_organisation is not None else "")
                ),
                due_on=d.due_on,
            )
            for d, t in zip(decisions, texts, strict=True)
        ),
        addenda=tuple(
            AddendumRow(text=t.get("text"), withheld=bool(t.withheld), author=a.author.display_name(), at=a.created_at)
            for a, t in zip(addenda, addendum_texts, strict=True)
        ),
    )


def conference_disclosed(*, user: User, case: AccessedCase | Case, conference: Conference) -> ConferenceView:
    """The conference page's content for ``user`` (an audited 403 for a member who is not invited).

    ``conference`` must be an object of ``case`` the caller has checked (``access_case_object``).
    """
    accessed = accessed_case(user, case)
    case = accessed.case
    access = conference_access(user=user, case=accessed, conference=conference, purpose="case conference")
    logistics = conference_logistics(conference)
    if not access.is_lead:
        return ConferenceView(header=case_header(case, access), logistics=logistics, is_lead=False)
    writable = access.may_manage
    status = conference.status
    return ConferenceView(
        header=case_header(case, access),
        logistics=logistics,
        is_lead=True,
        record=_record(user, accessed, conference),
        may_record=writable
        and conference.starts_at <= timezone.now()
        and status in (ConferenceStatus.SCHEDULED, ConferenceStatus.HELD),
        may_decide=writable and status == ConferenceStatus.HELD,
        may_add_addendum=writable and status == ConferenceStatus.SIGNED_OFF,
        may_sign_off=writable and status == ConferenceStatus.HELD,
        may_cancel=writable and status == ConferenceStatus.SCHEDULED,
        may_reschedule=writable and status == ConferenceStatus.SCHEDULED,
    )
