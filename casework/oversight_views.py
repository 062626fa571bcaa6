"""Access oversight pages (*Kontrola přístupů*): supervisors of the authority and the DPO.

Thin views over :mod:`permissions.oversight` (who accessed what, from the audit chain) and
:mod:`permissions.anomalies` (flags and their review). Nothing here reads case content: the selectors return audit
rows and case references only. Roles without the page get 403 (the shell's rule); a case or a person outside the
viewer's authority is 404, like a case that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.models import User
from casework.oversight_forms import AccessFilterForm, AnomalyReviewForm
from casework.pdf import render_pdf
from casework.views import shell_page
from permissions import audit, break_glass, oversight
from permissions.anomalies import anomaly_review
from permissions.oversight import AccessFilters, Overseer, overseer_for
from permissions.oversight_export import EXPORT_FORMATS, record_export
from permissions.policy import Subject, may_see_processing_record
from permissions.processing_record import processing_record

FILTER_FIELDS = ("date_from", "date_to", "action", "outcome", "municipality")


def viewer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def before_param(request: HttpRequest) -> int | None:
    """The ``before`` cursor of a list paged by descending id (an integer), or ``None`` for the first page."""
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


def _filters(request: HttpRequest, overseer: Overseer) -> tuple[AccessFilterForm, AccessFilters | None]:
    """The filter form bound to the query string; ``None`` filters when it has errors (the page shows them, no rows)."""
    data = {name: request.GET[name] for name in FILTER_FIELDS if name in request.GET}
    form = AccessFilterForm(data, overseer=overseer)
    return form, (form.filters() if form.is_valid() else None)


def _query(request: HttpRequest, **extra: Any) -> str:
    params = {name: request.GET[name] for name in FILTER_FIELDS if request.GET.get(name)}
    params.update({k: v for k, v in extra.items() if v is not None})
    return urlencode(params)


def _list_page(
    request: HttpRequest,
    *,
    template: str,
    context: dict[str, Any],
    case_id: uuid.UUID | None = None,
    actor_id: int | None = None,
) -> HttpResponse:
    overseer: Overseer = context["overseer"]
    form, filters = _filters(request, overseer)
    page = (
        oversight.access_page(overseer, filters, case_id=case_id, actor_id=actor_id, before=before_param(request))
        if filters is not None
        else None
    )
    context.update(
        {
            "form": form,
            "page": page,
            "older_query": _query(request, before=page.next_before) if page and page.next_before else "",
            "export_csv": _query(request, format="csv"),
            "export_xlsx": _query(request, format="xlsx"),
            "paged": before_param(request) is not None,
            "first_query": _query(request),
        }
    )
    return render(request, template, context)


def _export(
    request: HttpRequest,
    overseer: Overseer,
    *,
    name: str,
    case_id: uuid.UUID | None = None,
    actor_id: int | None = None,
) -> HttpResponse:
    _form, filters = _filters(request, overseer)
    if filters is None:
        # The same field errors as the page, there: an export of a filter that means nothing is not made.
        return redirect(f"{request.path.rsplit('export/', 1)[0]}?{_query(request)}")
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        fmt = "csv"
    content_type, render_rows = EXPORT_FORMATS[fmt]
    # Audited (and committed) before a row is produced: no audit row, no file.
    record_export(viewer(request), fmt=fmt, case_id=case_id, actor_id=actor_id)
    body = render_rows(oversight.iter_access_rows(overseer, filters, case_id=case_id, actor_id=actor_id))
    response = HttpResponse(body, content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{fmt}"'
    return response


# --- Everything in the viewer's scope ------------------------------------------------------------------------------


@shell_page("oversight")
@require_http_methods(["GET"])
def oversight_index(request: HttpRequest) -> HttpResponse:
    overseer = overseer_for(viewer(request))
    context = {
        "overseer": overseer,
        "verification": oversight.last_verification(),
        "open_anomalies": oversight.open_anomaly_count(overseer),
        "open_break_glass": break_glass.open_grant_count(overseer),
    }
    return _list_page(request, template="casework/oversight/index.html", context=context)


@shell_page("oversight")
@require_http_methods(["GET"])
def oversight_export(request: HttpRequest) -> HttpResponse:
    return _export(request, overseer_for(viewer(request)), name="pristupy")


@shell_page("oversight")
@require_http_methods(["POST"])
def oversight_verify(request: HttpRequest) -> HttpResponse:
    """Run the chain's verifier now (``verify_audit``'s own function) and show its result on the index."""
    overseer_for(viewer(request))
    result = oversight.verification_run(by=viewer(request))
    if result.intact:
        messages.success(request, _("The audit chain is intact."))
    else:
        messages.error(request, _("The audit chain is broken; see the first broken row below."))
    return redirect("oversight")


# --- One case ------------------------------------------------------------------------------------------------------


@shell_page("oversight")
def oversight_case(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    overseer = overseer_for(viewer(request))
    case = oversight.oversight_case(overseer, case_id)  # 404 outside the viewer's authority, before anything else
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    context = {"overseer": overseer, "case": case}
    return _list_page(request, template="casework/oversight/case.html", context=context, case_id=case.id)


@shell_page("oversight")
def oversight_case_export(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    overseer = overseer_for(viewer(request))
    case = oversight.oversight_case(overseer, case_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    name = "pristupy-" + case.reference.replace(" ", "-").replace("/", "-")
    return _export(request, overseer, name=name, case_id=case.id)


# --- One person ----------------------------------------------------------------------------------------------------


@shell_page("oversight")
@require_http_methods(["GET"])
def oversight_person(request: HttpRequest, user_id: int) -> HttpResponse:
    overseer = overseer_for(viewer(request))
    person = oversight.oversight_person(overseer, user_id)
    context = {"overseer": overseer, "person": person}
    return _list_page(request, template="casework/oversight/person.html", context=context, actor_id=person.id)


@shell_page("oversight")
@require_http_methods(["GET"])
def oversight_person_export(request: HttpRequest, user_id: int) -> HttpResponse:
    overseer = overseer_for(viewer(request))
    person = oversight.oversight_person(overseer, user_id)
    return _export(request, overseer, name=f"pristupy-{person.id}", actor_id=person.id)


# --- Anomaly flags -------------------------------------------------------------------------------------------------


@shell_page("oversight")
@require_http_methods(["GET"])
def anomaly_list(request: HttpRequest) -> HttpResponse:
    overseer = overseer_for(viewer(request))
    state = request.GET.get("state", "open")
    if state not in oversight.REVIEW_STATES:
        state = "open"
    page = oversight.anomaly_page(overseer, state=state, before=before_param(request))
    return render(
        request,
        "casework/oversight/anomalies.html",
        {"page": page, "state": state, "states": oversight.REVIEW_STATES, "form": AnomalyReviewForm()},
    )


@shell_page("oversight")
@require_http_methods(["POST"])
def anomaly_review_view(request: HttpRequest, anomaly_id: int) -> HttpResponse:
    overseer = overseer_for(viewer(request))
    flag = oversight.anomaly_in_scope(overseer, anomaly_id)
    form = AnomalyReviewForm(request.POST)
    if form.is_valid():
        try:
            anomaly_review(anomaly_id=flag.pk, reviewer=viewer(request), comment=form.cleaned_data["comment"])
        except ValidationError as error:
            for field_name, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field_name if field_name in form.fields else None, message)
        else:
            messages.success(request, _("The flag is marked as reviewed."))
            return redirect(f"{reverse('oversight_anomalies')}?state=reviewed")
    page = oversight.anomaly_page(overseer, state="open")
    return render(
        request,
        "casework/oversight/anomalies.html",
        {"page": page, "state": "open", "states": oversight.REVIEW_STATES, "form": form, "failed_id": flag.pk},
        status=400,
    )


# --- The record of processing (GDPR Art. 30) -------------------------------------------------------------------------

RECORD_EXPORT_PURPOSE = "record of processing export (pdf)"


def _record_reader(request: HttpRequest) -> User:
    user = viewer(request)
    if not may_see_processing_record(Subject.from_user(user)):
        raise PermissionDenied
    return user


@shell_page("oversight")
@require_http_methods(["GET"])
def processing_record_page(request: HttpRequest) -> HttpResponse:
    """The record of processing activities, generated from the configuration (``permissions.processing_record``)."""
    _record_reader(request)
    return render(request, "casework/oversight/processing_record.html", {"record": processing_record()})


@shell_page("oversight")
@require_http_methods(["GET"])
def processing_record_pdf(request: HttpRequest) -> HttpResponse:
    """The same record as a PDF in Czech; audited as an export (committed before the file is produced)."""
    user = _record_reader(request)
    audit.record_committed(
        actor=user,
        action=audit.AuditAction.EXPORT,
        object_type="permissions.processingrecord",
        object_id="art30",
        fields=["purposes", "subjects", "compartments", "recipients", "retention", "security"],
        purpose=RECORD_EXPORT_PURPOSE,
        outcome=audit.AuditOutcome.ALLOWED,
    )
    pdf = render_pdf("casework/oversight/processing_record_pdf.html", {"record": processing_record()})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="zaznam-o-cinnostech-zpracovani.pdf"'
    return response
