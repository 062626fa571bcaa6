"""Break-glass pages: asking for emergency access to a case (OSPOD staff), and the review queue (oversight).

Thin views over :mod:`permissions.break_glass`. Who may do what is policy (``may_request_break_glass``,
``may_break_glass``, ``may_see_break_glass_queue``, ``may_review_break_glass``); a case nobody may break into answers
the same 404 as a case that does not exist, and the attempt is audited.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.break_glass_forms import BreakGlassFindForm, BreakGlassRequestForm, BreakGlassReviewForm
from casework.models import Case
from casework.oversight_views import before_param, viewer
from casework.selectors import case_get
from casework.views import shell_page
from permissions import break_glass
from permissions.access import load_case_access, record_denial
from permissions.oversight import REVIEW_STATES, overseer_for
from permissions.policy import Subject, may_break_glass, may_request_break_glass

PURPOSE = "break-glass request"


# --- Asking for access (the authority's OSPOD workers and supervisors) ---------------------------------------------


@login_required
@require_http_methods(["GET"])
def break_glass_find(request: HttpRequest) -> HttpResponse:
    """Find a case of one's own authority by its reference (or its number, if only one case has it): a case one
    sees opens as usual; one that nothing relates one to goes to the break-glass request; anything else is "no such
    case" (another authority's too)."""
    user = viewer(request)
    subject = Subject.from_user(user)
    if not may_request_break_glass(subject) or subject.municipality_id is None:
        raise PermissionDenied
    form = BreakGlassFindForm(request.GET if "reference" in request.GET else None)
    if form.is_bound and form.is_valid():
        reference = " ".join(form.cleaned_data["reference"].split())
        case = (
            Case.objects.filter(municipality_id=subject.municipality_id, reference__iexact=reference).only("pk").first()
        )
        if case is None and "/" not in reference:
            # The number alone ("0042"), as the case list's search takes it: if exactly one case ends with it.
            found = list(
                Case.objects.filter(municipality_id=subject.municipality_id, reference__endswith=f"/{reference}").only(
                    "pk"
                )[:2]
            )
            case = found[0] if len(found) == 1 else None
        if case is not None:
            return redirect("case_break_glass", case_id=case.pk)
        form.add_error("reference", _("Your authority has no case with this reference."))
    return render(request, "casework/break_glass/find.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def case_break_glass(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The request: a reason and a duration; access at once, read-only. Whoever already sees the case is sent to it;
    whoever may not break into it gets the same 404 as for a case that does not exist (audited)."""
    user = viewer(request)
    case = case_get(case_id=case_id)
    if case is None:
        raise Http404
    access = load_case_access(user, case)
    if access.visible:
        return redirect("case_detail", case_id=case.pk)
    if not may_break_glass(access):
        record_denial(user, "casework.case", case.pk, PURPOSE, case_id=case.pk)
        raise Http404
    form = BreakGlassRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = break_glass.break_glass_open(
                user=user,
                case=case,
                reason=form.cleaned_data["reason"],
                minutes=form.cleaned_data["duration_minutes"],
            )
        except ValidationError as error:
            form.apply_service_errors(error)
        else:
            until = formats.date_format(grant.expires_at.astimezone(), "DATETIME_FORMAT")
            messages.warning(
                request,
                _(
                    "You opened case %(reference)s through break-glass until %(until)s. Everything you read is "
                    "recorded; the coordinator and the supervisors have been told, and a supervisor will review it."
                )
                % {"reference": case.reference, "until": until},
            )
            return redirect("case_detail", case_id=case.pk)
    return render(
        request,
        "casework/break_glass/request.html",
        {
            "case": {"id": case.pk, "reference": case.reference, "authority": case.municipality.name},
            "form": form,
            "max_minutes": break_glass.max_minutes(),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# --- The review queue (supervisors of the authority; the DPO reads it) ----------------------------------------------


@shell_page("oversight")
@require_http_methods(["GET"])
def break_glass_queue(request: HttpRequest) -> HttpResponse:
    overseer = overseer_for(viewer(request))
    state = request.GET.get("state", "open")
    if state not in REVIEW_STATES:
        state = "open"
    page = break_glass.grant_page(overseer, state=state, before=before_param(request))
    return render(request, "casework/oversight/break_glass_list.html", {"page": page, "state": state})


@shell_page("oversight")
@require_http_methods(["GET", "POST"])
def break_glass_review(request: HttpRequest, grant_id: int) -> HttpResponse:
    """One grant: who, which case, why, when; its reads from the audit chain (no case content); the review form for a
    supervisor of the authority who did not use it."""
    overseer = overseer_for(viewer(request))
    grant = break_glass.grant_in_scope(overseer, grant_id)
    form = BreakGlassReviewForm(request.POST or None)
    if request.method == "POST":
        if not grant.may_review and not grant.own:
            raise PermissionDenied  # the DPO reads the queue; another authority's grant was a 404 already
        if form.is_valid():
            try:
                break_glass.break_glass_review(
                    grant_id=grant.id,
                    reviewer=viewer(request),
                    verdict=form.cleaned_data["verdict"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as error:
                for field_name, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(field_name if field_name in form.fields else None, message)
            else:
                messages.success(request, _("The review is recorded."))
                return redirect("oversight_break_glass_review", grant_id=grant.id)
    reads = break_glass.grant_reads(grant, before=before_param(request))
    return render(
        request,
        "casework/oversight/break_glass_review.html",
        {"grant": grant, "reads": reads, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
