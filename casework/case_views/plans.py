"""The case's protection plan (IPOD): the plan board, each version read-only, and the version as a PDF.

What a viewer sees of a version is the plan's read model (``casework.selectors.plans.plan_disclosed``): the case's
lead reads the whole plan; a team member reads the goals, the actions they own (the person, or a member of the owning
organisation), their own sector's reports and whatever is shared with them. An action the viewer may not read is left
out altogether (only how many were left out is said); a plan text they may not read is named as hidden.

Versions: the lead sees every version (drafts too, and the plan board shows the version in work when nothing is
approved yet); a member sees the approved ones (current and superseded). An old version stays readable with who
approved it and when.

The PDF is an export: the gate's read rows are written as for the page (purpose ``export plan pdf``), then one
``export`` audit row per file, committed before the file is handed out. The file name carries the case reference
and the version only — never a name.

A fixed number of queries whatever the size of the plan: the versions are one query, the read model's are fixed.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from casework.case_forms import CaseForm
from casework.case_views.common import header, viewer
from casework.models import AcquaintancePerson, AcquaintanceWay, Case, Plan, PlanStatus, User
from casework.pdf import render_pdf
from casework.selectors.case_file import child_on_document
from casework.selectors.child_labels import child_labels_of
from casework.selectors.plans import (
    plan_acquaintances,
    plan_disclosed,
    plan_on_board,
    plan_version_visible,
    plan_versions_visible,
)
from casework.services.plans import PLAN_OBJECT, plan_acquaintance_record
from permissions import audit
from permissions.access import AccessedCase, access_case_by_id, access_case_object, refuse
from permissions.policy import CaseAccess

BOARD_PURPOSE = "case plan"
VERSION_PURPOSE = "case plan version"
EXPORT_PURPOSE = "export plan pdf"


@dataclass(frozen=True)
class VersionRow:
    id: uuid.UUID
    version: int
    status_label: str
    approved_by: str
    approved_at: datetime.datetime | None
    shown: bool


def _version_rows(plans: Sequence[Plan], shown: Plan | None) -> list[VersionRow]:
    return [
        VersionRow(
            id=p.pk,
            version=p.version,
            status_label=p.get_status_display(),
            approved_by=p.approved_by.display_name() if p.approved_by is not None else "",
            approved_at=p.approved_at,
            shown=shown is not None and p.pk == shown.pk,
        )
        for p in plans
    ]


def _version(user: User, case_id: uuid.UUID, plan_id: uuid.UUID, purpose: str) -> tuple[Case, Plan, CaseAccess]:
    """The version named in the URL: 404 for whoever may not see the case and for another case's version; an
    audited 403 for a member asking for a version that was never approved."""
    plan = Plan.objects.select_related("drafted_by", "approved_by").filter(pk=plan_id).first()
    case, access = access_case_object(user, case_id, plan, purpose=purpose)
    assert plan is not None
    plan.case = case
    if not plan_version_visible(access, plan):
        raise refuse(user, case, purpose=purpose)
    return case, plan, access


# --- Pages --------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_plan(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The plan board: the current version (or the version in work, for the lead) and the list of versions. POST is
    refused only after the access check, so the page answers 404 to whoever may not see the case."""
    user = viewer(request)
    case, access = access_case_by_id(user, case_id, purpose=BOARD_PURPOSE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    plans = plan_versions_visible(case=case, access=access)
    shown = plan_on_board(plans, access)
    return render(
        request,
        "casework/plan_board.html",
        {
            "case": header(case, access),
            "plan": plan_disclosed(user=user, case=AccessedCase(case, access), plan=shown, purpose=BOARD_PURPOSE)
            if shown is not None
            else None,
            "versions": _version_rows(plans, shown),
            "is_lead": access.is_lead,
            # The child beside the reference (case basics, through the gate).
            "child": child_labels_of(user=user, cases=[AccessedCase(case, access)], purpose=BOARD_PURPOSE).get(case.pk),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_plan_version(request: HttpRequest, case_id: uuid.UUID, plan_id: uuid.UUID) -> HttpResponse:
    """One version, read-only, with who drafted and who approved it and when, and who of the family was acquainted
    with it (the lead of an open case records that here)."""
    user = viewer(request)
    case, plan, access = _version(user, case_id, plan_id, VERSION_PURPOSE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _version_page(request, user, case, plan, access, None)


class AcquaintanceForm(CaseForm):
    person = forms.ChoiceField(label=gettext_lazy("Who"), choices=[("", "—"), *AcquaintancePerson.choices])
    on = forms.DateField(label=gettext_lazy("When"), widget=forms.DateInput(attrs={"type": "date"}))
    way = forms.ChoiceField(label=gettext_lazy("How"), choices=[("", "—"), *AcquaintanceWay.choices])


def _version_page(
    request: HttpRequest, user: User, case: Case, plan: Plan, access: CaseAccess, form: AcquaintanceForm | None
) -> HttpResponse:
    may_record = access.may_manage and plan.status != PlanStatus.DISCARDED
    return render(
        request,
        "casework/plan_version.html",
        {
            "case": header(case, access),
            "plan": plan_disclosed(user=user, case=AccessedCase(case, access), plan=plan, purpose=VERSION_PURPOSE),
            "is_lead": access.is_lead,
            "acquaintances": plan_acquaintances(plan=plan),
            "acquaintance_form": (form or AcquaintanceForm()) if may_record else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_plan_acquaintance(request: HttpRequest, case_id: uuid.UUID, plan_id: uuid.UUID) -> HttpResponse:
    """Record who of the family was acquainted with the version (or took part in it), when and how: the lead of an
    open case (others: the audited 403 or 404 of the case's pages). A GET goes to the version's page."""
    user = viewer(request)
    case, plan, access = _version(user, case_id, plan_id, "record plan acquaintance")
    if not access.may_manage:
        raise refuse(user, case, purpose="record plan acquaintance")
    if request.method != "POST":
        return redirect("case_plan_version", case_id=case.pk, plan_id=plan.pk)
    form = AcquaintanceForm(request.POST)
    if form.is_valid():
        try:
            plan_acquaintance_record(
                plan=plan,
                by=user,
                person=form.cleaned_data["person"],
                on=form.cleaned_data["on"],
                way=form.cleaned_data["way"],
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The acquaintance with the plan was recorded."))
            return redirect("case_plan_version", case_id=case.pk, plan_id=plan.pk)
    return _version_page(request, user, case, plan, access, form)


def render_plan_pdf(context: dict[str, Any]) -> bytes:
    """The PDF of ``casework/plan_pdf.html`` in Czech (the plan is a document of the Czech file)."""
    return render_pdf("casework/plan_pdf.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def case_plan_pdf(request: HttpRequest, case_id: uuid.UUID, plan_id: uuid.UUID) -> HttpResponse:
    """The version as a PDF, holding only what the viewer may read; audited as an export."""
    user = viewer(request)
    case, plan, access = _version(user, case_id, plan_id, EXPORT_PURPOSE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    accessed = AccessedCase(case, access)
    content = plan_disclosed(user=user, case=accessed, plan=plan, purpose=EXPORT_PURPOSE)
    child = child_on_document(user, accessed, purpose=EXPORT_PURPOSE)
    pdf = render_plan_pdf(
        {
            "case": header(case, access),
            "child": child,
            "plan": content,
            "printed_at": timezone.localtime(),
            "printed_by": user.display_name(),
        }
    )
    # Fail closed: no committed export row, no file.
    audit.record_committed(
        actor=user,
        action=audit.AuditAction.EXPORT,
        object_type=PLAN_OBJECT,
        object_id=plan.pk,
        fields=[*content.exported_fields, *(f"child_{name}" for name in child.fields)],
        purpose=EXPORT_PURPOSE,
        outcome=audit.AuditOutcome.ALLOWED,
        case_id=case.pk,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ipod-{slugify(case.reference)}-v{plan.version}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
