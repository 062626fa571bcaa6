"""Access oversight (*Kontrola přístupů*): who accessed what, read from the audit chain, for supervisors and the DPO.

Everything here reads audit rows — who, their role and organisation at the time, the action, field *names*, the
purpose and the outcome — and case reference numbers. Nothing decrypts, nothing goes through the gate: these pages
show no case content by construction (audit rows hold no values, ``permissions.audit``). Who may look at which rows
is :func:`permissions.policy.may_oversee_authority`: a supervisor sees their own authority's cases and people, the
DPO everyone's. See docs/adr/0017-access-oversight.md.

Lists page newest first by the chain's key (``seq``): a page is one query for the rows and one for the case
references on it, whatever the size of the chain. The exports are in :mod:`permissions.oversight_export`.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import paging
from casework.models import Case, Role, User
from permissions import audit
from permissions.management.commands.verify_audit import store_report, verify_chain
from permissions.models import BREAK_GLASS_PURPOSE_PREFIX as BREAK_GLASS_PURPOSE_PREFIX  # a read through break-glass
from permissions.models import (
    AccessAnomaly,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    AuditVerification,
    VerificationTrigger,
)
from permissions.policy import (
    Subject,
    is_data_protection_officer,
    may_oversee_access,
    may_oversee_authority,
    may_review_anomaly,
)

#: Rows on one page of an oversight list.
PAGE_SIZE = 50


def is_break_glass(event: AuditEvent) -> bool:
    """Whether an audit row records access through break-glass.

    The gate writes every read under a live grant with a purpose starting with :data:`BREAK_GLASS_PURPOSE_PREFIX`
    (``permissions.gate``), and the grant itself is a ``break_glass`` row (``permissions.break_glass``); a
    ``break_glass`` attribute of the row is honoured too, should the chain ever carry its own column
    (docs/adr/0018-break-glass.md).
    """
    if getattr(event, "break_glass", False):
        return True
    return event.action == AuditAction.BREAK_GLASS or event.purpose.startswith(BREAK_GLASS_PURPOSE_PREFIX)


# --- Who oversees what ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overseer:
    """The viewer of the oversight pages: the DPO (``municipality_id`` None: every authority) or a supervisor."""

    subject: Subject
    municipality_id: int | None

    @property
    def sees_all(self) -> bool:
        return self.municipality_id is None

    def may_see(self, municipality_id: int | None) -> bool:
        return may_oversee_authority(self.subject, municipality_id)


def overseer_for(user: User) -> Overseer:
    """The viewer's oversight scope; ``PermissionDenied`` for anyone who is neither a supervisor nor the DPO."""
    subject = Subject.from_user(user)
    if not may_oversee_access(subject):
        raise PermissionDenied
    everywhere = is_data_protection_officer(subject)
    if not everywhere and subject.municipality_id is None:
        raise PermissionDenied  # a supervisor of no authority oversees nothing (never "everything")
    return Overseer(subject=subject, municipality_id=None if everywhere else subject.municipality_id)


@dataclass(frozen=True)
class CaseRef:
    id: uuid.UUID
    reference: str
    municipality_id: int


@dataclass(frozen=True)
class PersonRef:
    id: int
    username: str
    name: str
    role: str
    organisation: str
    municipality_id: int | None


def oversight_case(overseer: Overseer, case_id: uuid.UUID) -> CaseRef:
    """The case whose access timeline is asked for: its reference only. 404 for a case that does not exist and for a
    case of another authority alike (no existence oracle)."""
    row = Case.objects.filter(pk=case_id).values_list("pk", "reference", "municipality_id").first()
    if row is None or not overseer.may_see(row[2]):
        raise Http404
    return CaseRef(id=row[0], reference=row[1], municipality_id=row[2])


def oversight_person(overseer: Overseer, user_id: int) -> PersonRef:
    """The person whose accesses are asked for. 404 outside the viewer's authority."""
    person = User.objects.select_related("organisation").filter(pk=user_id).first()
    if person is None:
        raise Http404
    organisation = person.organisation
    municipality_id = organisation.municipality_id if organisation else None
    if not overseer.may_see(municipality_id):
        raise Http404
    return PersonRef(
        id=person.pk,
        username=person.get_username(),
        name=person.get_full_name(),
        role=_role_label(person.role),
        organisation=organisation.name if organisation else "",
        municipality_id=municipality_id,
    )


# --- Filters and rows ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessFilters:
    """A period (local days, inclusive), an action, an outcome and an authority; empty means "any"."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    action: str = ""
    outcome: str = ""
    municipality_id: int | None = None


@dataclass(frozen=True)
class AccessRow:
    """One audited access as the oversight pages and exports show it: no content, field names only."""

    seq: int
    occurred_at: datetime.datetime
    actor_id: int | None
    username: str
    role: str
    organisation: str
    action: str
    action_label: str
    object_type: str
    case_id: uuid.UUID | None
    case_reference: str
    fields: tuple[str, ...]
    purpose: str
    outcome: str
    outcome_label: str
    break_glass: bool


@dataclass(frozen=True)
class AccessPage:
    rows: list[AccessRow]
    #: ``before`` for the next (older) page, None on the last page.
    next_before: int | None


def _role_label(role: str) -> str:
    if role in Role.values:
        return str(Role(role).label)
    return {audit.SYSTEM_ROLE: _("the system"), audit.ANONYMOUS_ROLE: _("not logged in")}.get(role, role)


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _in_authority(municipality_id: int) -> Q:
    """Events of an authority: on its cases, or (no case: reports, logins, account changes) by its people.

    The case's authority is looked up per event, by the case's key, as the page walks the chain newest first and
    stops after a page — a scalar look-up, not ``case_id IN (the authority's cases)``, which PostgreSQL hashed whole
    for every page (90 000 cases read twice: 95 ms at 100 000 cases, 1 ms at 1 000)."""
    of_authority = Case.objects.filter(pk=OuterRef("case_id"), municipality_id=municipality_id).order_by()
    return Q(IsNull(Subquery(of_authority.values("pk")[:1]), False)) | Q(
        case_id__isnull=True, actor__organisation__municipality_id=municipality_id
    )


def _events(
    overseer: Overseer,
    filters: AccessFilters,
    *,
    case_id: uuid.UUID | None = None,
    actor_id: int | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if case_id is not None:
        events = events.filter(case_id=case_id)
    elif actor_id is not None:
        events = events.filter(actor_id=actor_id)
    elif not overseer.sees_all:
        assert overseer.municipality_id is not None
        events = events.filter(_in_authority(overseer.municipality_id))
    if filters.municipality_id is not None:
        events = events.filter(_in_authority(filters.municipality_id))
    if filters.date_from:
        events = events.filter(occurred_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        events = events.filter(occurred_at__lt=_local_midnight(filters.date_to + datetime.timedelta(days=1)))
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    return events.order_by("-seq")


def access_rows(events: list[AuditEvent]) -> list[AccessRow]:
    """Audit rows as the oversight pages show them (one query for the case references on them)."""
    return _rows(events)


def _rows(events: list[AuditEvent]) -> list[AccessRow]:
    case_ids = {event.case_id for event in events if event.case_id is not None}
    references = dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "reference")) if case_ids else {}
    return [
        AccessRow(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            username=event.actor_username,
            role=_role_label(event.actor_role),
            organisation=event.actor_organisation,
            action=event.action,
            action_label=str(AuditAction(event.action).label) if event.action in AuditAction.values else event.action,
            object_type=event.object_type,
            case_id=event.case_id,
            case_reference=references.get(event.case_id, "") if event.case_id else "",
            fields=tuple(event.field_names or ()),
            purpose=event.purpose,
            outcome=event.outcome,
            outcome_label=(
                str(AuditOutcome(event.outcome).label) if event.outcome in AuditOutcome.values else event.outcome
            ),
            break_glass=is_break_glass(event),
        )
        for event in events
    ]


def access_page(
    overseer: Overseer,
    filters: AccessFilters,
    *,
    case_id: uuid.UUID | None = None,
    actor_id: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> AccessPage:
    """One page of accesses, newest first, older than ``before`` (a ``seq``): two queries whatever the chain's size.

    With ``case_id``: the case's timeline (the caller has checked it with :func:`oversight_case`); with ``actor_id``:
    what that person accessed (:func:`oversight_person`); with neither: everything in the viewer's scope.
    """
    events = _events(overseer, filters, case_id=case_id, actor_id=actor_id)
    listed = events.defer("prev_hash", "row_hash", "client_ip", "request_id")
    fetched, more = paging.newest_first(listed, "seq", before, size)
    return AccessPage(rows=_rows(fetched), next_before=fetched[-1].seq if more and fetched else None)


def iter_access_rows(
    overseer: Overseer,
    filters: AccessFilters,
    *,
    case_id: uuid.UUID | None = None,
    actor_id: int | None = None,
    batch: int = 1000,
) -> Iterator[AccessRow]:
    """Every row of a filter, page by page (constant memory): what the exports write."""
    before: int | None = None
    while True:
        page = access_page(overseer, filters, case_id=case_id, actor_id=actor_id, before=before, size=batch)
        yield from page.rows
        if page.next_before is None:
            return
        before = page.next_before


# --- The chain's verification --------------------------------------------------------------------------------------


def last_verification() -> AuditVerification | None:
    return AuditVerification.objects.select_related("run_by").order_by("-ran_at", "-id").first()


def verification_run(*, by: User) -> AuditVerification:
    """Run ``verify_audit``'s own verifier now and keep its result (the oversight page's button)."""
    return store_report(verify_chain(), trigger=VerificationTrigger.ON_DEMAND, run_by=by)


# --- Anomaly flags -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnomalyRow:
    id: int
    rule: str
    rule_label: str
    actor_id: int | None
    username: str
    case_id: uuid.UUID | None
    case_reference: str
    first_at: datetime.datetime
    last_at: datetime.datetime
    event_count: int
    first_seq: int
    last_seq: int
    reviewed_at: datetime.datetime | None
    reviewer: str
    comment: str
    may_review: bool


@dataclass(frozen=True)
class AnomalyPage:
    rows: list[AnomalyRow]
    next_before: int | None


#: The states a review list filters by (anomaly flags, break-glass grants): waiting, reviewed, all.
REVIEW_STATES = ("open", "reviewed", "all")


def anomalies_in_scope(overseer: Overseer) -> QuerySet[AccessAnomaly]:
    flags = AccessAnomaly.objects.all()
    if overseer.municipality_id is not None:
        flags = flags.filter(municipality_id=overseer.municipality_id)
    return flags


def anomaly_page(
    overseer: Overseer, *, state: str = "open", before: int | None = None, size: int = PAGE_SIZE
) -> AnomalyPage:
    """Flags in the viewer's scope, newest first, paged by id: two queries whatever their number."""
    flags = anomalies_in_scope(overseer).select_related("reviewed_by")
    if state == "open":
        flags = flags.filter(reviewed_at__isnull=True)
    elif state == "reviewed":
        flags = flags.filter(reviewed_at__isnull=False)
    fetched, more = paging.newest_first(flags, "id", before, size)
    case_ids = {flag.case_id for flag in fetched if flag.case_id}
    references = dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "reference")) if case_ids else {}
    rows = [
        AnomalyRow(
            id=flag.pk,
            rule=flag.rule,
            rule_label=flag.get_rule_display(),
            actor_id=flag.actor_id,
            username=flag.actor_username,
            case_id=flag.case_id,
            case_reference=references.get(flag.case_id, "") if flag.case_id else "",
            first_at=flag.first_at,
            last_at=flag.last_at,
            event_count=flag.event_count,
            first_seq=flag.first_seq,
            last_seq=flag.last_seq,
            reviewed_at=flag.reviewed_at,
            reviewer=flag.reviewed_by.get_username() if flag.reviewed_by else "",
            comment=flag.review_comment,
            may_review=not flag.is_reviewed
            and may_review_anomaly(overseer.subject, municipality_id=flag.municipality_id, actor_id=flag.actor_id),
        )
        for flag in fetched
    ]
    return AnomalyPage(rows=rows, next_before=fetched[-1].pk if more and fetched else None)


def anomaly_in_scope(overseer: Overseer, anomaly_id: int) -> AccessAnomaly:
    """A flag the viewer may see, or 404 (a flag of another authority does not exist for them)."""
    flag = anomalies_in_scope(overseer).filter(pk=anomaly_id).first()
    if flag is None:
        raise Http404
    return flag


def open_anomaly_count(overseer: Overseer) -> int:
    return anomalies_in_scope(overseer).filter(reviewed_at__isnull=True).count()
