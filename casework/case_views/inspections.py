"""§ 55 file inspection pages: the case's inspections and preparing one, one inspection (approve or return it,
record that it took place) and its PDF. The case's lead only (coordinator or supervisor; closed cases too): a team
member gets the audited 403, anyone else the case's 404. Rules in ``permissions.policy``; writes in
``casework.services.inspections``; the export in ``casework.selectors.file_export`` and ``casework.case_file_pdf``.
"""

from __future__ import annotations

import uuid

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

from casework.case_file_pdf import DocumentFacts, render_case_file_pdf
from casework.case_forms import CaseForm
from casework.case_views.common import header, viewer
from casework.models import Case, FileInspection, InspectionMode, InspectionRecipient, InspectionSection, User
from casework.selectors.file_export import INSPECTION_PURPOSE, case_file_export
from casework.selectors.inspections import InspectionsView, inspections_disclosed
from casework.services.inspections import OBJECT, inspection_decide, inspection_prepare, inspection_record
from permissions import audit
from permissions.access import AccessedCase, access_case_as_lead, access_case_object, refuse
from permissions.policy import (
    CaseAccess,
    may_download_inspection,
    may_prepare_inspection,
    may_record_inspection,
    may_see_inspections,
)

PAGE_PURPOSE = "file inspections (§ 55)"
CHILD = "child"


class InspectionPrepareForm(CaseForm):
    recipient = forms.ChoiceField(label=gettext_lazy("Who inspects the file"))
    sections = forms.MultipleChoiceField(
        label=gettext_lazy("Parts of the file"),
        choices=InspectionSection.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=InspectionSection.values,
        help_text=gettext_lazy(
            "Whatever you choose, the export never holds the reports and the notifier, the items kept apart under "
            "§ 55(2), addresses and contacts, or the names of third persons."
        ),
    )

    def __init__(self, *args: object, view: InspectionsView, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choices = [("", "—"), (CHILD, str(InspectionRecipient.CHILD.label))]
        for rep in view.representatives:
            label = (
                rep.label
                if rep.parental_responsibility
                else _("%(name)s (no parental responsibility)") % {"name": rep.label}
            )
            choices.append((str(rep.id), label))
        self.fields["recipient"].choices = choices  # type: ignore[attr-defined]

    def service_arguments(self) -> dict[str, object]:
        chosen = self.cleaned_data["recipient"]
        if chosen == CHILD:
            return {"recipient": InspectionRecipient.CHILD, "representative_id": None}
        return {"recipient": InspectionRecipient.REPRESENTATIVE, "representative_id": chosen}

    def apply_service_errors(self, error: ValidationError) -> None:
        rest: dict[str, list[str]] = {}
        for name, errors in error.message_dict.items():
            target = "recipient" if name == "representative" else name
            if target in self.fields:
                for message in errors:
                    self.add_error(target, message)
            else:
                rest[name] = errors
        for errors in rest.values():
            for message in errors:
                self.add_error(None, message)


class InspectionRecordForm(CaseForm):
    inspected_at = forms.DateTimeField(
        label=gettext_lazy("When did the inspection take place"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("What was shown or copied"),
        choices=InspectionMode.choices,
        widget=forms.RadioSelect,
    )


def _page(
    request: HttpRequest,
    user: User,
    accessed: AccessedCase,
    form: InspectionPrepareForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    case, access = accessed
    view = inspections_disclosed(user=user, case=accessed, purpose=PAGE_PURPOSE)
    return render(
        request,
        "casework/case_inspections.html",
        {
            "case": header(case, access),
            "view": view,
            "form": form or InspectionPrepareForm(view=view),
            "may_prepare": may_prepare_inspection(access),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_inspections(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The case's inspections and the form to prepare one (§ 55(3))."""
    user = viewer(request)
    accessed = access_case_as_lead(user, case_id, purpose=PAGE_PURPOSE)
    case, access = accessed
    if not may_see_inspections(access):
        raise refuse(user, case, purpose=PAGE_PURPOSE)
    if request.method != "POST":
        return _page(request, user, accessed)
    if not may_prepare_inspection(access):
        raise refuse(user, case, purpose="prepare file inspection")
    view = inspections_disclosed(user=user, case=accessed, purpose=PAGE_PURPOSE)
    form = InspectionPrepareForm(request.POST, view=view)
    if form.is_valid():
        try:
            inspection = inspection_prepare(
                case=case,
                by=user,
                sections=form.cleaned_data["sections"],
                **form.service_arguments(),  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The inspection is prepared; a supervisor approves it."))
            return redirect("case_inspection", case_id=case.pk, inspection_id=inspection.pk)
    return _page(request, user, accessed, form, status=400)


def _inspection(
    user: User, case_id: uuid.UUID, inspection_id: uuid.UUID, purpose: str
) -> tuple[Case, CaseAccess, FileInspection]:
    inspection = FileInspection.objects.filter(pk=inspection_id).first()
    case, access = access_case_object(user, case_id, inspection, purpose=purpose)
    if not may_see_inspections(access):
        raise refuse(user, case, purpose=purpose)
    assert inspection is not None
    inspection.case = case
    return case, access, inspection


def _detail(
    request: HttpRequest,
    user: User,
    case: Case,
    access: CaseAccess,
    inspection: FileInspection,
    record_form: InspectionRecordForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    view = inspections_disclosed(
        user=user, case=AccessedCase(case, access), purpose=PAGE_PURPOSE, inspection_id=inspection.pk
    )
    row = view.rows[0]
    may_record = may_record_inspection(access) and inspection.status == "approved"
    return render(
        request,
        "casework/case_inspection.html",
        {
            "case": header(case, access),
            "row": row,
            "record_form": (record_form or InspectionRecordForm(initial={"inspected_at": timezone.localtime()}))
            if may_record
            else None,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_inspection(request: HttpRequest, case_id: uuid.UUID, inspection_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    case, access, inspection = _inspection(user, case_id, inspection_id, PAGE_PURPOSE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _detail(request, user, case, access, inspection)


@login_required
@require_http_methods(["GET", "POST"])
def case_inspection_decide(request: HttpRequest, case_id: uuid.UUID, inspection_id: uuid.UUID) -> HttpResponse:
    """Approve or return (``decision`` = approve | return): a supervisor who did not prepare it."""
    user = viewer(request)
    case, _access, inspection = _inspection(user, case_id, inspection_id, "approve file inspection")
    if request.method != "POST":
        return redirect("case_inspection", case_id=case.pk, inspection_id=inspection.pk)
    approve = request.POST.get("decision") == "approve"
    try:
        inspection_decide(inspection=inspection, by=user, approve=approve)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The inspection was approved.") if approve else _("The inspection was returned."))
    return redirect("case_inspection", case_id=case.pk, inspection_id=inspection.pk)


@login_required
@require_http_methods(["GET", "POST"])
def case_inspection_record(request: HttpRequest, case_id: uuid.UUID, inspection_id: uuid.UUID) -> HttpResponse:
    """Record that the approved inspection took place: when, shown or copied (who: the person recording it)."""
    user = viewer(request)
    case, access, inspection = _inspection(user, case_id, inspection_id, "record file inspection")
    if request.method != "POST":
        return redirect("case_inspection", case_id=case.pk, inspection_id=inspection.pk)
    form = InspectionRecordForm(request.POST)
    if form.is_valid():
        try:
            inspection_record(
                inspection=inspection,
                by=user,
                inspected_at=form.cleaned_data["inspected_at"],
                mode=form.cleaned_data["mode"],
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The inspection is recorded on the case."))
            return redirect("case_inspection", case_id=case.pk, inspection_id=inspection.pk)
    return _detail(request, user, case, access, inspection, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def case_inspection_pdf(request: HttpRequest, case_id: uuid.UUID, inspection_id: uuid.UUID) -> HttpResponse:
    """The inspection's export as a PDF, in Czech: after approval the copy to show or hand over; before it a preview
    marked as a draft on every page. Read through the gate with the purpose ``file inspection (§ 55)`` and audited
    as an export, committed before the file is handed out."""
    user = viewer(request)
    case, access, inspection = _inspection(user, case_id, inspection_id, INSPECTION_PURPOSE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if not may_download_inspection(access):
        raise refuse(user, case, purpose=INSPECTION_PURPOSE)
    accessed = AccessedCase(case, access)
    export = case_file_export(user=user, case=accessed, sections=inspection.sections, purpose=INSPECTION_PURPOSE)
    recipient = inspections_disclosed(
        user=user, case=accessed, purpose=INSPECTION_PURPOSE, inspection_id=inspection.pk
    ).rows[0]
    pdf = render_case_file_pdf(
        export,
        DocumentFacts(
            title=gettext_lazy("File inspection (§ 55 of Act No. 359/1999 Coll.)"),
            recipient=recipient.recipient,
            generated_at=timezone.localtime(),
            generated_by=user.display_name(),
            approved_by=recipient.decided_by if inspection.exportable else "",
            draft=not inspection.exportable,
        ),
    )
    audit.record_committed(
        actor=user,
        action=audit.AuditAction.EXPORT,
        object_type=OBJECT,
        object_id=inspection.pk,
        fields=list(export.exported_fields),
        purpose=INSPECTION_PURPOSE if inspection.exportable else "file inspection preview (§ 55)",
        outcome=audit.AuditOutcome.ALLOWED,
        case_id=case.pk,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    suffix = "" if inspection.exportable else "-navrh"
    response["Content-Disposition"] = f'attachment; filename="nahlizeni-{slugify(case.reference)}{suffix}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
