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
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.case_file_sources import OpenTaskRow, sources
from casework.models import (
    NOTE_COMPARTMENTS,
    Case,
    CaseNote,
    Conference,
    ConferenceDecision,
    ConferenceInvitee,
    Report,
    TeamMembership,
    User,
)
from casework.selectors.assessments import AssessmentFile, assessment_disclosed
from casework.selectors.cases import case_memberships, case_notes
from casework.selectors.plans import ActionRow, PlanView, plan_disclosed, plan_on_board, plan_versions_visible
from permissions import gate
from permissions.access import AccessedCase, accessed_case
from permissions.models import AuditAction, AuditEvent
from permissions.policy import (
    CaseAccess,
    Relationship,
    may_see_case_event,
    may_see_case_reports,
    may_see_conference,
    sees_all_case_tasks,
)

#: The child's fields every case page may show (as far as the gate allows).
CHILD_BASICS = ["given_name", "family_name", "date_of_birth"]


# --- The header ---------------------------------------------------------------------------------------------------


def relation(access: CaseAccess) -> str:
    """The viewer's relation to the case, as the header and the case list say it."""
    if access.is_coordinator:
        return _("coordinator")
    if access.is_break_glass:
        return _("break-glass (read-only)")
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


@dataclass(frozen=True)
class ChildOnDocument:
    """The child as a document of the file names them (the plan's PDF): the name and date of birth as far as the gate
    let the viewer read them; ``fields`` names what was read (for the export's audit row)."""

    name: str
    date_of_birth: datetime.date | None
    withheld: bool
    fields: tuple[str, ...]


def child_on_document(user: User, case: AccessedCase, *, purpose: str) -> ChildOnDocument:
    """One gate read of the child's basics with ``purpose`` (audited like every read)."""
    disclosure = gate.read_case(user, case, [case.case.child], CHILD_BASICS, purpose=purpose)[0]
    born = disclosure.get("date_of_birth")
    return ChildOnDocument(
        name=child_name(disclosure),
        date_of_birth=datetime.date.fromisoformat(born) if born else None,
        withheld=bool(disclosure.withheld),
        fields=tuple(name for name in CHILD_BASICS if disclosure.shows(name)),
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
    #: More notes of the compartment exist than are shown (the case file shows the newest few).
    more: bool = False


def note_sections(
    access: CaseAccess,
    notes: Sequence[CaseNote],
    texts: Sequence[gate.Disclosure],
    limit: int | None = None,
) -> list[NoteSection]:
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
            notes=tuple(rows[c.value][:limit] if limit is not None and whole[c.value] else rows[c.value]),
            more=limit is not None and whole[c.value] and len(rows[c.value]) > limit,
        )
        for c in NOTE_COMPARTMENTS
    ]


# --- Open tasks ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TasksSection:
    rows: tuple[OpenTaskRow, ...]
    more: bool
    #: The viewer sees the whole team's tasks (the lead), otherwise only the ones they hold.
    everyone: bool


def tasks_section(user: User, access: CaseAccess, limit: int | None) -> TasksSection:
    everyone = sees_all_case_tasks(access)
    found = sources.open_tasks(case_id=access.case_id, owner=None if everyone else user, limit=limit)
    return TasksSection(rows=found.rows, more=found.more, everyone=everyone)


# --- Reports ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    id: uuid.UUID
    reference: str
    received_at: datetime.datetime
    channel: str
    notifier_kind: str
    status: str
    #: What the notifier observed (notifier compartment, §§ 55, 57): None when the gate withheld it. Who the notifier
    #: is stays on the report's own page: the file never names them.
    facts: str | None
    notifier_withheld: bool


@dataclass(frozen=True)
class ReportsSection:
    #: The viewer may see the reports at all; otherwise the page says the part is hidden.
    visible: bool
    rows: tuple[ReportRow, ...] = ()
    more: bool = False


REPORT_NOTIFIER_FIELDS = ["facts"]


def reports_section(user: User, accessed: AccessedCase, limit: int | None, purpose: str) -> ReportsSection:
    case, access = accessed
    if not may_see_case_reports(access):
        return ReportsSection(visible=False)
    query = Report.objects.filter(case=case).order_by("-received_at", "-id")
    loaded = list(query[: limit + 1] if limit is not None else query)
    shown = loaded[:limit] if limit is not None else loaded
    for report in shown:
        report.case = case  # its access is decided from the case already loaded (no query)
    texts = gate.read_reports(user, shown, REPORT_NOTIFIER_FIELDS, purpose=purpose) if shown else []
    return ReportsSection(
        visible=True,
        rows=tuple(
            ReportRow(
                id=r.pk,
                reference=r.reference,
                received_at=r.received_at,
                channel=r.get_channel_display(),
                notifier_kind=r.get_notifier_kind_display(),
                status=r.get_status_display(),
                facts=d.get("facts"),
                notifier_withheld=bool(d.withheld),
            )
            for r, d in zip(shown, texts, strict=True)
        ),
        more=len(loaded) > len(shown),
    )


# --- Conferences --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConferenceRow:
    id: uuid.UUID
    starts_at: datetime.datetime
    place: str
    status: str
    held_at: datetime.datetime | None
    signed_off_at: datetime.datetime | None
    #: The record (minutes, decisions): the case's lead only; an invited member sees when and where.
    record: bool
    minutes: str | None
    minutes_withheld: bool
    decisions: tuple[ConferenceDecisionRow, ...]


@dataclass(frozen=True)
class ConferenceDecisionRow:
    text: str | None
    withheld: bool
    owner: str
    due_on: datetime.date | None


@dataclass(frozen=True)
class ConferencesSection:
    rows: tuple[ConferenceRow, ...]
    more: bool
    #: Some conference (or its record) is not the viewer's to see; never how many.
    withheld: bool


def conferences_section(user: User, accessed: AccessedCase, limit: int | None, purpose: str) -> ConferencesSection:
    """Newest first. The lead reads every conference with its minutes and decisions; an invited member the ones she
    was invited to, without the record (``permissions.policy.may_see_conference``)."""
    case, access = accessed
    query = Conference.objects.filter(case=case).select_related("signed_off_by").order_by("-starts_at", "-id")
    if not access.is_lead:
        query = query.filter(pk__in=ConferenceInvitee.objects.filter(user=user).values("conference_id"))
    loaded = list(query[: limit + 1] if limit is not None else query)
    shown = loaded[:limit] if limit is not None else loaded
    shown = [c for c in shown if may_see_conference(access, invited=True)]
    minutes: list[gate.Disclosure] = []
    decisions: dict[uuid.UUID, list[ConferenceDecisionRow]] = {}
    if access.is_lead:
        minutes = gate.read_case(user, accessed, shown, ["minutes"], purpose=purpose) if shown else []
        rows = list(
            ConferenceDecision.objects.filter(conference__in=shown)
            .select_related("owner_user", "owner_organisation")
            .order_by("created_at", "id")
        )
        texts = gate.read_case(user, accessed, rows, ["text"], purpose=purpose) if rows else []
        for row, d in zip(rows, texts, strict=True):
            owner = row.owner_user.display_name() if row.owner_user is not None else ""
            if not owner and row.owner_organisation is not None:
                owner = row.owner_organisation.name
            decisions.setdefault(row.conference_id, []).append(
                ConferenceDecisionRow(text=d.get("text"), withheld=not d.shows("text"), owner=owner, due_on=row.due_on)
            )
    invited = ConferenceInvitee.objects.filter(user=user).values("conference_id")
    withheld = not access.is_lead and Conference.objects.filter(case=case).exclude(pk__in=invited).exists()
    return ConferencesSection(
        rows=tuple(
            ConferenceRow(
                id=c.pk,
                starts_at=c.starts_at,
                place=c.place,
                status=c.get_status_display(),
                held_at=c.held_at,
                signed_off_at=c.signed_off_at,
                record=access.is_lead,
                minutes=minutes[n].get("minutes") if access.is_lead else None,
                minutes_withheld=access.is_lead and not minutes[n].shows("minutes"),
                decisions=tuple(decisions.get(c.pk, ())),
            )
            for n, c in enumerate(shown)
        ),
        more=len(loaded) > len(shown),
        withheld=withheld,
    )


# --- The plan -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSection:
    #: The current version (for the lead, when there is none, the version in work); None: no plan yet.
    plan: PlanView | None
    #: Some action of the version is not the viewer's to read (never how many).
    actions_withheld: bool
    actions: tuple[ActionRow, ...]
    more: bool


def plan_section(user: User, accessed: AccessedCase, limit: int | None, purpose: str) -> PlanSection:
    case, access = accessed
    plan = plan_on_board(plan_versions_visible(case=case, access=access), access)
    if plan is None:
        return PlanSection(plan=None, actions_withheld=False, actions=(), more=False)
    view = plan_disclosed(user=user, case=accessed, plan=plan, purpose=purpose, latest_reports=False)
    actions = view.all_actions
    return PlanSection(
        plan=view,
        actions_withheld=view.hidden_actions > 0,
        actions=tuple(actions[:limit] if limit is not None else actions),
        more=limit is not None and len(actions) > limit,
    )


# --- The timeline -------------------------------------------------------------------------------------------------

#: What happened, by the purpose its service recorded in the audit log: labels only, never what was written.
EVENT_LABELS: dict[str, str | Promise] = {
    "open case": gettext_lazy("The case was opened"),
    "add team member": gettext_lazy("A member joined the team"),
    "end team membership": gettext_lazy("A membership ended"),
    "end membership": gettext_lazy("A membership ended"),
    "hand over case": gettext_lazy("The case was handed over to another coordinator"),
    "write case note": gettext_lazy("A note was written"),
    "request assessment input": gettext_lazy("A team member was asked for an input to the assessment"),
    "provide assessment input": gettext_lazy("An input to the assessment was given"),
    "withdraw assessment input": gettext_lazy("A request for an input was withdrawn"),
    "write assessment": gettext_lazy("The assessment was written"),
    "schedule case conference": gettext_lazy("A case conference was scheduled"),
    "reschedule case conference": gettext_lazy("A case conference was rescheduled"),
    "cancel case conference": gettext_lazy("A case conference was cancelled"),
    "record case conference": gettext_lazy("The record of a case conference was written"),
    "add case conference decision": gettext_lazy("A case conference took a decision"),
    "sign off case conference": gettext_lazy("The minutes of a case conference were signed off"),
    "add case conference addendum": gettext_lazy("An addendum was added to the minutes"),
    "start plan draft": gettext_lazy("A new version of the plan was started"),
    "edit plan": gettext_lazy("The plan's draft was edited"),
    "import decisions": gettext_lazy("A conference's decisions were taken over into the plan"),
    "submit plan": gettext_lazy("The plan was submitted for approval"),
    "approve plan": gettext_lazy("The plan was approved"),
    "return plan": gettext_lazy("The plan was returned to its drafter"),
    "report on plan action": gettext_lazy("Progress on a plan action was reported"),
    "complete plan action": gettext_lazy("A plan action was done"),
    "share": gettext_lazy("A part of the file was shared"),
    "revoke share": gettext_lazy("A share was revoked"),
    "record consent": gettext_lazy("A consent was recorded"),
    "withdraw consent": gettext_lazy("A consent was withdrawn"),
    "request case closure": gettext_lazy("The case's closure was proposed"),
    "withdraw case closure": gettext_lazy("The proposal to close the case was withdrawn"),
    "return case closure": gettext_lazy("The proposal to close the case was returned"),
    "approve case closure": gettext_lazy("The case's closure was approved"),
    "close case": gettext_lazy("The case was closed"),
    "prepare file inspection": gettext_lazy("A file inspection (§ 55) was prepared"),
    "approve file inspection": gettext_lazy("A file inspection (§ 55) was approved"),
    "return file inspection": gettext_lazy("A file inspection (§ 55) was returned"),
    "record file inspection": gettext_lazy("The file was inspected (§ 55)"),
}
#: Events every team member sees (the rest: the lead, and whoever did it).
TEAM_EVENTS = frozenset(
    {
        "open case",
        "add team member",
        "end team membership",
        "end membership",
        "hand over case",
        "approve plan",
        "approve case closure",
        "close case",
    }
)
#: Rows of one event that are not events of their own (a conference's invitees are written with it).
_PART_OF_ANOTHER_EVENT = ("casework.conferenceinvitee",)


@dataclass(frozen=True)
class EventRow:
    at: datetime.datetime
    actor: str
    label: str | Promise


@dataclass(frozen=True)
class TimelineSection:
    #: Newest first.
    rows: tuple[EventRow, ...]
    more: bool
    #: The viewer sees only part of what happened (a team member).
    partial: bool


def timeline_section(user: User, access: CaseAccess, limit: int | None) -> TimelineSection:
    """The case's events from the audit log's writes (the purpose and who, never a value): one query."""
    everyone = may_see_case_event(access, actor_id=None, team_wide=False)
    query = (
        AuditEvent.objects.filter(case_id=access.case_id, action=AuditAction.WRITE, purpose__in=list(EVENT_LABELS))
        .exclude(object_type__in=_PART_OF_ANOTHER_EVENT)
        .select_related("actor")
        .order_by("-occurred_at", "-seq")
    )
    if not everyone:
        query = query.filter(Q(purpose__in=TEAM_EVENTS) | Q(actor_id=user.pk))
    loaded = list(query[: limit + 1] if limit is not None else query)
    shown = loaded[:limit] if limit is not None else loaded
    rows: list[EventRow] = []
    last: tuple[str, int | None] | None = None
    for event in shown:
        if not may_see_case_event(access, actor_id=event.actor_id, team_wide=event.purpose in TEAM_EVENTS):
            continue
        key = (event.purpose, event.actor_id)
        if key == last and rows and (rows[-1].at - event.occurred_at) < datetime.timedelta(minutes=1):
            continue  # one event written as several rows (a note shared with several people, …)
        last = key
        actor = event.actor.display_name() if event.actor is not None else event.actor_username
        rows.append(EventRow(at=event.occurred_at, actor=actor, label=EVENT_LABELS[event.purpose]))
    return TimelineSection(rows=tuple(rows), more=len(loaded) > len(shown), partial=not everyone)


# --- The case page ------------------------------------------------------------------------------------------------

#: The sections of the case file, in the order a case worker thinks; each shows its newest few unless asked for all.
SECTIONS = ("tasks", "reports", "assessment", "conferences", "plan", "notes", "timeline")
SECTION_LIMIT = 5
TIMELINE_LIMIT = 20


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
    tasks: TasksSection | None = None
    reports: ReportsSection | None = None
    assessment: AssessmentFile | None = None
    conferences: ConferencesSection | None = None
    plan: PlanSection | None = None
    timeline: TimelineSection | None = None
    #: The case's referrals to services of the network (its lead only), from the service network's read model named
    #: by ``settings.CASE_FILE_REFERRALS``: the domain does not import the network (docs/adr/0029-referrals.md).
    referrals: Any = None
    #: The section shown whole (``?show=<section>``), if any.
    expanded: str = ""
    #: Read through a live break-glass grant until then (the page says so); None otherwise.
    break_glass_until: datetime.datetime | None = None


def _referrals_section(access: CaseAccess, case: Case) -> Any:
    hook = getattr(settings, "CASE_FILE_REFERRALS", "")
    return import_string(hook)(access, case) if hook else None


def case_disclosed(*, user: User, case: AccessedCase | Case, purpose: str, expanded: str = "") -> CaseView:
    """The case file for ``user``, every protected value read through the gate with ``purpose``.

    ``case`` must come from ``permissions.access`` (``access_case_by_id``), loaded by ``case_get``. Each section
    shows its newest few (``SECTION_LIMIT``; the timeline ``TIMELINE_LIMIT``) and says whether there is more;
    ``expanded`` names the one section shown whole. A fixed number of queries whatever the file's size.
    """
    accessed = accessed_case(user, case)
    case, access = accessed
    expanded = expanded if expanded in SECTIONS else ""

    def limit(section: str, default: int = SECTION_LIMIT) -> int | None:
        return None if expanded == section else default

    child = gate.read_case(user, accessed, [case.child], CHILD_BASICS, purpose=purpose)[0]
    current, past = member_rows(case_memberships(case=case))
    notes_limit = limit("notes")
    whole = [c.value for c in NOTE_COMPARTMENTS if access.may_read_compartment(c)]
    notes = case_notes(
        case=case,
        limit_per_compartment=notes_limit,
        unlimited=[c.value for c in NOTE_COMPARTMENTS if c.value not in whole],
    )
    texts = gate.read_case(user, accessed, notes, ["text"], purpose=purpose) if notes else []
    return CaseView(
        header=case_header(case, access),
        child=child_basics(child),
        child_id=case.child_id if access.is_lead else None,
        members=tuple(current),
        past_members=tuple(past) if access.is_lead else (),
        sections=tuple(note_sections(access, notes, texts, notes_limit)),
        may_write=bool(access.note_compartments()),
        may_manage=access.may_manage,
        may_close=access.may_close,
        is_lead=access.is_lead,
        read_only=access.read_only,
        tasks=tasks_section(user, access, limit("tasks")),
        reports=reports_section(user, accessed, limit("reports"), purpose),
        assessment=assessment_disclosed(user=user, case=accessed, purpose=purpose, limit=limit("assessment")),
        conferences=conferences_section(user, accessed, limit("conferences"), purpose),
        plan=plan_section(user, accessed, limit("plan"), purpose),
        timeline=timeline_section(user, access, limit("timeline", TIMELINE_LIMIT)),
        referrals=_referrals_section(access, case),
        expanded=expanded,
        break_glass_until=access.facts.break_glass_until if access.is_break_glass else None,
    )
