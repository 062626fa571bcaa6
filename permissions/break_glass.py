"""Break-glass: an OSPOD worker of a case's authority opens a case they have no relationship to, in an emergency.

DOMAIN.md: "a supervisor (or an on-call OSPOD worker, 24/7 duty — standard 1b) may open a case they have no
relationship to, giving a reason; access expires, alerts the coordinator and the supervisor, and is reviewed later."

* :func:`break_glass_open` — the grant: reason required, a duration up to ``settings.BREAK_GLASS_MAX_MINUTES``; an
  audited event (action ``break_glass``) and, in the same transaction, a notification to the case's coordinator and
  the authority's supervisors (kind, ids and the case reference — nothing else). It takes effect at once:
  ``permissions.access`` reads a live grant as read-only access (``Relationship.BREAK_GLASS``) and the gate marks
  every read under it (``gate.break_glass_purpose``).
* :func:`break_glass_review` — another supervisor of the authority marks it justified or not (a comment is required
  for "not justified"); never the person who used it (policy, service and a database constraint).
* The review queue's read model: :func:`grant_page`, :func:`grant_in_scope`, :func:`grant_reads` (the grant's audit
  rows, no case content). See docs/adr/0018-break-glass.md.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import paging
from casework.models import Case, User
from casework.selectors.accounts import supervisor_ids
from notifications.models import Kind
from notifications.services import notify_many
from permissions import audit
from permissions.access import is_on_duty, load_case_access
from permissions.gate import break_glass_purpose
from permissions.models import (
    BREAK_GLASS_PURPOSE_PREFIX,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    BreakGlassGrant,
    BreakGlassVerdict,
)
from permissions.oversight import PAGE_SIZE, AccessPage, Overseer, access_rows
from permissions.policy import Subject, may_break_glass, may_review_break_glass

#: A reason shorter than this says nothing a reviewer could judge ("urgent", "test").
REASON_MIN_LENGTH = 20
REASON_MAX_LENGTH = 1000
#: The audited object of a grant.
OBJECT_TYPE = "permissions.breakglassgrant"


def default_minutes() -> int:
    return int(settings.BREAK_GLASS_DEFAULT_MINUTES)


def max_minutes() -> int:
    return int(settings.BREAK_GLASS_MAX_MINUTES)


def clean_reason(reason: str) -> str:
    """The reason, stripped; a field error (``reason``) when missing or too short to judge."""
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationError({"reason": _("Say why you need to open this case now.")})
    if len(text) < REASON_MIN_LENGTH:
        raise ValidationError(
            {
                "reason": _("Say why in at least %(count)d characters: the reason is reviewed.")
                % {"count": REASON_MIN_LENGTH}
            }
        )
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("At most %(count)d characters.") % {"count": REASON_MAX_LENGTH}})
    return text


def clean_minutes(minutes: object) -> int:
    """The duration in minutes; a field error (``duration_minutes``) for anything but 1 to the configured maximum."""
    try:
        value = int(str(minutes))
    except (TypeError, ValueError):
        value = 0
    if value <= 0 or value > max_minutes():
        raise ValidationError(
            {
                "duration_minutes": _("Choose between 1 and %(max)d minutes (at most %(hours)s hours).")
                % {"max": max_minutes(), "hours": f"{max_minutes() / 60:g}"}
            }
        )
    return value


def break_glass_open(*, user: User, case: Case, reason: str, minutes: int | None = None) -> BreakGlassGrant:
    """Open ``case`` for ``user`` through break-glass, at once, read-only, for ``minutes`` (default from settings).

    Raises ``ValidationError`` (fields ``reason``, ``duration_minutes``) for bad input and ``PermissionDenied`` for a
    user the policy refuses (``may_break_glass``: a partner, the DPO, the administrator, another authority, or someone
    who already sees the case). The grant, its audit row and the notifications commit together.
    """
    errors: dict[str, list[str]] = {}
    text = ""
    duration = 0
    try:
        text = clean_reason(reason)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        duration = clean_minutes(default_minutes() if minutes is None else minutes)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if not may_break_glass(load_case_access(user, case)):
        raise PermissionDenied
    now = timezone.now()
    with audit.atomic():
        grant = BreakGlassGrant(
            user=user,
            case=case,
            municipality_id=case.municipality_id,
            reason=text,
            on_duty=is_on_duty(user.pk, case.municipality_id, now),
            started_at=now,
            expires_at=now + datetime.timedelta(minutes=duration),
        )
        grant.full_clean()
        grant.save(force_insert=True)
        notify_many(
            recipient_ids=[case.coordinator_id, *supervisor_ids(case.municipality_id)],
            kind=Kind.BREAK_GLASS,
            case_id=case.pk,
            case_reference=case.reference,
            object_type=OBJECT_TYPE,
            object_id=grant.pk,
            urgent=True,
            actor_id=user.pk,
        )
        audit.record(
            actor=user,
            action=AuditAction.BREAK_GLASS,
            object_type=OBJECT_TYPE,
            object_id=grant.pk,
            fields=["reason", "expires_at"],
            purpose=break_glass_purpose("open case"),
            outcome=AuditOutcome.ALLOWED,
            case_id=case.pk,
        )
    return grant


def break_glass_review(*, grant_id: int, reviewer: User, verdict: str, comment: str) -> BreakGlassGrant:
    """Mark a grant justified or not justified, with a comment (required for "not justified"). An audited write.

    Raises ``ValidationError`` for a missing verdict or comment, a grant already reviewed, or the person who used it
    reviewing their own (a clear message; four eyes); ``PermissionDenied`` for anyone else the policy refuses.
    """
    comment = (comment or "").strip()
    errors: dict[str, list[str]] = {}
    if verdict not in BreakGlassVerdict.values:
        errors["verdict"] = [_("Choose whether the access was justified.")]
    elif verdict == BreakGlassVerdict.NOT_JUSTIFIED and not comment:
        errors["comment"] = [_("Say why the access was not justified.")]
    if len(comment) > 2000:
        errors["comment"] = [_("At most %(count)d characters.") % {"count": 2000}]
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        grant = BreakGlassGrant.objects.select_for_update(no_key=True).get(pk=grant_id)
        if reviewer.pk == grant.user_id:
            raise ValidationError(
                {NON_FIELD_ERRORS: [_("You cannot review your own break-glass access: another supervisor does.")]}
            )
        if not may_review_break_glass(
            Subject.from_user(reviewer), municipality_id=grant.municipality_id, used_by_id=grant.user_id
        ):
            raise PermissionDenied
        if grant.is_reviewed:
            raise ValidationError({NON_FIELD_ERRORS: [_("This break-glass access has already been reviewed.")]})
        grant.reviewed_at = timezone.now()
        grant.reviewed_by = reviewer
        grant.verdict = verdict
        grant.review_comment = comment
        grant.full_clean()
        grant.save(update_fields=["reviewed_at", "reviewed_by", "verdict", "review_comment"])
        audit.record_write(
            reviewer, grant.case_id, OBJECT_TYPE, grant.pk, ["verdict", "review_comment"], "break-glass review"
        )
    return grant


# --- The review queue (oversight: supervisors of the authority, the DPO read-only) ----------------------------------


@dataclass(frozen=True)
class GrantRow:
    """One break-glass as the queue and the review page show it: who, which case (its reference), why, when."""

    id: int
    user_id: int
    username: str
    name: str
    case_id: uuid.UUID
    case_reference: str
    reason: str
    on_duty: bool
    started_at: datetime.datetime
    ends_at: datetime.datetime
    live: bool
    reviewed_at: datetime.datetime | None
    reviewer: str
    verdict: str
    verdict_label: str
    comment: str
    may_review: bool
    #: The viewer is the person who used it (the page says who reviews instead).
    own: bool


@dataclass(frozen=True)
class GrantPage:
    rows: list[GrantRow]
    next_before: int | None


def _in_scope(overseer: Overseer) -> QuerySet[BreakGlassGrant]:
    grants = BreakGlassGrant.objects.all()
    if overseer.municipality_id is not None:
        grants = grants.filter(municipality_id=overseer.municipality_id)
    return grants.select_related("user", "reviewed_by").annotate(case_reference=F("case__reference"))


def _row(overseer: Overseer, grant: BreakGlassGrant, now: datetime.datetime) -> GrantRow:
    return GrantRow(
        id=grant.pk,
        user_id=grant.user_id,
        username=grant.user.get_username(),
        name=grant.user.get_full_name(),
        case_id=grant.case_id,
        case_reference=getattr(grant, "case_reference", ""),
        reason=grant.reason,
        on_duty=grant.on_duty,
        started_at=grant.started_at,
        ends_at=grant.ends_at,
        live=grant.started_at <= now < grant.ends_at,
        reviewed_at=grant.reviewed_at,
        reviewer=grant.reviewed_by.get_username() if grant.reviewed_by else "",
        verdict=grant.verdict,
        verdict_label=grant.get_verdict_display() if grant.verdict else "",
        comment=grant.review_comment,
        may_review=not grant.is_reviewed
        and may_review_break_glass(overseer.subject, municipality_id=grant.municipality_id, used_by_id=grant.user_id),
        own=overseer.subject.user_id == grant.user_id,
    )


def grant_page(
    overseer: Overseer, *, state: str = "open", before: int | None = None, size: int = PAGE_SIZE
) -> GrantPage:
    """Break-glass grants in the viewer's scope, newest first, paged by id: one query whatever their number."""
    grants = _in_scope(overseer)
    if state == "open":
        grants = grants.filter(reviewed_at__isnull=True)
    elif state == "reviewed":
        grants = grants.filter(reviewed_at__isnull=False)
    fetched, more = paging.newest_first(grants, "id", before, size)
    now = timezone.now()
    return GrantPage(rows=[_row(overseer, g, now) for g in fetched], next_before=fetched[-1].pk if more else None)


def open_grant_count(overseer: Overseer) -> int:
    return _in_scope(overseer).filter(reviewed_at__isnull=True).count()


def grant_in_scope(overseer: Overseer, grant_id: int) -> GrantRow:
    """One grant the viewer may see, or 404 (another authority's grant does not exist for a supervisor)."""
    grant = _in_scope(overseer).filter(pk=grant_id).first()
    if grant is None:
        raise Http404
    return _row(overseer, grant, timezone.now())


def grant_reads(grant: GrantRow, *, before: int | None = None, size: int = PAGE_SIZE) -> AccessPage:
    """The grant's rows of the audit chain — the grant itself and every access marked break-glass by its user on its
    case while it ran — newest first, paged by ``seq``: two queries. Audit rows only, never case content."""
    events = AuditEvent.objects.filter(
        Q(purpose__startswith=BREAK_GLASS_PURPOSE_PREFIX) | Q(action=AuditAction.BREAK_GLASS),
        case_id=grant.case_id,
        actor_id=grant.user_id,
        occurred_at__gte=grant.started_at,
        occurred_at__lt=grant.ends_at,
    )
    listed = events.defer("prev_hash", "row_hash", "client_ip", "request_id")
    fetched, more = paging.newest_first(listed, "seq", before, size)
    return AccessPage(rows=access_rows(fetched), next_before=fetched[-1].seq if more and fetched else None)
