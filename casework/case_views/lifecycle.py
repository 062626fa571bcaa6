"""Closing a case with four eyes and recording court petitions (``casework.services.lifecycle``).

The case's lead proposes closure here; the supervisor decides in the approval flow's task (``workflows``), not on
this page. The closure and petition pages are the lead's (also on a closed case, read-only: the final evaluation and
the petitions stay part of the file); whoever sees the case but is not its lead gets an audited 403, everyone else
the same 404 as for a missing case. Sealed text (the final evaluation, a return comment, an urgency reason) reaches
the template only through one gate read per page.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework import services
from casework.case_views.common import header, viewer
from casework.lifecycle_forms import ClosureRequestForm, CourtPetitionForm
from casework.models import ClosureRequest, ClosureStatus, CourtPetition, PetitionFiler, PetitionKind, User
from casework.services.lifecycle import latest_held_conference
from permissions import gate
from permissions.access import AccessedCase, access_case_as_lead, access_case_object, require_case_lead

# --- Closure ------------------------------------------------------------------------------------------------------


def _closure_rows(user: User, accessed: AccessedCase, requests: Sequence[ClosureRequest]) -> list[dict[str, Any]]:
    texts = gate.read_case(user, accessed, requests, ["final_evaluation", "return_comment"], purpose="case closure")
    return [
        {
            "id": r.pk,
            "pending": r.status == ClosureStatus.PENDING,
            "status": r.get_status_display(),
            "reason": r.get_reason_display(),
            "requested_by": r.requested_by.display_name(),
            "requested_at": r.requested_at,
            "decided_by": r.decided_by.display_name() if r.decided_by is not None else "",
            "decided_at": r.decided_at,
            "final_evaluation": text.get("final_evaluation"),
            "return_comment": text.get("return_comment"),
            "withheld": bool(text.withheld),
        }
        for r, text in zip(requests, texts, strict=True)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def case_closure_request(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The proposal form (open case, nothing pending), the pending proposal with a withdraw button, earlier ones."""
    user = viewer(request)
    accessed = access_case_as_lead(user, case_id, purpose="case closure")
    case, access = accessed
    form = ClosureRequestForm(request.POST or None)
    if request.method == "POST":
        require_case_lead(user, case, purpose="request case closure", closing=True)
        if form.is_valid():
            try:
                services.closure_request(
                    case=case,
                    by=user,
                    reason=form.cleaned_data["reason"],
                    final_evaluation=form.cleaned_data["final_evaluation"],
                    substitute_care=form.cleaned_data.get("substitute_care") or "",
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                messages.success(request, _("The proposal to close the case was sent to a supervisor for approval."))
                return redirect("case_closure_request", case_id=case.pk)
    requests = list(
        ClosureRequest.objects.filter(case=case)
        .select_related("requested_by", "decided_by")
        .order_by("-requested_at", "-id")
    )
    rows = _closure_rows(user, accessed, requests)
    pending = next((row for row in rows if row["pending"]), None)
    return render(
        request,
        "casework/case_closure.html",
        {
            "case": header(case, access),
            # While a proposal is pending the form is offered only to show why a second one was refused.
            "form": form if access.may_close and (pending is None or form.errors) else None,
            "pending": pending,
            "earlier": [row for row in rows if not row["pending"]],
            "may_withdraw": access.may_manage,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_closure_withdraw(request: HttpRequest, case_id: uuid.UUID, request_id: uuid.UUID) -> HttpResponse:
    """POST withdraws the pending proposal; GET (a bookmark, a reload) goes back to the closure page."""
    user = viewer(request)
    closure = ClosureRequest.objects.filter(pk=request_id).first()
    case = access_case_object(user, case_id, closure, purpose="withdraw case closure").case
    assert closure is not None
    require_case_lead(user, case, purpose="withdraw case closure")
    if request.method == "POST":
        closure.case = case
        try:
            services.closure_withdraw(request=closure, by=user)
        except ValidationError:
            messages.error(request, _("This proposal is no longer waiting for a decision."))
        else:
            messages.success(request, _("The proposal to close the case was withdrawn."))
    return redirect("case_closure_request", case_id=case.pk)


# --- Court petitions ----------------------------------------------------------------------------------------------


def _petition_rows(user: User, accessed: AccessedCase, petitions: Sequence[CourtPetition]) -> list[dict[str, Any]]:
    texts = gate.read_case(user, accessed, petitions, ["urgent_reason"], purpose="court petitions")
    return [
        {
            "kind": p.get_kind_display(),
            "filed_by": p.get_filed_by_display(),
            # Filed by others with no case conference held: one is due (§ 14(2)(b)).
            "conference_due": p.kind == PetitionKind.PLACEMENT and p.conference is None,
            "urgent": p.kind == PetitionKind.URGENT,
            "recorded_by": p.recorded_by.display_name(),
            "recorded_at": p.recorded_at,
            "conference_held_at": p.conference.held_at if p.conference is not None else None,
            "urgent_reason": text.get("urgent_reason"),
            "withheld": bool(text.withheld),
        }
        for p, text in zip(petitions, texts, strict=True)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def case_petition(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Record a petition (open case) and list those recorded. A § 14(1) petition without a held case conference is
    refused by the service with an explanation on the ``kind`` field; nothing is written."""
    user = viewer(request)
    accessed = access_case_as_lead(user, case_id, purpose="court petitions")
    case, access = accessed
    form = CourtPetitionForm(request.POST or None)
    if request.method == "POST":
        require_case_lead(user, case, purpose="record court petition")
        if form.is_valid():
            try:
                services.court_petition_record(
                    case=case,
                    by=user,
                    kind=form.cleaned_data["kind"],
                    urgent_reason=form.cleaned_data["urgent_reason"],
                    filed_by=form.cleaned_data["filed_by"] or PetitionFiler.AUTHORITY,
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                messages.success(request, _("The court petition was recorded."))
                return redirect("case_petition", case_id=case.pk)
    petitions = list(
        CourtPetition.objects.filter(case=case)
        .select_related("recorded_by", "conference")
        .order_by("-recorded_at", "-id")
    )
    conference = latest_held_conference(case=case)
    return render(
        request,
        "casework/case_petition.html",
        {
            "case": header(case, access),
            "form": form if access.may_manage else None,
            "petitions": _petition_rows(user, accessed, petitions),
            "conference_held_at": conference.held_at if conference is not None else None,
        },
    )
