"""Filing a report (oznámení): the form, the success page, and the filer's own list (date, number, status only)."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from casework.case_views.common import viewer
from casework.models import Report
from casework.selectors import report_get, reports_recorded_by
from casework.selectors.competence import residence_municipality_names
from casework.services.reports import report_check
from casework.views import shell_page
from permissions.access import record_denial
from permissions.policy import may_file_report, may_record_any_channel
from workflows.flows import report_receive
from workflows.forms import ReportForm
from workflows.views.common import filer_status, report_answer


@shell_page("report_create")
@require_http_methods(["GET", "POST"])
def report_create(request: HttpRequest) -> HttpResponse:
    """The form. A valid report is filed and its flow started in one transaction; the browser then goes to a page
    that names the report's number and date, never what it said."""
    user = viewer(request)
    staff = may_record_any_channel(user)
    form = ReportForm(request.POST or None, user=user, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            report = report_receive(filed_by=user, details=form.details())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            return redirect("report_filed", report_id=report.pk)
    elif request.method == "POST":
        form.add_service_errors_to_clean_fields(report_check(filed_by=user, details=form.details()))
    return render(
        request,
        "workflows/report_form.html",
        {"form": form, "staff": staff, "municipality_names": residence_municipality_names()},
    )


def _own(request: HttpRequest, report_id: uuid.UUID, purpose: str) -> Report:
    """A report the viewer filed or entered; anyone else gets the 404 a missing report gets (audited)."""
    user = viewer(request)
    report = report_get(report_id=report_id)
    if report is None:
        raise Http404
    if report.recorded_by_id != user.pk:
        record_denial(user, "casework.report", report.pk, purpose, case_id=report.case_id)
        raise Http404
    return report


@login_required
@require_http_methods(["GET"])
def report_filed(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    report = _own(request, report_id, "report filed page")
    return render(
        request,
        "workflows/report_filed.html",
        {
            "reference": report.reference,
            "received_at": report.received_at,
            "feedback_requested": report.feedback_requested,
            "staff": may_record_any_channel(viewer(request)),
        },
    )


@shell_page("report_create")
@require_http_methods(["GET"])
def report_list(request: HttpRequest) -> HttpResponse:
    """The viewer's own reports: when, which number, how far it got — and, once sent, the § 10(4) answer they asked
    for. Never their content: after filing, the notifier compartment is OSPOD's alone."""
    user = viewer(request)
    after = request.GET.get("after", "")
    page = reports_recorded_by(user=user, after=after)
    rows = [
        {
            "reference": report.reference,
            "received_at": report.received_at,
            "status": filer_status(report),
            "answer": report_answer(report),
            "feedback_requested": report.feedback_requested,
        }
        for report in page.reports
    ]
    return render(
        request,
        "workflows/report_list.html",
        {"rows": rows, "may_file": may_file_report(user), "next_after": page.next_after, "paged": bool(after)},
    )
