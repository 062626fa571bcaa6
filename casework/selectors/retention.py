"""The shredding review's read models: the list of proposals and one review, and the stub of a destroyed file.

Nothing here decrypts: a review shows the case's reference, its authority, the dates that started and ended the
retention period, and the decision — never anything of the file's content. The list pages by key (due date, id),
50 rows, one statement per page. This module imports ``permissions``, so it is imported from its own path.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from casework import paging
from casework.models import Case, RetentionReview, ReviewState, User
from permissions.policy import (
    Subject,
    is_data_protection_officer,
    may_decide_retention,
    may_see_retention_of,
    may_see_retention_reviews,
)

#: The list's tabs: which states each shows.
STATE_TABS: dict[str, tuple[str, ...]] = {
    "proposed": (ReviewState.PROPOSED,),
    "kept": (ReviewState.KEPT,),
    "done": (ReviewState.DECIDED, ReviewState.EXECUTED),
}


@dataclass(frozen=True)
class ReviewRow:
    id: int
    case_id: uuid.UUID
    reference: str
    authority: str
    left_register_on: datetime.date | None
    due_on: datetime.date
    state: str
    state_label: str
    decision: str
    decision_label: str
    decision_reference: str
    decided_by: str
    decided_at: datetime.datetime | None
    keep_reason_label: str
    keep_until: datetime.date | None
    executed_at: datetime.datetime | None
    archive_package: str
    may_decide: bool


@dataclass(frozen=True)
class ReviewPage:
    rows: list[ReviewRow]
    #: ``"<due_on>_<id>"`` of the last row when there is a next page.
    next_after: str


def _row(review: RetentionReview, user: User) -> ReviewRow:
    case = review.case
    return ReviewRow(
        id=review.pk,
        case_id=case.pk,
        reference=case.reference,
        authority=case.municipality.name,
        left_register_on=timezone.localtime(case.closed_at).date() if case.closed_at else None,
        due_on=review.due_on,
        state=review.state,
        state_label=str(review.get_state_display()),
        decision=review.decision,
        decision_label=str(review.get_decision_display()) if review.decision else "",
        decision_reference=review.decision_reference,
        decided_by=review.decided_by.display_name() if review.decided_by else "",
        decided_at=review.decided_at,
        keep_reason_label=str(review.get_keep_reason_display()) if review.keep_reason else "",
        keep_until=review.keep_until,
        executed_at=review.executed_at,
        archive_package=review.archive_package,
        may_decide=review.state == ReviewState.PROPOSED and may_decide_retention(user, case.municipality_id),
    )


def _visible(user: User) -> QuerySet[RetentionReview]:
    reviews = RetentionReview.objects.select_related("case", "case__municipality", "decided_by")
    subject = Subject.from_user(user)
    if is_data_protection_officer(subject):
        return reviews
    if subject.municipality_id is None or not may_see_retention_reviews(user):
        return reviews.none()
    return reviews.filter(case__municipality_id=subject.municipality_id)


_REVIEW_ORDER = (("due_on", False), ("pk", False))
_REVIEW_KINDS = (datetime.date, int)


def retention_review_page(*, user: User, tab: str, after: str = "") -> ReviewPage:
    """One page of the viewer's reviews in a tab, oldest due first; one statement. Deciders see their authority's,
    the DPO every authority's (read-only)."""
    reviews = _visible(user).filter(state__in=STATE_TABS.get(tab, STATE_TABS["proposed"]))
    key = paging.parse_cursor(after, _REVIEW_KINDS)
    if key is not None:
        reviews = reviews.filter(paging.after(_REVIEW_ORDER, key))
    found, more = paging.take(reviews.order_by("due_on", "pk"), paging.PAGE_SIZE)
    rows = [_row(review, user) for review in found]
    next_after = paging.cursor_for((rows[-1].due_on, rows[-1].id)) if more and rows else ""
    return ReviewPage(rows=rows, next_after=next_after)


def retention_review_get(*, user: User, review_id: int) -> RetentionReview:
    """One review for the viewer, or 404 — the same for "does not exist" and "another authority's"."""
    review = RetentionReview.objects.select_related("case", "case__municipality", "decided_by").filter(pk=review_id)
    found = review.first()
    if found is None or not may_see_retention_of(user, found.case.municipality_id):
        raise Http404
    return found


def retention_review_row(*, user: User, review: RetentionReview) -> ReviewRow:
    return _row(review, user)


@dataclass(frozen=True)
class DestroyedFile:
    """What the case page shows instead of a file destroyed or transferred after a shredding review."""

    reference: str
    executed_at: datetime.datetime
    decision: str
    decision_label: str
    decision_reference: str


def destroyed_file_stub(case: Case) -> DestroyedFile | None:
    """The stub of ``case`` if its file was destroyed (one statement), else None without a statement."""
    if case.file_destroyed_at is None:
        return None
    review = RetentionReview.objects.get(case=case, state=ReviewState.EXECUTED)
    return DestroyedFile(
        reference=case.reference,
        executed_at=case.file_destroyed_at,
        decision=review.decision,
        decision_label=str(review.get_decision_display()),
        decision_reference=review.decision_reference,
    )
