"""Read models of referrals: the case page's section, the provider's inbox, one referral's page, the network's counts.

What a reader may see is decided once, here, from ``permissions.policy`` and ``permissions.access``: the case's lead
reads the referrals of the case; the provider's intake worker reads only the referrals to their organisation that are
pending or accepted and whose agreement stands — never the case through them. The letter and a decline's explanation
are opened by the gate (``gate.read_referral``), audited; lists open nothing.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from casework import paging
from casework.models import Case, User
from permissions.access import user_may_see_case
from permissions.policy import (
    REFERRAL_PROVIDER_VISIBLE,
    CaseAccess,
    Subject,
    may_answer_referral,
    may_refer,
    may_see_case_referrals,
    may_take_referrals,
    may_withdraw_referral,
)
from permissions.referrals import AccessedReferral, read_referral
from services.referrals.models import (
    DeclineReason,
    Referral,
    ReferralEvent,
    ReferralFor,
    ReferralStatus,
)
from services.selectors.network import ReferralCounts


@dataclass(frozen=True)
class ReferralRow:
    id: uuid.UUID
    number: str
    service: str
    service_type: str
    provider: str
    status: str
    status_label: str
    sent_at: datetime.datetime
    expected_on: datetime.date | None
    decline_reason: str
    url: str


def _row(referral: Referral) -> ReferralRow:
    return ReferralRow(
        id=referral.pk,
        number=referral.number,
        service=referral.service.name,
        service_type=str(referral.service.service_type),
        provider=referral.provider_organisation.name,
        status=referral.status,
        status_label=str(ReferralStatus(referral.status).label),
        sent_at=referral.sent_at,
        expected_on=referral.expected_on,
        decline_reason=str(DeclineReason(referral.decline_reason).label) if referral.decline_reason else "",
        url=reverse("referral_detail", kwargs={"referral_id": referral.pk}),
    )


def _rows() -> QuerySet[Referral]:
    return Referral.objects.select_related("service", "service__service_type", "provider_organisation")


@dataclass(frozen=True)
class ReferralsSection:
    """The case page's referrals: for the case's lead only (``may_see_case_referrals``)."""

    rows: tuple[ReferralRow, ...]
    may_refer: bool
    refer_url: str


def case_referrals_section(access: CaseAccess, case: Case) -> ReferralsSection | None:
    """Every referral of the case, newest first (one query; a case has a handful). None for anyone but its lead."""
    if not may_see_case_referrals(access):
        return None
    rows = [_row(r) for r in _rows().filter(case=case).order_by("-sent_at", "-id")]
    return ReferralsSection(
        rows=tuple(rows),
        may_refer=may_refer(access),
        refer_url=reverse("referral_new", kwargs={"case_id": case.pk}),
    )


@dataclass(frozen=True)
class InboxPage:
    rows: tuple[ReferralRow, ...]
    next_after: str | None
    #: Whether the user answers referrals at all (a partner of a social service).
    takes_referrals: bool


_INBOX_ORDER = (("sent_at", True), ("id", True))


def referral_inbox(*, user: User, after: str = "", size: int = paging.PAGE_SIZE) -> InboxPage:
    """The provider's referrals: pending first is not needed — newest first, keyset pages; one query per page.
    Declined and withdrawn referrals, and those whose agreement was withdrawn, are not there (the provider keeps
    nothing of them)."""
    subject = Subject.from_user(user)
    if not may_take_referrals(subject) or subject.organisation_id is None:
        return InboxPage(rows=(), next_after=None, takes_referrals=False)
    rows = (
        _rows()
        .filter(
            provider_organisation_id=subject.organisation_id,
            status__in=sorted(REFERRAL_PROVIDER_VISIBLE),
            consent__withdrawal_recorded_at__isnull=True,
        )
        .order_by("-sent_at", "-id")
    )
    key = paging.parse_cursor(after, (datetime.datetime, uuid.UUID))
    if key is not None:
        rows = rows.filter(paging.after(_INBOX_ORDER, key))
    fetched = list(rows[: size + 1])
    shown = fetched[:size]
    more = len(fetched) > size and bool(shown)
    return InboxPage(
        rows=tuple(_row(r) for r in shown),
        next_after=paging.cursor_for((shown[-1].sent_at, shown[-1].pk)) if more else None,
        takes_referrals=True,
    )


@dataclass(frozen=True)
class EventRow:
    at: datetime.datetime
    from_label: str
    to_label: str
    by: str


@dataclass(frozen=True)
class ReferralView:
    row: ReferralRow
    referred: str
    letter: str
    decline_explanation: str
    events: tuple[EventRow, ...]
    as_provider: bool
    #: The case page, for the lead; for the provider once accepted and they are on the team.
    case_url: str
    case_reference: str
    may_answer: bool
    may_withdraw: bool
    expected_default: datetime.date


def referral_disclosed(*, user: User, accessed: AccessedReferral, purpose: str) -> ReferralView:
    """One referral for its page: the letter (and a decline's explanation, for the lead) through the gate."""
    referral = accessed.referral
    fields = ["letter"] if accessed.as_provider else ["letter", "decline_explanation"]
    shown = read_referral(user, accessed, fields, purpose=purpose)
    events = [
        EventRow(
            at=e.at,
            from_label=str(ReferralStatus(e.from_status).label) if e.from_status else "",
            to_label=str(ReferralStatus(e.to_status).label),
            by=(e.by.get_full_name() or e.by.username) if e.by else "",
        )
        for e in ReferralEvent.objects.filter(referral=referral).select_related("by").order_by("at", "id")
    ]
    case = referral.case
    if accessed.as_provider:
        case_url = (
            reverse("case_detail", kwargs={"case_id": case.pk})
            if referral.status == ReferralStatus.ACCEPTED and user_may_see_case(user, case.pk)
            else ""
        )
        may_withdraw = False
    else:
        case_url = reverse("case_detail", kwargs={"case_id": case.pk})
        assert accessed.case_access is not None
        may_withdraw = may_withdraw_referral(accessed.case_access, accessed.facts)
    return ReferralView(
        row=_row(referral),
        referred=str(ReferralFor(referral.referred).label),
        letter=shown.get("letter") or "",
        decline_explanation=shown.get("decline_explanation") or "",
        events=tuple(events),
        as_provider=accessed.as_provider,
        case_url=case_url,
        case_reference=case.reference if not accessed.as_provider else "",
        may_answer=may_answer_referral(accessed.subject, accessed.facts),
        may_withdraw=may_withdraw,
        expected_default=timezone.localdate() + datetime.timedelta(days=referral.service.waiting_days or 14),
    )


# --- The network view's numbers (counts only, no child data) ---------------------------------------------------------


def referral_counts_by_group() -> dict[tuple[int, int | None], ReferralCounts]:
    """Referrals by (service type id, the case's ORP id): sent, accepted, waiting, declined, declined for lack of
    capacity, mean days to acceptance. Two statements whatever the number of referrals."""
    grouped = (
        Referral.objects.values("service__service_type_id", "case__municipality_id")
        .annotate(
            sent=Count("id"),
            accepted=Count("id", filter=Q(status=ReferralStatus.ACCEPTED)),
            waiting=Count("id", filter=Q(status=ReferralStatus.WAITING)),
            declined=Count("id", filter=Q(status=ReferralStatus.DECLINED)),
            declined_no_capacity=Count(
                "id", filter=Q(status=ReferralStatus.DECLINED, decline_reason=DeclineReason.NO_CAPACITY)
            ),
        )
        .order_by()
    )
    waits: dict[tuple[int, int | None], list[float]] = {}
    accepted = Referral.objects.filter(status=ReferralStatus.ACCEPTED, decided_at__isnull=False)
    for type_id, orp_id, sent_at, decided_at in accepted.values_list(
        "service__service_type_id", "case__municipality_id", "sent_at", "decided_at"
    ):
        if decided_at is not None:
            waits.setdefault((type_id, orp_id), []).append((decided_at - sent_at).total_seconds() / 86400)
    result = {}
    for g in grouped:
        key = (g["service__service_type_id"], g["case__municipality_id"])
        days = waits.get(key)
        result[key] = ReferralCounts(
            sent=g["sent"],
            accepted=g["accepted"],
            waiting=g["waiting"],
            declined=g["declined"],
            declined_no_capacity=g["declined_no_capacity"],
            days_to_accept=round(sum(days) / len(days), 1) if days else None,
            accept_days_sum=sum(days) if days else 0.0,
            accept_days_count=len(days) if days else 0,
        )
    return result
