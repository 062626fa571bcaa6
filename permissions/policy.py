"""The policy: who may see and do what. One module, one table (DOMAIN.md, "Information sharing rules").

Default is deny (§51 of Act 359/1999 Coll.: data go to others only as far as their task needs). The table maps a
*relationship* — how a user stands to a protected object — to the compartments that relationship may read; a team
member also reads their own sector's compartment, and shares widen that item by item or compartment by compartment.
Deciding the relationship needs data (coordinator, memberships, shares) that ``permissions.access`` loads; everything
here is pure and reads like the table, so tests enumerate it.

    relationship        reads
    ------------------  ---------------------------------------------------------------------------------------
    AUTHORITY_STAFF     child register: basics, identity (OSPOD staff of the child's ORP)
    CASE_LEAD           everything of the case (its coordinator; supervisors of its authority); read-only once closed
    TEAM_MEMBER         basics + their sector's compartment (SECTOR_COMPARTMENTS) + what is shared with them
    REPORT_HANDLER      a report (oznámení): the notifier compartment (supervisors of the receiving authority, who
                        triage it; the coordinator of the case it led to)
    BREAK_GLASS         read-only, as the case's lead reads a closed file, without the notifier's identity: an OSPOD
                        worker of the authority with no relationship to the case, under a live break-glass grant
    NONE                nothing (other authorities, partners off the team, the DPO, the administrator; the partner
                        who filed a report, once it is filed)
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum

from casework.compartments import Compartment
from casework.models import OSPOD_ROLES, Child, Municipality, Role, Sector, SupervisorCover, User


class Relationship(StrEnum):
    AUTHORITY_STAFF = "authority_staff"
    CASE_LEAD = "case_lead"
    TEAM_MEMBER = "team_member"
    REPORT_HANDLER = "report_handler"
    BREAK_GLASS = "break_glass"
    NONE = "none"


C = Compartment
ALL_CASE_COMPARTMENTS = frozenset(Compartment)

READ_POLICY: dict[Relationship, frozenset[Compartment]] = {
    # The child register: OSPOD staff of the child's ORP identify the child and contact the family.
    Relationship.AUTHORITY_STAFF: frozenset({C.BASICS, C.IDENTITY}),
    # The coordinator and the authority's supervisors: the whole file, the notifier's identity included.
    Relationship.CASE_LEAD: ALL_CASE_COMPARTMENTS,
    # Every current team member: the case basics; the rest through SECTOR_COMPARTMENTS and shares.
    Relationship.TEAM_MEMBER: frozenset({C.BASICS}),
    # A report's triage and follow-up: the notifier's identity, what they observed, the child's details as given
    # (§§ 55, 57: kept apart from the file; never shown to partners, parents, or the notifier once it is filed).
    Relationship.REPORT_HANDLER: frozenset({C.NOTIFIER}),
    # Break-glass (an emergency, reviewed later): the file as its lead reads it, read-only — but not who reported the
    # child (§§ 55, 57: acting for the child now never needs the notifier's identity).
    Relationship.BREAK_GLASS: ALL_CASE_COMPARTMENTS - {C.NOTIFIER},
    # Administrators, the DPO, partners off the team, other authorities: nothing.
    Relationship.NONE: frozenset(),
}

#: What a team member reads because of their own sector ("team member of the same sector" in DOMAIN.md). The table
#: gives the social compartment to the coordinator and the supervisor only, so an OSPOD worker on the team who does not
#: coordinate reads the child's identity (as in the register of their own authority) but not the social notes, unless
#: one is shared with them.
SECTOR_COMPARTMENTS: dict[str, frozenset[Compartment]] = {
    Sector.OSPOD: frozenset({C.IDENTITY}),
    Sector.SCHOOL: frozenset({C.SCHOOL}),
    Sector.HEALTH: frozenset({C.HEALTH}),
    Sector.SERVICE: frozenset({C.SERVICES}),
    # "Other" (police, court guardian, NGO): only items written by the member's own organisation.
    Sector.OTHER: frozenset({C.OTHER}),
}

#: Compartments whose items are readable by their author's organisation only, among same-sector members.
AUTHOR_ORGANISATION_ONLY = frozenset({C.OTHER})

#: Whole compartments the coordinator may share with another member ("only if shared" in DOMAIN.md).
SHAREABLE_COMPARTMENTS = frozenset({C.SCHOOL, C.HEALTH, C.SERVICES, C.OTHER, C.CHILD_VOICE})
#: Single items may also come from OSPOD's own notes (an OSPOD note relevant to the school, say). The notifier's
#: identity and the child's identity are never shared.
SHAREABLE_ITEM_COMPARTMENTS = SHAREABLE_COMPARTMENTS | {C.SOCIAL}
#: Sharing these needs a recorded agreement that can be withdrawn (health information, what the child said).
CONSENT_REQUIRED = frozenset({C.HEALTH, C.CHILD_VOICE})

#: Compartments a note can be written in (the notifier compartment belongs to the report).
NOTE_COMPARTMENTS = frozenset({C.SOCIAL, C.SCHOOL, C.HEALTH, C.SERVICES, C.OTHER, C.CHILD_VOICE})
#: A partner writes in their own sector's compartment only; OSPOD in any.
PARTNER_NOTE_COMPARTMENT: dict[str, Compartment] = {
    Sector.SCHOOL: C.SCHOOL,
    Sector.HEALTH: C.HEALTH,
    Sector.SERVICE: C.SERVICES,
    Sector.OTHER: C.OTHER,
}

#: Who may be put on a team: partners and OSPOD workers (of the case's own authority); never the DPO or the
#: administrator, who never see case content, nor a supervisor, who sees every case of the authority anyway.
TEAM_ROLES = frozenset({Role.PARTNER, Role.OSPOD_WORKER})


@dataclass(frozen=True)
class Subject:
    """The user as the policy sees them: role, sector and authority, captured once per decision."""

    user_id: int | None
    role: str | None
    sector: str | None
    municipality_id: int | None
    organisation_id: int | None
    active: bool
    #: The authorities a supervisor stands in for now (supervisor cover), asked only when a question is about an
    #: authority other than their own — so deciding anything about one's own authority costs no query.
    covering: Callable[[], frozenset[int]] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_user(cls, user: User | None) -> Subject:
        if user is None or not user.is_authenticated:
            return cls(user_id=None, role=None, sector=None, municipality_id=None, organisation_id=None, active=False)
        organisation = user.organisation
        return cls(
            user_id=user.pk,
            role=user.role,
            sector=organisation.sector if organisation else None,
            municipality_id=organisation.municipality_id if organisation else None,
            organisation_id=organisation.pk if organisation else None,
            active=user.is_active,
            covering=_Covering(user.pk) if user.role == Role.SUPERVISOR else None,
        )

    @property
    def is_authority_staff(self) -> bool:
        return self.active and self.role in OSPOD_ROLES and self.sector == Sector.OSPOD

    @property
    def is_supervisor(self) -> bool:
        return self.is_authority_staff and self.role == Role.SUPERVISOR

    def works_for(self, municipality_id: int) -> bool:
        return self.is_authority_staff and self.municipality_id == municipality_id

    def supervises(self, municipality_id: int) -> bool:
        """A supervisor of the authority — or, while a cover is in force, the deputy of one of its supervisors
        (``casework.models.SupervisorCover``), who supervises it as its own do, four eyes included."""
        if not self.is_supervisor:
            return False
        if self.municipality_id == municipality_id:
            return True
        return self.covering is not None and municipality_id in self.covering()

    def supervised_ids(self) -> list[int]:
        """The authorities this subject supervises now (:meth:`supervises` as a list): their own and those whose
        absent supervisor they stand in for — one statement for the covers, once per subject; empty for anyone who
        is not a supervisor."""
        if not self.is_supervisor or self.municipality_id is None:
            return []
        return sorted({self.municipality_id, *(self.covering() if self.covering is not None else ())})

    def acts_for(self, municipality_id: int) -> bool:
        """Does the authority's register work: its OSPOD staff, or a deputy standing in for one of its supervisors
        (who triages its reports, so registers their children and opens their cases). Coordinating and team
        membership stay with the authority's own staff (``works_for``)."""
        return self.works_for(municipality_id) or self.supervises(municipality_id)

    def stands_in_for(self, municipality_id: int) -> bool:
        """Supervises ``municipality_id`` only as a deputy (supervisor cover), not as its own supervisor."""
        return self.municipality_id != municipality_id and self.supervises(municipality_id)


class _Covering:
    """The authorities a deputy covers now, asked once per ``Subject`` and only when needed (one query)."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self._found: frozenset[int] | None = None

    def __call__(self) -> frozenset[int]:
        if self._found is None:
            self._found = SupervisorCover.objects.covered_authority_ids(deputy_id=self.user_id)
        return self._found


@dataclass(frozen=True)
class CaseFacts:
    """What the policy needs to know about a case and the user's place in it (loaded by ``permissions.access``)."""

    case_id: uuid.UUID
    municipality_id: int
    coordinator_id: int
    is_open: bool
    #: The user holds a current (valid today) team membership and the object-permission index agrees.
    is_current_member: bool = False
    #: Compartments shared whole with the user (directly or through their organisation), shares in force.
    shared_compartments: frozenset[Compartment] = frozenset()
    #: (object type, item id) of single items shared with the user, shares in force.
    shared_items: frozenset[tuple[str, str]] = frozenset()
    #: The user holds a live break-glass grant on the case until then (loaded only when nothing else relates them).
    break_glass_until: datetime.datetime | None = None


@dataclass(frozen=True)
class Item:
    """One protected item of a case as the policy sees it: its compartment and who wrote it."""

    object_type: str
    object_id: str
    compartment: Compartment
    author_organisation_id: int | None = None
    #: Who the item is assigned to (a plan action's owner: a user, or an organisation on the team).
    assignee_user_id: int | None = None
    assignee_organisation_id: int | None = None


@dataclass(frozen=True)
class CaseAccess:
    """One user's standing on one case: the relationship, and the answers the views and the gate ask for."""

    subject: Subject
    facts: CaseFacts
    relationship: Relationship
    _sector_compartments: frozenset[Compartment] = field(default=frozenset())

    @property
    def case_id(self) -> uuid.UUID:
        return self.facts.case_id

    @property
    def visible(self) -> bool:
        return self.relationship is not Relationship.NONE

    @property
    def is_lead(self) -> bool:
        """The case's lead (its coordinator, the authority's supervisors) — and, read-only, a live break-glass grant,
        which reads the file as the lead reads a closed case (``read_only``; docs/adr/0018-break-glass.md)."""
        return self.relationship in (Relationship.CASE_LEAD, Relationship.BREAK_GLASS)

    @property
    def is_break_glass(self) -> bool:
        """Access through a live break-glass grant: every read is marked in the audit, nothing can be changed."""
        return self.relationship is Relationship.BREAK_GLASS

    @property
    def is_coordinator(self) -> bool:
        return self.is_lead and self.subject.user_id == self.facts.coordinator_id

    @property
    def read_only(self) -> bool:
        return not self.facts.is_open or self.is_break_glass

    def may_read_compartment(self, compartment: Compartment) -> bool:
        """Whether the whole compartment is readable (every item in it, whoever wrote it)."""
        if not self.subject.active:
            return False
        if compartment in READ_POLICY[self.relationship]:
            return True
        if self.relationship is not Relationship.TEAM_MEMBER:
            return False
        if compartment in self._sector_compartments and compartment not in AUTHOR_ORGANISATION_ONLY:
            return True
        return compartment in self.facts.shared_compartments and compartment in SHAREABLE_COMPARTMENTS

    def may_read(self, item: Item) -> bool:
        """Whether this one item is readable: its compartment, its author's organisation, or a share of the item."""
        if self.may_read_compartment(item.compartment):
            return True
        if self.relationship is not Relationship.TEAM_MEMBER or not self.subject.active:
            return False
        if self.is_assignee(item):
            # Case basics include "plan actions assigned to *them*" (DOMAIN.md).
            return True
        if (
            item.compartment in AUTHOR_ORGANISATION_ONLY
            and item.compartment in self._sector_compartments
            and item.author_organisation_id is not None
            and item.author_organisation_id == self.subject.organisation_id
        ):
            return True
        return (
            item.compartment in SHAREABLE_ITEM_COMPARTMENTS
            and (item.object_type, item.object_id) in self.facts.shared_items
        )

    def is_assignee(self, item: Item) -> bool:
        """Whether the item (a plan action) is assigned to this user or to their organisation."""
        if item.assignee_user_id is not None:
            return item.assignee_user_id == self.subject.user_id
        return (
            item.assignee_organisation_id is not None and item.assignee_organisation_id == self.subject.organisation_id
        )

    def note_compartments(self) -> list[Compartment]:
        """Compartments this user may write a note in, in display order (none on a closed case)."""
        if self.read_only or not self.subject.active:
            return []
        if self.is_lead or (self.relationship is Relationship.TEAM_MEMBER and self.subject.sector == Sector.OSPOD):
            return [c for c in Compartment if c in NOTE_COMPARTMENTS]
        if self.relationship is Relationship.TEAM_MEMBER and self.subject.sector in PARTNER_NOTE_COMPARTMENT:
            return [PARTNER_NOTE_COMPARTMENT[self.subject.sector]]
        return []

    @property
    def may_manage(self) -> bool:
        """Team, handover, shares and consents: the coordinator, or a supervisor covering; open cases only."""
        return self.is_lead and not self.read_only

    @property
    def may_close(self) -> bool:
        return self.may_manage


def relationship_to_case(subject: Subject, facts: CaseFacts) -> Relationship:
    """DOMAIN.md, "Who sees which case"."""
    if not subject.active:
        return Relationship.NONE
    if (subject.works_for(facts.municipality_id) and subject.user_id == facts.coordinator_id) or subject.supervises(
        facts.municipality_id
    ):
        # Coordinator and supervisors keep read-only access to a closed case.
        return Relationship.CASE_LEAD
    # A member without an organisation has no sector to read by: fail closed, as ``may_join_team`` and the list
    # filter (``permissions.access.visible_cases``) do.
    if facts.is_open and facts.is_current_member and subject.role in TEAM_ROLES and subject.organisation_id is not None:
        if subject.sector == Sector.OSPOD and not subject.works_for(facts.municipality_id):
            return Relationship.NONE  # nobody sees another authority's cases
        return Relationship.TEAM_MEMBER
    if facts.break_glass_until is not None and may_hold_break_glass(subject, facts.municipality_id):
        return Relationship.BREAK_GLASS
    return Relationship.NONE


def case_access(subject: Subject, facts: CaseFacts) -> CaseAccess:
    relationship = relationship_to_case(subject, facts)
    sector = (
        SECTOR_COMPARTMENTS.get(subject.sector or "", frozenset())
        if relationship is Relationship.TEAM_MEMBER
        else frozenset()
    )
    return CaseAccess(subject=subject, facts=facts, relationship=relationship, _sector_compartments=sector)


def relationship_to_child(subject: Subject, child: Child) -> Relationship:
    if subject.acts_for(child.municipality_id):
        return Relationship.AUTHORITY_STAFF
    return Relationship.NONE


def readable_compartments(subject: Subject, relationship: Relationship) -> frozenset[Compartment]:
    if not subject.active:
        return frozenset()
    return READ_POLICY[relationship]


def may_register_child(user: User, municipality: Municipality) -> bool:
    """Registering a child is OSPOD work for the child's own ORP."""
    return Subject.from_user(user).acts_for(municipality.pk)


def may_import_register(user: User, municipality_id: int) -> bool:
    """Importing an authority's existing register (``manage.py import_register``) is register work of its own OSPOD
    workers and supervisors — the importer becomes the default coordinator, so a deputy standing in does not."""
    return Subject.from_user(user).works_for(municipality_id)


#: What a full export of an authority (moving to another system) opens: every compartment of every file.
AUTHORITY_EXPORT_COMPARTMENTS = ALL_CASE_COMPARTMENTS


def may_export_authority(subject: Subject, municipality_id: int) -> bool:
    """A full export of an authority's data, in clear, is a decision of the authority's own supervisor (not a
    deputy, the DPO or the administrator, who are not readers: ADR 0020)."""
    return subject.is_supervisor and subject.municipality_id == municipality_id


def may_search_register(user: User) -> bool:
    return Subject.from_user(user).is_authority_staff


def may_open_case(user: User, child: Child) -> bool:
    """Opening a case file is OSPOD work of the child's own authority."""
    return Subject.from_user(user).acts_for(child.municipality_id)


def may_see_identity_hints(user: User, municipality_id: int) -> bool:
    """Possible-duplicate hints (same name and date of birth, by blind index) are for the OSPOD staff of the
    authority whose register they come from — never for partners, other authorities, the DPO or the administrator."""
    return Subject.from_user(user).acts_for(municipality_id)


def may_add_birth_number(user: User, child: Child) -> bool:
    """Adding a birth number later (or proposing a merge of two entries of one child) is register work of the
    child's own authority."""
    return Subject.from_user(user).acts_for(child.municipality_id)


def may_decide_child_merge(subject: Subject, *, municipality_id: int, proposed_by_id: int) -> bool:
    """Approving or rejecting a merge of two register entries: a supervisor of the authority who did not propose it
    (four eyes). Whether the merge still waits and its entries are mergeable is the service's state check."""
    return subject.supervises(municipality_id) and subject.user_id != proposed_by_id


def may_coordinate(user: User, municipality_id: int) -> bool:
    """A coordinator is an active OSPOD worker (or supervisor) of the case's authority."""
    return Subject.from_user(user).works_for(municipality_id)


def may_hold_authority_work(user: User, municipality_id: int) -> bool:
    """Who may hold an item of an authority that has no case yet (a report's triage, its feedback): its OSPOD staff,
    and a supervisor of another authority standing in for one of its supervisors (supervisor cover)."""
    return Subject.from_user(user).acts_for(municipality_id)


def may_join_team(user: User, municipality_id: int) -> bool:
    """Partners of any organisation; OSPOD staff of the case's own authority only; never the DPO or administrator."""
    subject = Subject.from_user(user)
    if not subject.active or subject.role not in TEAM_ROLES or subject.organisation_id is None:
        return False
    if subject.sector == Sector.OSPOD:
        return subject.works_for(municipality_id)
    return True


# --- Decisions on a case (four eyes) and the work on it ------------------------------------------------------------


def may_decide_closure(subject: Subject, *, municipality_id: int, proposed_by_id: int) -> bool:
    """Approving or returning a closure proposal: a supervisor of the case's authority who did not propose it (four
    eyes, standard 13). Whether the proposal still waits and the case is open is the caller's state check."""
    return subject.supervises(municipality_id) and subject.user_id != proposed_by_id


def may_withdraw_closure(access: CaseAccess, *, proposed_by_id: int) -> bool:
    """Withdrawing a pending closure proposal: the case's lead, or its proposer while they may still see the open
    case."""
    proposer = access.subject.user_id == proposed_by_id and access.visible and not access.read_only
    return access.may_manage or proposer


def may_provide_input(access: CaseAccess, *, asked_id: int | None) -> bool:
    """An assessment input: only the member asked, while they are on the team (or lead it) and the case is open."""
    return access.subject.user_id == asked_id and access.visible and not access.read_only


def may_see_conference(access: CaseAccess, *, invited: bool) -> bool:
    """A case conference (its logistics): the case's lead, or a member of its team who was invited to it."""
    return access.is_lead or (invited and access.visible)


def sees_all_case_tasks(access: CaseAccess) -> bool:
    """The case file's open tasks: the case's lead sees the whole team's work (titles, holders, due dates); a team
    member sees the tasks they hold."""
    return access.is_lead


def may_see_case_reports(access: CaseAccess) -> bool:
    """The case file's reports (oznámení) that opened or joined the case: their handlers, the case's lead (§§ 55, 57:
    the notifier's part stays apart from the file; the gate still decides each field). Not through break-glass,
    which never reads the notifier's part."""
    return access.is_lead and not access.is_break_glass


def may_see_case_event(access: CaseAccess, *, actor_id: int | None, team_wide: bool) -> bool:
    """An event of the case file's timeline (what happened, never what was written): the lead sees every event; a team
    member the events the whole team takes part in (the case opened, the team changed, a plan approved, the case
    closed) and their own."""
    if access.is_lead:
        return True
    if not access.visible:
        return False
    return team_wide or (actor_id is not None and actor_id == access.subject.user_id)


def may_approve_plan(subject: Subject, *, municipality_id: int, drafted_by_id: int | None) -> bool:
    """Approving (or returning) a plan version: a supervisor of the case's authority who did not draft it (four
    eyes). Whether the version is submitted and the case open is the caller's state check."""
    return subject.supervises(municipality_id) and subject.user_id != drafted_by_id


@dataclass(frozen=True)
class ActionFacts:
    """What the policy needs to know about a plan action and the user's place on its case (``permissions.access``)."""

    case_open: bool
    #: The user holds a team membership of the action's case valid today.
    is_current_member: bool
    owner_user_id: int | None
    owner_organisation_id: int | None
    #: The action is open and belongs to the plan's current version.
    action_open: bool


def owns_action(subject: Subject, facts: ActionFacts) -> bool:
    """The action's owner: the person it is assigned to, or anyone of the owning organisation, while they are on the
    team of an open case. (Not owning it is a refusal; owning a finished action is only a plain answer.)"""
    if not subject.active or not facts.case_open or not facts.is_current_member:
        return False
    if facts.owner_user_id is not None:
        return facts.owner_user_id == subject.user_id
    return subject.organisation_id is not None and facts.owner_organisation_id == subject.organisation_id


def may_report_on_action(subject: Subject, facts: ActionFacts) -> bool:
    """Progress and "done" on a plan action: its owner, while the action is open in the current version."""
    return facts.action_open and owns_action(subject, facts)


@dataclass(frozen=True)
class TaskFacts:
    """What the policy needs to know about a workflow task (loaded by ``workflows.tasks``; ``permissions`` knows no
    workflow steps, so the step's own rule arrives as a fact)."""

    owner_id: int | None
    is_open: bool
    is_done: bool
    #: The step's rule for this user (``workflows.nodes.PolicyView.may_work``: e.g. a supervisor of the report's
    #: authority for a triage, the member asked for an input).
    step_allows: bool


def may_see_task(subject: Subject, facts: TaskFacts) -> bool:
    """Whether the task's page exists for the user at all (anything else is the same 404 as a missing task)."""
    return subject.active and facts.step_allows


def may_open_task_for_work(subject: Subject, facts: TaskFacts) -> bool:
    """Opening a task to work on it (its page, taking it, giving it back): one the user may see that is still open."""
    return facts.is_open and may_see_task(subject, facts)


def holds_task(subject: Subject, *, owner_id: int | None) -> bool:
    """The user holds the task (it is assigned to them)."""
    return subject.active and owner_id is not None and owner_id == subject.user_id


def may_complete_task(subject: Subject, facts: TaskFacts) -> bool:
    """Submitting a task's work: only its holder, while the step's rule still allows them (a colleague who may see it
    reads the page, but the form is not theirs: take it from the queue first). A task finished a moment earlier is
    the transition's plain answer, not a refusal."""
    return may_see_task(subject, facts) and holds_task(subject, owner_id=facts.owner_id)


def completed_own_task(subject: Subject, facts: TaskFacts) -> bool:
    """The user completed this task themselves (a browser retry after a lost response): not a refusal, the work is
    done — they are sent on as the completed task would have sent them."""
    return facts.is_done and holds_task(subject, owner_id=facts.owner_id)


# --- Reports (oznámení, § 10(4)) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFacts:
    """What the policy needs to know about a report (loaded by ``permissions.access``)."""

    report_id: uuid.UUID
    #: The receiving authority.
    municipality_id: int
    recorded_by_id: int
    #: The case the report led to (opened or attached), its authority and its current coordinator.
    case_id: uuid.UUID | None = None
    case_municipality_id: int | None = None
    case_coordinator_id: int | None = None
    #: The notifier's hints make it urgent, and it is still waiting for triage.
    urgent_undecided: bool = False
    #: The user is on the receiving authority's duty roster right now (loaded only for its OSPOD workers).
    on_duty: bool = False


def may_triage_report(subject: Subject, *, municipality_id: int, urgent_undecided: bool, on_duty: bool) -> bool:
    """Urgency triage (quality standard 8): a supervisor of the receiving authority, always; the authority's OSPOD
    worker on duty (standard 1b, nights and weekends included), for urgent reports while on duty. Outside the duty
    roster only supervisors triage."""
    if subject.supervises(municipality_id):
        return True
    return urgent_undecided and on_duty and subject.works_for(municipality_id)


def may_be_on_duty(user: User, municipality_id: int) -> bool:
    """Who can be put on an authority's duty roster: its active OSPOD workers and supervisors."""
    return Subject.from_user(user).works_for(municipality_id)


def may_manage_duty_roster(user: User, municipality_id: int) -> bool:
    """The duty roster is the supervisors' business (they plan who covers nights and weekends)."""
    return Subject.from_user(user).supervises(municipality_id)


def relationship_to_report(subject: Subject, facts: ReportFacts) -> Relationship:
    """Supervisors of the receiving authority triage and oversee its reports; the coordinator of the case a report led
    to reads it while the case is theirs (closed cases too, read-only like the rest of the file). Nobody else — not
    the partner who filed it, not another authority, not the DPO or the administrator."""
    if not subject.active:
        return Relationship.NONE
    if may_triage_report(
        subject, municipality_id=facts.municipality_id, urgent_undecided=facts.urgent_undecided, on_duty=facts.on_duty
    ):
        # A supervisor; or the worker on duty, who reads an urgent report to triage it.
        return Relationship.REPORT_HANDLER
    if (
        facts.case_coordinator_id is not None
        and facts.case_municipality_id is not None
        and subject.user_id == facts.case_coordinator_id
        and subject.works_for(facts.case_municipality_id)
    ):
        return Relationship.REPORT_HANDLER
    return Relationship.NONE


@dataclass(frozen=True)
class ReportAccess:
    """One user's standing on one report."""

    subject: Subject
    facts: ReportFacts
    relationship: Relationship

    @property
    def visible(self) -> bool:
        """Whether the report's page (and its notifier compartment) exists for the user at all."""
        return self.relationship is Relationship.REPORT_HANDLER

    def may_read_compartment(self, compartment: Compartment) -> bool:
        return compartment in readable_compartments(self.subject, self.relationship)

    @property
    def may_triage(self) -> bool:
        """Urgency, § 6 and the coordinator are decided by a supervisor of the receiving authority, or by its worker on
        duty for an urgent report (standard 8, standard 1b): ``may_triage_report``."""
        return may_triage_report(
            self.subject,
            municipality_id=self.facts.municipality_id,
            urgent_undecided=self.facts.urgent_undecided,
            on_duty=self.facts.on_duty,
        )

    @property
    def may_send_feedback(self) -> bool:
        """The § 10(4) answer is sent by whoever handles the report: the case's coordinator or a supervisor."""
        return self.visible

    @property
    def is_filer(self) -> bool:
        """The person who filed or entered it sees its date and status (never its content)."""
        return self.subject.active and self.subject.user_id == self.facts.recorded_by_id


def report_access(subject: Subject, facts: ReportFacts) -> ReportAccess:
    return ReportAccess(subject=subject, facts=facts, relationship=relationship_to_report(subject, facts))


def may_file_report(user: User) -> bool:
    """Partners file reports through the form; OSPOD staff enter the ones that arrive by phone, letter or in person.
    The DPO and the administrator never touch case content, reports included."""
    subject = Subject.from_user(user)
    if not subject.active or subject.organisation_id is None or subject.municipality_id is None:
        return False
    if subject.role == Role.PARTNER:
        return subject.sector != Sector.OSPOD
    return subject.is_authority_staff


def may_record_any_channel(user: User) -> bool:
    """Only OSPOD staff enter phone, letter, in-person and anonymous reports, for their own authority."""
    return Subject.from_user(user).is_authority_staff


def may_triage_reports(user: User, municipality_id: int) -> bool:
    return Subject.from_user(user).supervises(municipality_id)


def second_factor_required(user: User, *, required_roles: Collection[str], partners_required: bool) -> bool:
    """Whether this person must log in with a second factor (and, without one, may only enrol).

    ``required_roles`` is ``settings.OTP_REQUIRED_ROLES`` (every OSPOD role, the DPO and administrators in
    production; empty in development and tests); a superuser counts as an administrator. A partner needs it when
    their authority turned it on (``partners_required``, read by the caller from the partner's ORP). Anyone who
    enrolled of their own accord is asked for the code too, but that is the caller's business, not a rule.
    """
    role = Role.ADMINISTRATOR if user.is_superuser else user.role
    if role in required_roles:
        return True
    return role == Role.PARTNER and partners_required


# --- Local competence (§ 61): known-child requests and transfers between ORPs --------------------------------------


def may_ask_known_child(user: User, municipality_id: int) -> bool:
    """Asking another ORP whether it knows a child: OSPOD staff of the authority that received the report."""
    return Subject.from_user(user).works_for(municipality_id)


def may_answer_known_child(user: User, asked_municipality_id: int) -> bool:
    """Answering "is this child known to you?": a supervisor of the asked ORP (it reads its own register)."""
    return Subject.from_user(user).supervises(asked_municipality_id)


def may_propose_transfer(access: CaseAccess) -> bool:
    """Proposing to hand the file to another ORP (the child moved): the coordinator, or a supervisor covering; open
    cases only."""
    return access.may_manage


def may_withdraw_transfer(access: CaseAccess) -> bool:
    return access.may_manage


def may_decide_transfer(user: User, to_municipality_id: int) -> bool:
    """Accepting or declining a transfer: a supervisor of the receiving ORP (who names the new coordinator)."""
    return Subject.from_user(user).supervises(to_municipality_id)


def may_see_transfer_stub(user: User, from_municipality_id: int) -> bool:
    """After a transfer the old authority keeps a read-only stub — the old and new reference, where and when — and
    nothing of the file's content: its staff lose the case itself with ``relationship_to_case`` (another authority)."""
    return Subject.from_user(user).works_for(from_municipality_id)


# --- Access oversight (supervisors of the authority and the DPO; never case content) -------------------------------


def is_data_protection_officer(subject: Subject) -> bool:
    return subject.active and subject.role == Role.DPO


def may_oversee_access(subject: Subject) -> bool:
    """The access oversight pages (*Kontrola přístupů*) exist for supervisors and the DPO only. They show the audit
    chain (who, when, which field names, why, with what outcome) and case references — never case content."""
    return subject.is_supervisor or is_data_protection_officer(subject)


def may_oversee_authority(subject: Subject, municipality_id: int | None) -> bool:
    """Whose accesses a person may examine: the DPO every authority's, a supervisor their own authority's only.
    An event or a person belonging to no authority is the DPO's alone. Not a deputy standing in (supervisor cover):
    their own reads in the covered authority are what its supervisors audit afterwards."""
    if is_data_protection_officer(subject):
        return True
    return municipality_id is not None and subject.is_supervisor and subject.municipality_id == municipality_id


def may_review_anomaly(subject: Subject, *, municipality_id: int | None, actor_id: int | None) -> bool:
    """Marking an access anomaly reviewed: anyone who oversees its authority, except the person it is about."""
    return may_oversee_authority(subject, municipality_id) and (actor_id is None or subject.user_id != actor_id)


# --- § 55 file inspection and the record of processing -------------------------------------------------------------


def _leads_in_person(access: CaseAccess) -> bool:
    """The case's coordinator or a supervisor of its authority — not a live break-glass grant, which reads the file
    as the lead would but manages nothing in it."""
    return access.is_lead and not access.is_break_glass


def may_prepare_inspection(access: CaseAccess) -> bool:
    """Preparing a § 55 inspection of the file for the child or a parent: the case's lead (its coordinator, or a
    supervisor of its authority). A closed file may be inspected too (it is kept 15 years, § 55(5)). Never through
    break-glass: an emergency read is not the file's management."""
    return _leads_in_person(access) and access.subject.active


def may_see_inspections(access: CaseAccess) -> bool:
    """The case's inspections (who inspected, when, what): the lead only, in person (not through break-glass);
    partners never see the file whole."""
    return _leads_in_person(access)


def may_decide_inspection(subject: Subject, *, municipality_id: int, prepared_by_id: int) -> bool:
    """Approving or returning a prepared inspection: a supervisor of the case's authority who did not prepare it
    (four eyes). Whether it still waits is the caller's state check."""
    return subject.supervises(municipality_id) and subject.user_id != prepared_by_id


def may_download_inspection(access: CaseAccess) -> bool:
    """The inspection's PDF: the lead — once a supervisor approved it the copy to hand over, before that a preview
    marked as a draft on every page (so that the supervisor sees what they approve). Never anyone else (a partner,
    the DPO, the administrator, someone reading through break-glass)."""
    return _leads_in_person(access)


def may_record_inspection(access: CaseAccess) -> bool:
    """Recording that the approved inspection took place (when, shown or copied): the case's lead."""
    return _leads_in_person(access)


def may_inspect_as_representative(*, parental_responsibility: bool, same_child: bool) -> bool:
    """§ 55(3): besides the child, only a parent (or guardian) with parental responsibility for *this* child may
    inspect the file, as the child's representative."""
    return parental_responsibility and same_child


#: What a § 55 inspection never holds, whatever the coordinator chooses (§ 55(2), § 57, and our policy on third
#: persons): the notifier compartment (the reports and what would reveal the notifier) and the identity compartment
#: (addresses and contacts — a victim of domestic violence's address among them — and the other representatives).
INSPECTION_EXCLUDED_COMPARTMENTS = frozenset({C.NOTIFIER, C.IDENTITY})


def may_see_processing_record(subject: Subject) -> bool:
    """The record of processing activities (GDPR Art. 30): the DPO keeps it; supervisors (the controller's heads of
    department) read it too. It holds no case content, only the configuration."""
    return is_data_protection_officer(subject) or subject.is_supervisor


# --- Retention and the shredding review (skartační řízení) ---------------------------------------------------------


def is_records_officer(user: User | None) -> bool:
    """The authority's records officer (spisový pracovník / archivář): an active OSPOD worker or supervisor the
    administrator has marked (``User.is_records_officer``). The flag means nothing on any other role, so it never
    turns an administrator, the DPO or a partner into someone who decides about files."""
    return user is not None and Subject.from_user(user).is_authority_staff and bool(user.is_records_officer)


def may_decide_retention(user: User | None, municipality_id: int) -> bool:
    """Deciding a proposal of the shredding review (destroy, transfer to the archive, keep longer): a supervisor of
    the file's authority or its records officer. One person decides; the review itself (the skartační řízení with the
    archive) is the second pair of eyes, and its reference is required for destruction or transfer."""
    subject = Subject.from_user(user)
    return subject.supervises(municipality_id) or (is_records_officer(user) and subject.works_for(municipality_id))


def may_see_retention_reviews(user: User | None) -> bool:
    """The shredding-review list: supervisors, records officers, and the DPO (read-only, every authority). It shows
    case references, dates and decisions — never case content."""
    subject = Subject.from_user(user)
    return subject.is_supervisor or is_records_officer(user) or is_data_protection_officer(subject)


def may_see_retention_of(user: User | None, municipality_id: int) -> bool:
    """Whose files' reviews a person sees: the DPO every authority's; deciders their own authority's."""
    return is_data_protection_officer(Subject.from_user(user)) or may_decide_retention(user, municipality_id)


# --- The service network: directory of services (issue 21; no child data) -----------------------------------------


def may_search_service_directory(user: User | None) -> bool:
    """The directory of services, its cards and their printable pages: every active, logged-in user. A card holds
    no child data — a provider's public description, its capacity and contact."""
    return Subject.from_user(user).active


def may_edit_service_card(user: User | None, *, provider_organisation_id: int) -> bool:
    """Keeping a service's card current: a partner user of the provider's own organisation. Not OSPOD staff (they
    read the directory; a wrong card is the provider's to correct), not another provider's users; the administrator
    registers providers and may correct a card in the administration."""
    subject = Subject.from_user(user)
    return subject.active and subject.role == Role.PARTNER and subject.organisation_id == provider_organisation_id


def may_see_cards_to_confirm(user: User | None, *, is_provider_user: bool) -> bool:
    """The list of cards to confirm: a provider's own partner users (their organisation's cards) and supervisors
    (every stale card of the region, to chase providers)."""
    subject = Subject.from_user(user)
    return subject.is_supervisor or (subject.active and subject.role == Role.PARTNER and is_provider_user)


def may_see_service_network(user: User | None) -> bool:
    """The network view (services, capacities and waiting times by type and area; counts only, no child data):
    supervisors and the regional office, for the region as a whole."""
    subject = Subject.from_user(user)
    return subject.is_supervisor or (subject.active and subject.role == Role.REGIONAL_OFFICE)


class SystemRead(StrEnum):
    """Reads the system makes without a user, through the gate, audited with the system as the actor."""

    #: The child's date of birth, for the retention period of a child who left into adoption or foster care.
    RETENTION_PERIOD = "retention_period"
    #: The whole file, to export it for the archive after a shredding review decided to transfer it.
    ARCHIVE_TRANSFER = "archive_transfer"
    #: The date of birth and the birth number of a child registered before the year of birth and the sex were
    #: derived at registration, to derive them once (docs/adr/0030-statistics-from-metadata.md).
    STATISTICS = "statistics"


SYSTEM_READS: dict[SystemRead, frozenset[Compartment]] = {
    SystemRead.RETENTION_PERIOD: frozenset({C.BASICS}),
    SystemRead.ARCHIVE_TRANSFER: ALL_CASE_COMPARTMENTS,
    SystemRead.STATISTICS: frozenset({C.BASICS, C.IDENTITY}),
}


def system_readable_compartments(reason: SystemRead) -> frozenset[Compartment]:
    return SYSTEM_READS[reason]


# --- Break-glass (DOMAIN.md: an emergency read of a case one has no relationship to, reviewed later) ---------------

#: Who may break the glass: the authority's OSPOD workers (the on-call worker, standard 1b) and its supervisors.
#: Never partners, the DPO or the administrator.
BREAK_GLASS_ROLES = frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR})


def may_hold_break_glass(subject: Subject, municipality_id: int) -> bool:
    """Whose grant on a case of ``municipality_id`` works: its OSPOD workers and supervisors, while they still are."""
    return subject.works_for(municipality_id) and subject.role in BREAK_GLASS_ROLES


def may_request_break_glass(subject: Subject) -> bool:
    """The break-glass page exists for the OSPOD workers and supervisors of an authority; for nobody else."""
    return subject.is_authority_staff and subject.role in BREAK_GLASS_ROLES and subject.municipality_id is not None


def may_break_glass(access: CaseAccess) -> bool:
    """Opening this case through break-glass: an OSPOD worker or supervisor of the case's own authority who has no
    relationship to it now (not its coordinator, not on its team, no live grant). Supervisors see every case of their
    authority anyway, so in practice this is the on-call OSPOD worker. Nobody breaks into another authority's case."""
    return access.relationship is Relationship.NONE and may_hold_break_glass(
        access.subject, access.facts.municipality_id
    )


def may_see_break_glass_queue(subject: Subject) -> bool:
    """The review queue is oversight: the authority's supervisors (who review) and the DPO (who reads it)."""
    return may_oversee_access(subject)


def may_review_break_glass(subject: Subject, *, municipality_id: int, used_by_id: int) -> bool:
    """Marking a break-glass justified or not: a supervisor of the authority where it happened who is not the person
    who used it (four eyes). The DPO reads the queue but does not decide."""
    return subject.supervises(municipality_id) and subject.user_id != used_by_id


# --- Accounts: the administrator cannot become a reader (issue 19) -------------------------------------------------

#: Roles whose accounts read case content or the audit: creating one, or giving an account one of them, takes effect
#: only after a second person confirms it. The administrator role reads nothing but manages accounts, so giving it
#: needs a second administrator too.
#: The regional office reads the figures of a whole region (aggregates): confirmed like the rest.
CONFIRMED_ROLES = frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR, Role.DPO, Role.ADMINISTRATOR, Role.REGIONAL_OFFICE})
#: Roles confirmed by a second administrator: they belong to no authority whose supervisors could confirm them.
ADMINISTRATOR_CONFIRMED_ROLES = frozenset({Role.DPO, Role.ADMINISTRATOR, Role.REGIONAL_OFFICE})
#: What an account change may touch that decides what the person can read: changing any of these on an existing
#: account, or switching an account back on, waits for confirmation (deactivation takes effect at once). The e-mail
#: is here because a reset link goes to it: an administrator who could change it could take the account over.
ACCESS_FIELDS = frozenset({"role", "organisation", "email", "is_active"})


def is_account_administrator(user: User) -> bool:
    """Who manages accounts: an active administrator-role account with staff status (or a technical superuser)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser) or (user.role == Role.ADMINISTRATOR and bool(user.is_staff))


def account_change_needs_confirmation(*, new_account: bool, role: str, changed: Collection[str]) -> bool:
    """A new account with a role of :data:`CONFIRMED_ROLES`, or a change of a role, an organisation, an e-mail or a
    reactivation of an existing one (``changed`` names ``is_active`` only for switching an account back on: a
    deactivation takes effect at once). A new partner account needs none: a partner reads nothing until a coordinator
    puts them on a team (the coordinator is the second person); it is still audited and notified."""
    if new_account:
        return role in CONFIRMED_ROLES
    return bool(set(changed) & ACCESS_FIELDS)


def account_change_confirmer(*, role: str, authority_has_supervisors: bool) -> str:
    """ "supervisor" (of the requested organisation's authority) or "administrator" (another one): DPO and
    administrator accounts, and an authority that has no active supervisor yet (its first one)."""
    if role in ADMINISTRATOR_CONFIRMED_ROLES or not authority_has_supervisors:
        return "administrator"
    return "supervisor"


def may_decide_account_change(
    user: User, *, confirmer: str, municipality_id: int | None, requested_by_id: int, account_id: int
) -> bool:
    """Confirming or refusing an account change: a supervisor of the authority, or for a DPO or administrator
    account another administrator — never the one who asked for it, and never the person whose account it is."""
    subject = Subject.from_user(user)
    if subject.user_id is None or subject.user_id in (requested_by_id, account_id):
        return False
    if confirmer == "administrator":
        return subject.active and user.role == Role.ADMINISTRATOR and bool(user.is_staff)
    return municipality_id is not None and subject.supervises(municipality_id)


def may_see_account_changes(user: User) -> bool:
    """The list of account changes awaiting confirmation: supervisors (their authority's), administrators (to
    confirm another administrator's request for a DPO or an administrator, and to see their own waiting), the DPO
    (read-only, every authority)."""
    subject = Subject.from_user(user)
    return subject.is_supervisor or is_data_protection_officer(subject) or is_account_administrator(user)


def may_see_account_change(user: User, *, municipality_id: int | None) -> bool:
    """One request in that list: a supervisor sees their own authority's; the DPO and administrators every one."""
    subject = Subject.from_user(user)
    if is_data_protection_officer(subject) or is_account_administrator(user):
        return True
    return municipality_id is not None and subject.supervises(municipality_id)


def may_set_password(actor: User, account: User) -> bool:
    """Only the person themselves sets a password (knowing the old one, or through a reset link sent to their
    address). Administrators never do: they send a reset link."""
    return actor.is_authenticated and actor.pk == account.pk


def may_read_audit_admin(user: User) -> bool:
    """The audit log in the admin, view only: the DPO (and a technical superuser). Nobody adds, changes or deletes."""
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser) or is_data_protection_officer(Subject.from_user(user))


# --- Supervisor cover (zastupování): a deputy supervisor for a period -----------------------------------------------


def may_see_covers(subject: Subject) -> bool:
    """The cover page is the supervisors' (each sees their own authority's covers and those they stand in for)."""
    return subject.is_supervisor


def may_name_cover(subject: Subject, *, supervisor_municipality_id: int | None) -> bool:
    """Naming a deputy for a supervisor's absence: the supervisor themselves (planned leave), or another supervisor
    of the same authority (an unplanned absence). Only of one's *own* authority: a deputy standing in for it does
    not name further deputies, and the administrator never does (they manage accounts, not casework)."""
    return (
        subject.is_supervisor
        and supervisor_municipality_id is not None
        and subject.municipality_id == supervisor_municipality_id
    )


def may_be_deputy(subject: Subject, *, supervisor_id: int | None) -> bool:
    """A deputy is an active supervisor (vedoucí) of an OSPOD — of the same authority, or of another one (a small ORP
    with one head is covered by a neighbouring ORP's head) — and never the absent supervisor themselves."""
    return subject.is_supervisor and subject.user_id != supervisor_id


def may_end_cover(subject: Subject, *, municipality_id: int, deputy_id: int) -> bool:
    """Ending a cover early: a supervisor of the covered authority (its own, as for naming one), or the deputy, who
    may have to step down (then the authority's own supervisors are told)."""
    if subject.is_supervisor and subject.municipality_id == municipality_id:
        return True
    return subject.active and subject.user_id == deputy_id


# --- The API (issue 23; docs/adr/0031-rest-api-and-tokens.md) -------------------------------------------------------
# Whoever uses the API reads and writes exactly what the pages let them (the same access helpers and the gate): these
# rules decide only who may hold a credential for it and which OSPOD-only routes exist for whom.


def may_own_api_token(subject: Subject, *, has_second_factor: bool) -> bool:
    """A personal API token (or an organisation's OAuth2 application acting as the account) only for an active
    account protected by a confirmed second factor: a token is a password that never asks for a code, so the
    account behind it must be one whose login does."""
    return subject.active and subject.role is not None and has_second_factor


def may_use_authority_api(subject: Subject) -> bool:
    """The OSPOD routes of the API (a case's team memberships and plan versions): the authority's own staff; the
    case's own rule (``access_case_by_id``) still decides which cases."""
    return subject.is_authority_staff


def api_token_scope_allows(scope: str, *, writes: bool) -> bool:
    """A "read" token reads; a "write" token reads and writes (files reports, reports on plan actions)."""
    return scope == "write" or (scope == "read" and not writes)


# --- Referrals to services of the network (docs/adr/0029-referrals.md) ------------------------------------------------
# The coordinator (or a supervisor covering) refers a case to a service; the provider's intake worker — a partner of
# the provider's organisation, social-services sector — answers it. Until it is accepted the provider is not on the
# team: they read the referral and its letter only, never the case. Acceptance puts one person of the provider on the
# team with a services-sector role, and from then on the ordinary table above decides what they read.

#: Who answers referrals for a provider: its partners (a provider's users keep their cards too; ADR 0029).
REFERRAL_INTAKE_ROLES = frozenset({Role.PARTNER})
#: Statuses the provider still answers (and whose letter its intake worker reads).
REFERRAL_PENDING = frozenset({"sent", "waiting"})
#: Statuses in which the provider's intake worker reads the referral at all: a declined or withdrawn one gives them
#: nothing (not even that it existed, beyond their own notifications).
REFERRAL_PROVIDER_VISIBLE = REFERRAL_PENDING | {"accepted"}


@dataclass(frozen=True)
class ReferralFacts:
    """What the policy needs to know about one referral (loaded by ``permissions.access``)."""

    referral_id: uuid.UUID
    status: str
    provider_organisation_id: int
    #: The family's agreement to the referral stands (not withdrawn).
    agreement_stands: bool


def takes_referrals_for(subject: Subject, organisation_id: int) -> bool:
    """The provider's intake worker: an active partner of the provider's organisation (social-services sector)."""
    return (
        subject.active
        and subject.role in REFERRAL_INTAKE_ROLES
        and subject.sector == Sector.SERVICE
        and subject.organisation_id == organisation_id
    )


def may_take_referrals(subject: Subject) -> bool:
    """Whether the user has a referral inbox at all (a partner of a social-services organisation)."""
    return subject.active and subject.role in REFERRAL_INTAKE_ROLES and subject.sector == Sector.SERVICE


def user_takes_referrals(user: User) -> bool:
    """:func:`may_take_referrals` for a request's user (the menu's "Referrals")."""
    return may_take_referrals(Subject.from_user(user))


def may_refer(access: CaseAccess) -> bool:
    """Propose a service, record the family's agreement, write and send the letter: the case's lead, open cases."""
    return access.may_manage


def may_see_case_referrals(access: CaseAccess) -> bool:
    """The case page's referrals section: the lead (a team member reads the services notes, not the letters)."""
    return access.is_lead


def may_withdraw_referral(access: CaseAccess, facts: ReferralFacts) -> bool:
    return access.may_manage and facts.status in REFERRAL_PENDING


def may_see_referral_as_provider(subject: Subject, facts: ReferralFacts) -> bool:
    """The intake worker sees a pending or accepted referral to their organisation while the agreement stands."""
    return (
        takes_referrals_for(subject, facts.provider_organisation_id)
        and facts.status in REFERRAL_PROVIDER_VISIBLE
        and facts.agreement_stands
    )


def may_answer_referral(subject: Subject, facts: ReferralFacts) -> bool:
    """Accept, put on the waiting list or decline: the intake worker, while the referral is pending."""
    return may_see_referral_as_provider(subject, facts) and facts.status in REFERRAL_PENDING


def may_read_referral_letter(subject: Subject, facts: ReferralFacts, access: CaseAccess | None) -> bool:
    """The letter: the case's lead (as any services item of the case), or the provider's intake worker as above."""
    if access is not None and access.may_read_compartment(C.SERVICES) and access.is_lead:
        return True
    return may_see_referral_as_provider(subject, facts)


# --- Statistics (issue 22, docs/adr/0030-statistics-from-metadata.md) -------------------------------------------------
# Aggregates only: no rule here opens a case, a child or a report. A supervisor sees their own authority's figures
# (and a covered one's) unsuppressed, with the references of late items; the regional office (krajský úřad) sees the
# figures of every ORP of its region with small numbers suppressed, and nothing else.

STATISTICS_ROLES = frozenset({Role.SUPERVISOR, Role.REGIONAL_OFFICE})


def is_regional_office(subject: Subject) -> bool:
    return subject.active and subject.role == Role.REGIONAL_OFFICE and subject.municipality_id is not None


def may_see_authority_figures(subject: Subject, municipality_id: int) -> bool:
    """An authority's own figures, unsuppressed: its supervisors and a deputy covering one of them."""
    return subject.supervises(municipality_id)


def may_see_region_figures(subject: Subject) -> bool:
    """The aggregates of every ORP of the regional office's region, small numbers suppressed."""
    return is_regional_office(subject)


def may_see_late_items(subject: Subject, municipality_id: int) -> bool:
    """The drill-down from a deadline KPI to the references of late cases and reports: the authority's supervisors
    (they act on them); never the region, which sees no reference."""
    return subject.supervises(municipality_id)


def may_export_annual_return(subject: Subject, municipality_id: int) -> bool:
    """The authority's annual return (V (MPSV) 20-01, its children-at-risk part), unsuppressed: its supervisors."""
    return subject.supervises(municipality_id)


def figures_suppressed(subject: Subject) -> bool:
    """Figures leave the authority when the reader is not one of its supervisors: then small numbers are hidden."""
    return not subject.is_supervisor
