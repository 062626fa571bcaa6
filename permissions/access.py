"""Fetching protected objects for a user: one way per kind, the same 404 for "does not exist" and "not yours".

A refused attempt on an existing object is audited (committed before the 404 is raised), so oversight can see who
probed what; a lookup of a missing id is not, since there is nothing to protect and nothing to name.

``access_case_by_id`` is the only way views fetch a case. It decides the user's standing on the case once per
request and returns what it decided beside the case (:class:`AccessedCase`, as Zulip's ``access_stream_by_id``
returns the stream and the subscription); the view hands that to the gate (``gate.read_case``) and asks it the
page's questions. Nothing travels on the model instance. The decision is recomputed from the database on every
request, so an ended membership, an expired share or a withdrawn consent stops working at once.

``access_report_by_id`` does the same for reports (oznámení), returning :class:`AccessedReport`: only their
handlers (``Relationship.REPORT_HANDLER``) get one; the partner who filed a report gets the same 404 as anyone else.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.models import (
    ActionStatus,
    Case,
    CaseStatus,
    Child,
    DutyShift,
    PlanAction,
    PlanStatus,
    Report,
    ReportStatus,
    Sector,
    SupervisorCover,
    TeamMembership,
    User,
)
from casework.selectors import case_get, child_get, report_get
from permissions import audit
from permissions.models import BreakGlassGrant, CaseUserObjectPermission, Share
from permissions.object_perms import VIEW
from permissions.policy import (
    TEAM_ROLES,
    ActionFacts,
    CaseAccess,
    CaseFacts,
    Relationship,
    ReportAccess,
    ReportFacts,
    Subject,
    case_access,
    may_hold_break_glass,
    relationship_to_child,
    report_access,
)


class AccessedCase(NamedTuple):
    """A case fetched for a user and the user's standing on it, decided together (``access_case_by_id``).

    Immutable and typed; unpack it (``case, access = access_case_by_id(...)``) and pass ``access`` to the gate."""

    case: Case
    access: CaseAccess


class AccessedReport(NamedTuple):
    """A report fetched for a user and the user's standing on it (``access_report_by_id``)."""

    report: Report
    access: ReportAccess


def record_denial(
    user: User | None,
    object_type: str,
    object_id: Any,
    purpose: str,
    case_id: Any = None,
    fields: Sequence[str] = (),
) -> None:
    audit.record_committed(
        actor=user,
        action=audit.AuditAction.DENY,
        object_type=object_type,
        object_id=str(object_id),
        fields=list(fields),
        purpose=purpose,
        outcome=audit.AuditOutcome.DENIED,
        case_id=case_id,
    )


def access_child_by_id(user: User, child_id: uuid.UUID | str, *, purpose: str) -> Child:
    child = child_get(child_id=child_id)
    if child is None or child.shredded_at is not None:
        raise Http404
    if relationship_to_child(Subject.from_user(user), child) is Relationship.NONE:
        record_denial(user, "casework.child", child.pk, purpose)
        raise Http404
    return child


def may_see_child(user: User, child: Child) -> bool:
    """Whether ``user`` may open ``child``'s register page (the rule of :func:`access_child_by_id`), to offer a link
    to it (a duplicate registration). Nothing is disclosed either way, so nothing is audited."""
    return child.shredded_at is None and relationship_to_child(Subject.from_user(user), child) is not Relationship.NONE


def current_membership_with_index(user: User) -> Q:
    """Cases where ``user`` holds a membership valid today *and* the object-permission index lists them."""
    return Q(
        Exists(TeamMembership.objects.current().filter(case=OuterRef("pk"), user=user)),
        Exists(
            CaseUserObjectPermission.objects.filter(content_object=OuterRef("pk"), user=user, permission__codename=VIEW)
        ),
    )


def _facts(
    case: Case,
    *,
    member: bool = False,
    compartments: frozenset[str] = frozenset(),
    items: frozenset[tuple[str, str]] = frozenset(),
) -> CaseFacts:
    return CaseFacts(
        case_id=case.pk,
        municipality_id=case.municipality_id,
        coordinator_id=case.coordinator_id,
        is_open=case.is_open,
        is_current_member=member,
        shared_compartments=compartments,  # type: ignore[arg-type]
        shared_items=items,
    )


class _AccessMemo(threading.local):
    entries: dict[tuple[Any, ...], CaseAccess] | None = None


_access_memo = _AccessMemo()


#: Tables whose rows decide access (besides the case row itself, whose relevant columns are part of the memo's key).
_ACCESS_TABLES = (
    "casework_teammembership",
    "permissions_share",
    "permissions_consent",
    "permissions_breakglassgrant",
    "casework_supervisorcover",
    "casework_case",  # also a prefix of other casework tables: forgetting too often is safe
)


def _forget_on_access_writes(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    head = sql.lstrip()[:6].upper()
    if head in ("INSERT", "UPDATE", "DELETE") and any(table in sql for table in _ACCESS_TABLES):
        entries = _access_memo.entries
        if entries is not None:
            entries.clear()
    return execute(sql, params, many, context)


@contextmanager
def case_access_memo() -> Iterator[None]:
    """Within the block, :func:`load_case_access` decides each (user, case) once — e.g. a step's check under the
    flow's lock and the service it then calls, which asks the same question (``workflows.tasks.task_complete``).
    Any write to a table that decides access (a team, a share, a consent, a break-glass grant, a cover) inside the
    block forgets every decision, so nothing decided before such a write is used after it."""
    from django.db import connection

    before = _access_memo.entries
    _access_memo.entries = {} if before is None else before
    try:
        with connection.execute_wrapper(_forget_on_access_writes):
            yield
    finally:
        _access_memo.entries = before


def load_case_access(user: User | None, case: Case) -> CaseAccess:
    """Decide ``user``'s standing on ``case`` from the database (at most two queries for a team member)."""
    entries = _access_memo.entries
    if entries is None or user is None:
        return load_case_accesses(user, [case])[0]
    key = (user.pk, user.is_active, case.pk, case.municipality_id, case.coordinator_id, case.status)
    if key not in entries:
        entries[key] = load_case_accesses(user, [case])[0]
    return entries[key]


def load_case_accesses(user: User | None, cases: Sequence[Case]) -> list[CaseAccess]:
    """:func:`load_case_access` for each of ``cases`` (a list page): at most three queries however many cases (the
    third, live break-glass grants, only for the authority's OSPOD staff on cases nothing else relates them to)."""
    subject = Subject.from_user(user)
    accesses = [case_access(subject, _facts(case)) for case in cases]
    candidates = [
        case.pk
        for case, access in zip(cases, accesses, strict=True)
        if access.relationship is Relationship.NONE and case.is_open
    ]
    if user is None or not subject.active:
        return accesses
    members = (
        set(
            Case.objects.filter(pk__in=candidates)
            .filter(current_membership_with_index(user))
            .values_list("pk", flat=True)
        )
        if candidates
        else set()
    )
    if not members:
        return _with_break_glass(user, subject, cases, accesses)
    recipients = Q(recipient_user=user)
    if subject.organisation_id is not None:
        recipients |= Q(recipient_organisation_id=subject.organisation_id)
    compartments: dict[uuid.UUID, set[str]] = defaultdict(set)
    items: dict[uuid.UUID, set[tuple[str, str]]] = defaultdict(set)
    for case_id, compartment, item_type, item_id in (
        Share.objects.in_force()
        .filter(recipients, case_id__in=members)
        .values_list("case_id", "compartment", "item_type", "item_id")
    ):
        if item_id is None:
            compartments[case_id].add(compartment)
        else:
            items[case_id].add((item_type, str(item_id)))
    decided = [
        case_access(
            subject,
            _facts(
                case,
                member=True,
                compartments=frozenset(compartments[case.pk]),
                items=frozenset(items[case.pk]),
            ),
        )
        if case.pk in members
        else access
        for case, access in zip(cases, accesses, strict=True)
    ]
    return _with_break_glass(user, subject, cases, decided)


def _with_break_glass(
    user: User, subject: Subject, cases: Sequence[Case], accesses: list[CaseAccess]
) -> list[CaseAccess]:
    """Cases nothing relates the user to, opened through a live break-glass grant (docs/adr/0018-break-glass.md): read
    as the lead reads a closed file, until the grant expires. One query, only when some case could have one."""
    candidates = [
        case.pk
        for case, access in zip(cases, accesses, strict=True)
        if access.relationship is Relationship.NONE and may_hold_break_glass(subject, case.municipality_id)
    ]
    if not candidates:
        return accesses
    until: dict[uuid.UUID, Any] = {}
    for case_id, expires_at in (
        BreakGlassGrant.objects.live().filter(user=user, case_id__in=candidates).values_list("case_id", "expires_at")
    ):
        until[case_id] = max(expires_at, until.get(case_id, expires_at))
    if not until:
        return accesses
    return [
        case_access(subject, dataclasses.replace(access.facts, break_glass_until=until[case.pk]))
        if case.pk in until
        else access
        for case, access in zip(cases, accesses, strict=True)
    ]


def access_case_by_id(user: User, case_id: uuid.UUID | str, *, purpose: str) -> AccessedCase:
    """The case and the user's standing on it, if ``user`` may see it today; otherwise the same 404 as for a case
    that does not exist. A refusal on an existing case is audited."""
    case = case_get(case_id=case_id)
    if case is None:
        raise Http404
    access = load_case_access(user, case)
    if not access.visible:
        record_denial(user, "casework.case", case.pk, purpose, case_id=case.pk)
        raise Http404
    return AccessedCase(case, access)


def access_case_as_lead(user: User, case_id: uuid.UUID | str, *, purpose: str) -> AccessedCase:
    """:func:`access_case_by_id` for the pages only the case's lead reads (the coordinator or a supervisor, closed
    cases too, read-only): a member of its team who may see the case gets an audited refusal (PermissionDenied)."""
    accessed = access_case_by_id(user, case_id, purpose=purpose)
    if not accessed.access.is_lead:
        raise refuse(user, accessed.case, purpose=purpose)
    return accessed


def user_may_see_case(user: User, case_id: uuid.UUID | str) -> bool:
    """Whether ``user`` may open the case today (the rule of ``access_case_by_id``), for following it live over a
    websocket (``settings.NOTIFICATIONS_CASE_ACCESS``). Nothing is disclosed either way, so nothing is audited; the
    answer is the same for a case that does not exist."""
    case = case_get(case_id=case_id)
    return case is not None and load_case_access(user, case).visible


def require_case_lead(user: User, case: Case, *, purpose: str, closing: bool = False) -> CaseAccess:
    """The user's access if they may manage the case (team, handover, sharing, assessment; ``closing``: close it) —
    the coordinator or a supervisor covering, on an open case; otherwise an audited refusal (PermissionDenied).

    Decided afresh from the case row (no query for a lead), so a view and the service it calls agree even when the
    view's request started before a handover. Call outside any transaction: the refusal is committed first.
    """
    access = load_case_access(user, case)
    if not (access.may_close if closing else access.may_manage):
        raise refuse(user, case, purpose=purpose)
    return access


def refuse(user: User | None, case: Case, *, purpose: str) -> PermissionDenied:
    """Audit a refused action on a case the user can see (a partner trying to manage the team) and return the
    exception to raise. Call outside any transaction: the denial is committed before the refusal is answered."""
    record_denial(user, "casework.case", case.pk, purpose, case_id=case.pk)
    return PermissionDenied()


def accessed_case(user: User | None, case: AccessedCase | Case) -> AccessedCase:
    """``case`` with the decision for ``user``: an ``AccessedCase`` as it came (from ``access_case_by_id``), a bare
    case (a task's own case) decided now. Read models take either and hand the decision to the gate."""
    if isinstance(case, AccessedCase):
        return case
    return AccessedCase(case, load_case_access(user, case))


def accessed_cases(user: User | None, cases: Sequence[Case]) -> list[AccessedCase]:
    """Each of ``cases`` (a list page, already filtered by :func:`visible_cases`) with the user's standing on it,
    decided in a fixed number of queries (:func:`load_case_accesses`)."""
    return [AccessedCase(case, access) for case, access in zip(cases, load_case_accesses(user, cases), strict=True)]


def access_case_object(user: User, case_id: uuid.UUID | str, obj: Any, *, purpose: str) -> AccessedCase:
    """For URLs naming an object of a case (a membership, a share): the case and the user's standing on it, or 404
    if the object isn't the case's.

    ``obj`` is the looked-up object or None. A tampered id (another case's object) is audited like a refusal.
    """
    accessed = access_case_by_id(user, case_id, purpose=purpose)
    case = accessed.case
    if obj is None or getattr(obj, "case_id", None) != case.pk:
        record_denial(user, "casework.case", case.pk, purpose, case_id=case.pk)
        raise Http404
    return accessed


def load_action_facts(user: User, action: PlanAction) -> ActionFacts:
    """What ``permissions.policy.owns_action`` and ``may_report_on_action`` decide from, for ``action`` loaded with its
    plan and case (one query, the user's current membership, not asked when the answer cannot be yes)."""
    plan = action.plan
    case_open = plan.case.is_open
    return ActionFacts(
        case_open=case_open,
        is_current_member=user.is_active
        and case_open
        and TeamMembership.objects.current().filter(case_id=plan.case_id, user=user).exists(),
        owner_user_id=action.owner_user_id,
        owner_organisation_id=action.owner_organisation_id,
        action_open=action.status == ActionStatus.OPEN and plan.status == PlanStatus.CURRENT,
    )


def visible_cases(user: User, *, covers_as_values: bool = False) -> Q:
    """The cases ``user`` may open, as a filter (DOMAIN.md, "Who sees which case"), the same rule as
    :func:`load_case_access` expressed in SQL: coordinator or supervisor of the authority (closed cases too), or a
    current team member of an open case whom the object-permission index lists.

    ``covers_as_values``: a supervisor's authorities as values (one statement for the covers in force) instead of a
    subquery — see :func:`supervised_authorities`.
    """
    subject = Subject.from_user(user)
    if not subject.active or subject.organisation_id is None:
        return Q(pk__in=[])
    rule = Q(pk__in=[])
    if subject.is_authority_staff and subject.municipality_id is not None:
        if subject.is_supervisor:
            rule |= supervised_authorities(subject, as_values=covers_as_values)
        else:
            rule |= Q(municipality_id=subject.municipality_id, coordinator=user)
    if subject.role in TEAM_ROLES:
        member = Q(status=CaseStatus.OPEN) & current_membership_with_index(user)
        if subject.sector == Sector.OSPOD:
            member &= Q(municipality_id=subject.municipality_id)
        rule |= member
    return rule


def supervised_authorities(subject: Subject, field: str = "municipality_id", *, as_values: bool = False) -> Q:
    """The authorities a supervisor supervises now, as a filter on ``field``: their own, and those whose absent
    supervisor they stand in for (``casework.models.SupervisorCover`` in force) — a subquery, no extra statement.
    The SQL twin of ``Subject.supervises``; lists and queues of supervisors filter with it.

    ``as_values``: the authorities as a list of values instead (``Subject.covering``: one statement, once per
    subject). A list ordered by an index that starts with the authority needs it: ``own OR IN (subquery)`` cannot
    walk that index in order, so PostgreSQL sorted every open case of the authority for one page (230 ms at
    100 000 cases, the sort spilling to disk), where ``= own`` walks ``case_list_order`` and stops after a page."""
    if not subject.is_supervisor:
        return Q(pk__in=[])
    if as_values:
        assert subject.municipality_id is not None
        found = subject.supervised_ids()
        return Q(**{field: subject.municipality_id}) if len(found) == 1 else Q(**{f"{field}__in": found})
    covered = SupervisorCover.objects.in_force().filter(deputy_id=subject.user_id).values("municipality_id")
    return Q(**{field: subject.municipality_id}) | Q(**{f"{field}__in": covered})


# --- Reports (oznámení) --------------------------------------------------------------------------------------------


def load_report_access(user: User | None, report: Report) -> ReportAccess:
    """Decide ``user``'s standing on ``report`` from its own columns and its case (no query when the case was loaded
    with it, as ``report_get`` does)."""
    case = report.case if report.case_id is not None else None
    subject = Subject.from_user(user)
    urgent_undecided = report.urgent_suggested and not report.is_decided
    facts = ReportFacts(
        report_id=report.pk,
        municipality_id=report.municipality_id,
        recorded_by_id=report.recorded_by_id,
        case_id=report.case_id,
        case_municipality_id=case.municipality_id if case is not None else None,
        case_coordinator_id=case.coordinator_id if case is not None else None,
        urgent_undecided=urgent_undecided,
        # One query, only for a non-supervisor of the receiving authority on an urgent report still in triage.
        on_duty=(
            urgent_undecided
            and subject.works_for(report.municipality_id)
            and not subject.is_supervisor
            and is_on_duty(subject.user_id, report.municipality_id)
        ),
    )
    return report_access(subject, facts)


def is_on_duty(user_id: int | None, municipality_id: int, at: datetime.datetime | None = None) -> bool:
    """Whether the user is on the authority's duty roster at ``at`` (now). One query."""
    if user_id is None:
        return False
    return on_duty_shifts(municipality_id, at).filter(worker_id=user_id).exists()


def on_duty_shifts(municipality_id: int, at: datetime.datetime | None = None) -> QuerySet[DutyShift]:
    """The authority's shifts in force at ``at`` (now): started, not yet ended."""
    moment = at or timezone.now()
    return DutyShift.objects.filter(municipality_id=municipality_id, starts_at__lte=moment, ends_at__gt=moment)


def access_report_by_id(user: User, report_id: uuid.UUID | str, *, purpose: str) -> AccessedReport:
    """The report and the user's standing on it, if ``user`` handles it (a supervisor of the receiving authority, the
    coordinator of its case); otherwise the same 404 as for a report that does not exist — for the partner who filed
    it too, who sees its date and status in their own list only. A refusal on an existing report is audited
    (committed before the 404).
    """
    report = report_get(report_id=report_id)
    if report is None:
        raise Http404
    access = load_report_access(user, report)
    if not access.visible:
        record_denial(user, "casework.report", report.pk, purpose, case_id=report.case_id)
        raise Http404
    return AccessedReport(report, access)


def refuse_report(user: User | None, report: Report, *, purpose: str) -> PermissionDenied:
    """Audit a refused action on a report (someone who may not triage it trying to) and return the exception to
    raise. Call outside any transaction: the denial is committed before the refusal is answered."""
    record_denial(user, "casework.report", report.pk, purpose, case_id=report.case_id)
    return PermissionDenied()


def triageable_reports(user: User) -> Q:
    """The reports whose triage ``user`` may take from the team queue, as a filter on ``Report`` (the same rule as
    ``ReportAccess.may_triage``): every report of the authority the user supervises; for its OSPOD worker on duty
    now, the urgent ones still waiting (a subquery on the roster, no extra statement)."""
    subject = Subject.from_user(user)
    if subject.municipality_id is None or not subject.is_authority_staff:
        return Q(pk__in=[])
    if subject.is_supervisor:
        return supervised_authorities(subject)
    return Q(
        Exists(on_duty_shifts(subject.municipality_id).filter(worker_id=subject.user_id)),
        municipality_id=subject.municipality_id,
        urgent_suggested=True,
        status__in=[ReportStatus.RECEIVED, ReportStatus.IN_TRIAGE],
    )
