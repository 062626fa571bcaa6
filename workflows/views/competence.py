"""Local competence (§ 61): the page of the duty roster, the transfers and the known-child requests; a transfer's
proposal from the case; a forwarded report's cover letter. Thin: the policy decides in ``permissions.policy``, the
services write, the read models in ``casework.selectors.competence`` read. No page shows protected content: ids,
references, municipalities, names of staff and times only.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.case_forms import authority_staff
from casework.case_views.common import viewer
from casework.models import CaseTransfer, DutyShift, KnownChildRequest, Municipality, TransferStatus
from casework.selectors.competence import (
    known_child_requests_for,
    report_competence_view,
    transfer_stubs_for,
    transfers_waiting_for,
)
from casework.selectors.report_file import report_content
from casework.services.competence import (
    case_transfer_decline,
    case_transfer_propose,
    duty_shift_add,
    duty_shift_remove,
    known_child_request_answer,
    known_child_request_create,
)
from casework.views import shell_page
from permissions.access import access_case_by_id, access_report_by_id, on_duty_shifts, record_denial
from permissions.policy import (
    may_answer_known_child,
    may_ask_known_child,
    may_decide_transfer,
    may_manage_duty_roster,
    may_propose_transfer,
)
from workflows.competence_forms import (
    DutyShiftForm,
    KnownChildAnswerForm,
    TransferDecisionForm,
    TransferProposeForm,
)
from workflows.services.transfers import case_transfer_accept


def _authority_id(request: HttpRequest) -> int:
    user = viewer(request)
    if user.organisation is None:
        raise Http404
    return user.organisation.municipality_id


@shell_page("competence")
@require_http_methods(["GET", "POST"])
def competence(request: HttpRequest) -> HttpResponse:
    """Who is on duty now and next, the roster form (supervisors), transfers waiting, files that moved away (the
    old authority's stubs), and "is this child known" requests both ways."""
    user = viewer(request)
    municipality_id = _authority_id(request)
    manages = may_manage_duty_roster(user, municipality_id)
    duty_form = DutyShiftForm(
        request.POST if request.method == "POST" else None, municipality_id=municipality_id, prefix="duty"
    )
    if request.method == "POST":
        if not manages:
            record_denial(user, "casework.dutyshift", "-", "add duty shift")
            raise PermissionDenied
        if duty_form.is_valid():
            try:
                duty_shift_add(by=user, **duty_form.shift())
            except ValidationError as exc:
                duty_form.apply_service_errors(exc)
            else:
                messages.success(request, _("The shift was added to the duty roster."))
                return redirect("competence")
    now = timezone.now()
    shifts = list(
        DutyShift.objects.filter(municipality_id=municipality_id, ends_at__gt=now)
        .select_related("worker")
        .order_by("starts_at")[:50]
    )
    on_duty_ids = set(on_duty_shifts(municipality_id, now).values_list("pk", flat=True))
    incoming, outgoing = known_child_requests_for(user=user)
    waiting = transfers_waiting_for(user=user)
    staff = list(authority_staff(municipality_id)) if waiting else []
    return render(
        request,
        "workflows/competence.html",
        {
            "shifts": [(shift, shift.pk in on_duty_ids) for shift in shifts],
            "manages": manages,
            "duty_form": duty_form if manages else None,
            "stubs": transfer_stubs_for(user=user),
            "waiting": [
                (transfer, TransferDecisionForm(staff=staff, prefix=f"t{transfer.pk}")) for transfer in waiting
            ],
            "incoming": [(r, KnownChildAnswerForm(prefix=f"k{r.pk}")) for r in incoming],
            "outgoing": outgoing,
        },
    )


@login_required
@require_POST
def duty_shift_delete(request: HttpRequest, shift_id: int) -> HttpResponse:
    user = viewer(request)
    shift = DutyShift.objects.filter(pk=shift_id, municipality_id=_authority_id(request)).first()
    if shift is None:
        raise Http404
    duty_shift_remove(shift=shift, by=user)
    messages.success(request, _("The shift was removed from the duty roster."))
    return redirect("competence")


@login_required
@require_POST
def known_child_ask(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    """Ask the ORP whose register holds the report's birth number (read through the gate) whether it knows the
    child. The birth number never travels in the URL or the request."""
    user = viewer(request)
    accessed = access_report_by_id(user, report_id, purpose="ask about known child")
    report = accessed.report
    if not may_ask_known_child(user, report.municipality_id):
        record_denial(user, "casework.report", report.pk, "ask about known child")
        raise PermissionDenied
    content = report_content(user, accessed, purpose="ask about known child")
    try:
        known_child_request_create(report=report, birth_number=content.child_birth_number, by=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The other authority was asked. Its answer will appear under Competence."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("competence")


@login_required
@require_POST
def known_child_answer(request: HttpRequest, request_id: int) -> HttpResponse:
    user = viewer(request)
    asked = KnownChildRequest.objects.filter(pk=request_id).first()
    if asked is None:
        raise Http404
    if not may_answer_known_child(user, asked.asked_municipality_id):
        record_denial(user, "casework.knownchildrequest", asked.pk, "answer known child")
        raise Http404
    form = KnownChildAnswerForm(request.POST, prefix=f"k{asked.pk}")
    answer = form.cleaned_data.get("answer", "") if form.is_valid() else ""
    try:
        known_child_request_answer(request=asked, answer=answer, by=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The answer was sent."))
    return redirect("competence")


@login_required
@require_http_methods(["GET", "POST"])
def transfer_propose(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The coordinator proposes to hand the file to another ORP (the child moved)."""
    user = viewer(request)
    accessed = access_case_by_id(user, case_id, purpose="propose case transfer")
    case, access = accessed.case, accessed.access
    if not may_propose_transfer(access):
        record_denial(user, "casework.case", case.pk, "propose case transfer", case_id=case.pk)
        raise PermissionDenied
    authorities = Municipality.objects.order_by("name")
    form = TransferProposeForm(request.POST or None, authorities=authorities)
    if request.method == "POST" and form.is_valid():
        try:
            case_transfer_propose(case=case, to_municipality=form.cleaned_data.get("to_municipality"), by=user)
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The transfer was proposed; the receiving authority's supervisors decide."))
            return redirect("case_detail", case_id=case.pk)
    pending = CaseTransfer.objects.filter(case=case, status=TransferStatus.PROPOSED).select_related("to_municipality")
    return render(
        request,
        "workflows/transfer_propose.html",
        {"case_id": case.pk, "reference": case.reference, "form": form, "pending": list(pending)},
    )


@login_required
@require_POST
def transfer_decide(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """A supervisor of the receiving ORP accepts (naming the new coordinator) or declines a transfer."""
    user = viewer(request)
    transfer = CaseTransfer.objects.filter(pk=transfer_id).first()
    if transfer is None:
        raise Http404
    if not may_decide_transfer(user, transfer.to_municipality_id):
        record_denial(user, "casework.casetransfer", transfer.pk, "decide case transfer")
        raise Http404
    staff = list(authority_staff(transfer.to_municipality_id))
    form = TransferDecisionForm(request.POST, staff=staff, prefix=f"t{transfer.pk}")
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect("competence")
    try:
        if form.cleaned_data["decision"] == "accept":
            case = case_transfer_accept(
                transfer=transfer, new_coordinator=form.cleaned_data.get("new_coordinator"), by=user
            )
        else:
            case_transfer_decline(transfer=transfer, by=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("competence")
    if form.cleaned_data["decision"] == "accept":
        messages.success(
            request,
            _("The file %(old)s is now %(new)s.") % {"old": transfer.old_reference, "new": case.reference},
        )
        return redirect("case_detail", case_id=case.pk)
    messages.success(request, _("The transfer was declined."))
    return redirect("competence")


@login_required
@require_http_methods(["GET"])
def report_cover_letter(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    """A printable cover letter (print or save as PDF from the browser) for a report whose competent authority does
    not use the product. It names the reference, the date received and the authorities — never the content, which
    is printed from the report page and enclosed."""
    user = viewer(request)
    accessed = access_report_by_id(user, report_id, purpose="report cover letter")
    report = accessed.report
    if report.forward_to_id is None:
        raise Http404
    forward_to = Municipality.objects.get(pk=report.forward_to_id)
    return render(
        request,
        "workflows/cover_letter.html",
        {
            "reference": report.reference,
            "received_at": report.received_at,
            "from_authority": report.municipality.name,
            "to_authority": forward_to.name,
            "to_address": forward_to.ospod_address,
            "competence": report_competence_view(report),
            "today": timezone.localdate(),
            "signed_by": user.display_name(),
        },
    )
