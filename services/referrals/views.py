"""Referral pages: the coordinator's referral form (a case page), the provider's inbox, one referral and its answers.

Thin: each parses input, calls one service or selector, renders. Who may do what is ``permissions.policy``'s (through
``access_referral_by_id``, the services' own checks and the read model's flags). The letter is shown only by the
referral's page, read through the gate; no URL carries anything but ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from casework.case_forms import CaseForm
from casework.case_views.common import header, viewer
from casework.compartments import Compartment
from permissions import gate
from permissions.access import AccessedCase, access_case_by_id, refuse
from permissions.policy import may_answer_referral, may_refer, may_withdraw_referral
from permissions.referrals import AccessedReferral, access_referral_by_id, refuse_referral
from services.referrals import services
from services.referrals.forms import AcceptForm, DeclineForm, ReferralForm, WaitlistForm
from services.referrals.selectors import referral_disclosed, referral_inbox


@login_required
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Refer the case to a service: the case's lead only. The notes the letter may carry are shown (through the
    gate, audited) so the coordinator chooses knowingly."""
    user = viewer(request)
    case, access = access_case_by_id(user, case_id, purpose="refer to a service")
    if not may_refer(access):
        raise refuse(user, case, purpose="refer to a service")
    notes = services.letter_notes(case)
    texts = gate.read_case(user, AccessedCase(case, access), notes, ["text"], purpose="referral letter choice")
    choices = [
        (str(note.pk), f"{Compartment(note.compartment).label}: {(text.get('text') or '')[:160]}")
        for note, text in zip(notes, texts, strict=True)
    ]
    initial = {"service": request.GET.get("service")} if request.method == "GET" else None
    form = ReferralForm(request.POST or None, notes=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_send(case=case, sent_by=user, **form.arguments())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The referral was sent to the provider."))
            return redirect("referral_detail", referral_id=referral.pk)
    return render(request, "services/referrals/form.html", {"case": header(case, access), "form": form})


@login_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    """The provider's referrals (its intake worker's inbox of referrals), newest first, by keyset pages."""
    page = referral_inbox(user=viewer(request), after=request.GET.get("after", ""))
    if not page.takes_referrals:
        raise PermissionDenied
    return render(request, "services/referrals/list.html", {"page": page})


@login_required
@require_GET
def referral_detail(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    accessed = access_referral_by_id(user, referral_id, purpose="referral")
    view = referral_disclosed(user=user, accessed=accessed, purpose="referral")
    context: dict[str, Any] = {"referral": view}
    if view.may_answer:
        organisation_id = accessed.referral.provider_organisation_id
        context |= {
            "accept_form": AcceptForm(organisation_id=organisation_id, me=user),
            "waitlist_form": WaitlistForm(initial={"expected_on": view.expected_default}),
            "decline_form": DeclineForm(),
        }
    return render(request, "services/referrals/detail.html", context)


def _answer(
    request: HttpRequest,
    referral_id: uuid.UUID,
    *,
    purpose: str,
    make_form: Callable[[AccessedReferral, dict[str, Any] | None], CaseForm],
    act: Callable[[AccessedReferral, dict[str, Any]], object],
    done: str,
    withdrawal: bool = False,
) -> HttpResponse:
    """A provider's answer (or the lead's withdrawal): GET shows the form alone, POST acts (the service decides
    again, under the referral's lock). A reader who may see the referral but not do this gets an audited 403."""
    user = viewer(request)
    accessed = access_referral_by_id(user, referral_id, purpose=purpose)
    allowed = (
        may_withdraw_referral(accessed.case_access, accessed.facts)
        if withdrawal and accessed.case_access is not None
        else not withdrawal and may_answer_referral(accessed.subject, accessed.facts)
    )
    if not allowed:
        raise refuse_referral(user, accessed.referral, purpose)
    form = make_form(accessed, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            act(accessed, form.cleaned_data)
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, done)
            return redirect("referral_detail", referral_id=accessed.referral.pk)
    view = referral_disclosed(user=user, accessed=accessed, purpose=purpose)
    return render(
        request,
        "services/referrals/answer.html",
        {"referral": view, "form": form, "action": request.path, "title": purpose_title(purpose)},
        status=400 if request.method == "POST" else 200,
    )


def purpose_title(purpose: str) -> str:
    return {
        "accept referral": _("Accept the referral"),
        "waitlist referral": _("Put on the waiting list"),
        "decline referral": _("Decline the referral"),
        "withdraw referral": _("Withdraw the referral"),
    }.get(purpose, purpose)


@login_required
@require_http_methods(["GET", "POST"])
def referral_accept(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    return _answer(
        request,
        referral_id,
        purpose="accept referral",
        make_form=lambda a, data: AcceptForm(data, organisation_id=a.referral.provider_organisation_id, me=user),
        act=lambda a, d: services.referral_accept(
            referral=a.referral, by=user, member=d["member"], team_role=d["team_role"]
        ),
        done=_("The referral was accepted; the case's team now includes the provider."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def referral_waitlist(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    return _answer(
        request,
        referral_id,
        purpose="waitlist referral",
        make_form=lambda a, data: WaitlistForm(data),
        act=lambda a, d: services.referral_waitlist(referral=a.referral, by=user, expected_on=d["expected_on"]),
        done=_("The referral is on the waiting list."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def referral_decline(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    return _answer(
        request,
        referral_id,
        purpose="decline referral",
        make_form=lambda a, data: DeclineForm(data),
        act=lambda a, d: services.referral_decline(
            referral=a.referral, by=user, reason=d["reason"], explanation=d["explanation"]
        ),
        done=_("The referral was declined."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def referral_withdraw(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    return _answer(
        request,
        referral_id,
        purpose="withdraw referral",
        make_form=lambda a, data: CaseForm(data),
        act=lambda a, d: services.referral_withdraw(referral=a.referral, by=user),
        done=_("The referral was withdrawn."),
        withdrawal=True,
    )
