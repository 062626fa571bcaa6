"""The shredding review pages: the proposals of the authority, and one proposal with its decision.

Thin views over :mod:`casework.selectors.retention` and :mod:`casework.services.retention`. Nothing here shows case
content. Who may open the list is ``permissions.policy.may_see_retention_reviews`` (others get 403); a review of
another authority is 404, like one that does not exist; the DPO sees every authority's, read-only.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.models import ReviewState, User
from casework.retention_forms import RetentionDecisionForm
from casework.selectors.retention import (
    STATE_TABS,
    retention_review_get,
    retention_review_page,
    retention_review_row,
)
from casework.services.retention import retention_decide, retention_execute
from permissions.policy import may_decide_retention, may_see_retention_reviews

logger = logging.getLogger(__name__)


def _viewer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not may_see_retention_reviews(user):
        raise PermissionDenied
    return user


@login_required
@require_http_methods(["GET"])
def retention_review_list(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    tab = request.GET.get("state", "proposed")
    if tab not in STATE_TABS:
        tab = "proposed"
    page = retention_review_page(user=user, tab=tab, after=request.GET.get("after", ""))
    return render(request, "casework/retention/list.html", {"page": page, "tab": tab})


@login_required
@require_http_methods(["GET", "POST"])
def retention_review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    """GET shows the proposal (and the form to those who decide); POST decides, then carries out a destruction or a
    transfer at once. If carrying it out fails (the archive directory unwritable, say), the decision stays and
    ``apply_retention`` finishes it on its next run."""
    user = _viewer(request)
    review = retention_review_get(user=user, review_id=review_id)
    form = RetentionDecisionForm(request.POST or None)
    if request.method == "POST":
        if not may_decide_retention(user, review.case.municipality_id):
            raise PermissionDenied
        if form.is_valid():
            try:
                decided = retention_decide(
                    review=review,
                    by=user,
                    decision=form.cleaned_data["decision"],
                    decision_reference=form.cleaned_data["decision_reference"],
                    keep_reason=form.cleaned_data["keep_reason"],
                    keep_until=form.cleaned_data["keep_until"],
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                if decided.state == ReviewState.DECIDED:
                    try:
                        retention_execute(review=decided)
                    except OSError:
                        logger.exception("shredding review %s: carrying out the decision failed", decided.pk)
                        messages.warning(
                            request,
                            _("The decision is recorded; the file will be dealt with by the next retention run."),
                        )
                        return redirect("retention_review", review_id=decided.pk)
                messages.success(request, _("The decision of the shredding review was recorded."))
                return redirect("retention_review", review_id=decided.pk)
    row = retention_review_row(user=user, review=review)
    return render(request, "casework/retention/detail.html", {"review": row, "form": form})
