"""Managing a case: its team (adding and ending members), handing it over to another coordinator; the old closing
address, which now leads to the closure proposal (``casework.case_views.lifecycle``).

Each page first answers 404 to whoever may not see the case, then an audited 403 to whoever may see it but not
manage it (``managing``).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from casework import services
from casework.case_forms import HandoverForm, TeamMemberAddForm, TeamMemberEndForm, person_label
from casework.case_views.common import header, member_row, member_rows, viewer
from casework.models import TeamMembership
from casework.selectors.cases import case_memberships, coordinator_history
from casework.services.plan_actions import ownerless_actions
from permissions.access import access_case_by_id, access_case_object, load_case_access, require_case_lead

# --- The team -----------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_team(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    case = access_case_by_id(user, case_id, purpose="case team").case
    access = require_case_lead(user, case, purpose="case team")
    form = TeamMemberAddForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_member_add(
                case=case,
                user=form.cleaned_data["user"],
                team_role=form.cleaned_data["team_role"],
                valid_from=form.cleaned_data["valid_from"],
                valid_until=form.cleaned_data["valid_until"],
                added_by=user,
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The member was added to the team."))
            return redirect("case_team", case_id=case.pk)
    current, past = member_rows(case_memberships(case=case))
    return render(
        request,
        "casework/case_team.html",
        {"case": header(case, access), "form": form, "members": current, "past_members": past},
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_member_end(request: HttpRequest, case_id: uuid.UUID, membership_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    membership = (
        TeamMembership.objects.select_related("user__organisation", "team_role").filter(pk=membership_id).first()
    )
    case = access_case_object(user, case_id, membership, purpose="end team membership").case
    assert membership is not None
    access = require_case_lead(user, case, purpose="end team membership")
    membership.case = case
    form = TeamMemberEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_member_end(membership=membership, ended_by=user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The membership was ended; the member's access to the case has ended."))
            ownerless = ownerless_actions(case)
            if ownerless:
                messages.warning(
                    request,
                    ngettext(
                        "%(count)d open action of the current plan has no owner on the team any more: give it a new "
                        "owner in the plan's next version.",
                        "%(count)d open actions of the current plan have no owner on the team any more: give them "
                        "a new owner in the plan's next version.",
                        ownerless,
                    )
                    % {"count": ownerless},
                )
            return redirect("case_team", case_id=case.pk)
    return render(
        request,
        "casework/case_member_end.html",
        {
            "case": header(case, access),
            "form": form,
            "member": member_row(membership, timezone.localdate()),
            "member_name": person_label(membership.user),
        },
    )


# --- Handover -----------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_handover(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    case = access_case_by_id(user, case_id, purpose="hand over case").case
    access = require_case_lead(user, case, purpose="hand over case")
    form = HandoverForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.coordinator_handover(
                case=case, to=form.cleaned_data["coordinator"], by=user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The case %(reference)s was handed over.") % {"reference": case.reference})
            if load_case_access(user, case).visible:
                return redirect("case_detail", case_id=case.pk)
            return redirect("case_list")  # the former coordinator no longer sees the case
    history = [
        {
            "coordinator": a.coordinator.display_name(),
            "assigned_at": a.assigned_at,
            "ended_at": a.ended_at,
            "assigned_by": a.assigned_by.display_name(),
            "reason": a.get_reason_display(),
        }
        for a in coordinator_history(case=case)
    ]
    return render(
        request, "casework/case_handover.html", {"case": header(case, access), "form": form, "history": history}
    )


# --- Closing ------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_close(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The old direct-close address: a case now closes only through a proposal a supervisor approves (four eyes), so
    the lead is sent to the proposal page; whatever was posted here closes nothing. The access answers stay those of
    a managing page (404 to whoever may not see the case, an audited 403 to whoever may not close it)."""
    user = viewer(request)
    case = access_case_by_id(user, case_id, purpose="close case").case
    require_case_lead(user, case, purpose="close case", closing=True)
    return redirect("case_closure_request", case_id=case.pk)
