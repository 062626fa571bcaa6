"""Sharing: granting and revoking shares (a part of the file or one note), recording and withdrawing consents.

The names of who agreed and the shares' purposes are sealed: the sharing page discloses them, and the revoke page the
one share's purpose, each through one audited gate read.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.case_forms import ConsentForm, ConsentWithdrawForm, ShareForm, consent_label, note_label, person_label
from casework.case_views.common import header, viewer
from casework.compartments import Compartment
from casework.models import CaseNote, User
from casework.selectors.cases import case_memberships, case_notes
from permissions import gate, sharing
from permissions.access import AccessedCase, access_case_by_id, access_case_object, require_case_lead
from permissions.models import Consent, Share

#: The rows ``_share_rows`` reads with each share: load them with it.
SHARE_ROW_RELATED = ("recipient_user__organisation", "recipient_organisation", "consent")


def _share_state(share: Share, today: datetime.date) -> tuple[str, str]:
    if share.revoked_at is not None:
        return "revoked", _("revoked")
    if share.consent is not None and share.consent.is_withdrawn:
        return "withdrawn", _("agreement withdrawn")
    if share.valid_until < today:
        return "expired", _("expired")
    return "in_force", _("in force")


def _share_rows(
    user: User, case: AccessedCase, shares: Sequence[Share], notes: dict[str, CaseNote], *, purpose: str
) -> list[dict[str, Any]]:
    """The shares with their purposes disclosed through the gate (one audited read, with the page's ``purpose``)."""
    today = timezone.localdate()
    texts = gate.read_case(user, case, shares, ["purpose"], purpose=purpose) if shares else []
    rows = []
    for share, text in zip(shares, texts, strict=True):
        state, state_label = _share_state(share, today)
        if share.recipient_user is not None:
            recipient = person_label(share.recipient_user)
        else:
            recipient = _("%(organisation)s (its members on the team)") % {"organisation": share.recipient_organisation}
        note = notes.get(str(share.item_id)) if share.item_id else None
        what = note_label(note) if note is not None else str(Compartment(share.compartment).label)
        rows.append(
            {
                "id": share.pk,
                "recipient": recipient,
                "what": what,
                "purpose": text.get("purpose") or "",
                "valid_until": share.valid_until,
                "consent": consent_label(share.consent) if share.consent else "",
                "state": state,
                "state_label": state_label,
                "revocable": share.revoked_at is None,
            }
        )
    return rows


def _consent_row(consent: Consent, name: str = "") -> dict[str, Any]:
    return {
        "id": consent.pk,
        "scope": Compartment(consent.compartment).label,
        "giver": consent.get_given_by_display(),
        "name": name,
        "on_behalf_of_child": consent.on_behalf_of_child,
        "given_on": consent.given_on,
        "withdrawn_on": consent.withdrawn_on if consent.is_withdrawn else None,
    }


def _consent_rows(user: User, accessed: AccessedCase, consents: Sequence[Consent]) -> list[dict[str, Any]]:
    """Consents with the sealed name of who agreed, disclosed through the gate (one audited read)."""
    names = gate.read_case(user, accessed, consents, ["given_by_name"], purpose="case sharing")
    return [
        _consent_row(consent, disclosure.get("given_by_name") or "")
        for consent, disclosure in zip(consents, names, strict=True)
    ]


# --- Shares -------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_sharing(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    case = access_case_by_id(user, case_id, purpose="case sharing").case
    access = require_case_lead(user, case, purpose="case sharing")
    members = [m for m in case_memberships(case=case, include_ended=False) if m.is_current()]
    notes = case_notes(case=case)
    consents = list(Consent.objects.filter(case=case).order_by("recorded_at"))
    form = ShareForm(request.POST or None, members=members, notes=notes, consents=consents)
    if request.method == "POST" and form.is_valid():
        try:
            sharing.share_grant(case=case, granted_by=user, **form.share_arguments())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The information was shared."))
            return redirect("case_sharing", case_id=case.pk)
    shares = list(Share.objects.filter(case=case).select_related(*SHARE_ROW_RELATED).order_by("-granted_at"))
    return render(
        request,
        "casework/case_sharing.html",
        {
            "case": header(case, access),
            "form": form,
            "shares": _share_rows(
                user, AccessedCase(case, access), shares, {str(n.pk): n for n in notes}, purpose="case sharing"
            ),
            "consents": _consent_rows(user, AccessedCase(case, access), consents),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_revoke(request: HttpRequest, case_id: uuid.UUID, share_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    share = Share.objects.select_related(*SHARE_ROW_RELATED).filter(pk=share_id).first()
    case = access_case_object(user, case_id, share, purpose="revoke share").case
    assert share is not None
    access = require_case_lead(user, case, purpose="revoke share")
    share.case = case
    if request.method == "POST":
        try:
            sharing.share_revoke(share=share, revoked_by=user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The share was revoked."))
        return redirect("case_sharing", case_id=case.pk)
    notes = {str(n.pk): n for n in case_notes(case=case)} if share.item_id else {}
    return render(
        request,
        "casework/case_share_revoke.html",
        {
            "case": header(case, access),
            "share": _share_rows(user, AccessedCase(case, access), [share], notes, purpose="revoke share")[0],
        },
    )


# --- Consents -----------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def consent_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    case = access_case_by_id(user, case_id, purpose="record consent").case
    access = require_case_lead(user, case, purpose="record consent")
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sharing.consent_record(
                case=case,
                recorded_by=user,
                compartment=data["compartment"],
                given_by=data["given_by"],
                given_by_name=data["given_by_name"],
                on_behalf_of_child=data["on_behalf_of_child"],
                given_on=data["given_on"],
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The agreement was recorded."))
            return redirect("case_sharing", case_id=case.pk)
    return render(request, "casework/case_consent_form.html", {"case": header(case, access), "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, case_id: uuid.UUID, consent_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    consent = Consent.objects.filter(pk=consent_id).first()
    case = access_case_object(user, case_id, consent, purpose="withdraw consent").case
    assert consent is not None
    access = require_case_lead(user, case, purpose="withdraw consent")
    consent.case = case
    form = ConsentWithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sharing.consent_withdraw(consent=consent, withdrawn_by=user, withdrawn_on=form.cleaned_data["withdrawn_on"])
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The withdrawal was recorded; the shares resting on it have stopped."))
            return redirect("case_sharing", case_id=case.pk)
    return render(
        request,
        "casework/case_consent_withdraw.html",
        {
            "case": header(case, access),
            "form": form,
            # Without the name of who agreed: the sharing page is the one place that discloses it.
            "consent": _consent_row(consent),
        },
    )
