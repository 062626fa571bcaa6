"""The case list, opening a case, the case page with its note sections, and writing a note."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from casework import services
from casework.case_forms import CaseNoteForm, CaseOpenForm
from casework.case_views.common import CHILD_BASICS, child_basics, child_name, header, relation, viewer
from casework.selectors.case_file import case_disclosed
from casework.selectors.cases import open_case_of_child
from casework.selectors.lists import CaseFilters, Scope, case_list_scopes, case_page_for_user
from casework.selectors.retention import destroyed_file_stub
from casework.views import shell_page
from permissions import gate
from permissions.access import (
    access_case_by_id,
    access_child_by_id,
    accessed_cases,
    load_case_access,
    refuse,
)
from permissions.policy import Subject, may_request_break_glass

# --- The list -----------------------------------------------------------------------------------------------------

SCOPE_LABELS = {
    Scope.COORDINATING: gettext_lazy("My cases"),
    Scope.MEMBER: gettext_lazy("Cases where I am on the team"),
    Scope.ALL: gettext_lazy("All cases of the authority"),
}
STATUS_CHOICES = [
    ("open", gettext_lazy("Open cases")),
    ("closed", gettext_lazy("Closed cases")),
    ("all", gettext_lazy("All cases")),
]


@shell_page("case_list")
@require_http_methods(["GET"])
def case_list(request: HttpRequest) -> HttpResponse:
    """One selector query for a page of 50 (paged by key: ``?after=`` the previous page's cursor), the viewer's
    standing on its rows decided at once, one batched gate read: a fixed number of queries whatever the number of
    cases."""
    user = viewer(request)
    scopes, default = case_list_scopes(user=user)
    scope = next((s for s in scopes if s.value == request.GET.get("scope")), default)
    status = request.GET.get("status", "open")
    if status not in {value for value, _label in STATUS_CHOICES}:
        status = "open"
    query = " ".join(request.GET.get("q", "").split())[:40]
    filters = CaseFilters(scope=scope, status="" if status == "all" else status, reference=query)
    after = request.GET.get("after", "")
    page = case_page_for_user(user=user, filters=filters, after=after)
    cases = accessed_cases(user, page.cases)
    children = gate.read_case_children(user, cases, CHILD_BASICS, purpose="case list")
    rows = [
        {
            "id": case.pk,
            "reference": case.reference,
            "child": child_basics(disclosure),
            "is_open": case.is_open,
            "status": case.get_status_display(),
            "opened_at": case.opened_at,
            "coordinator": case.coordinator.display_name(),
            "relation": relation(access),
        }
        for (case, access), disclosure in zip(cases, children, strict=True)
    ]
    tabs = [{"value": s.value, "label": SCOPE_LABELS[s], "current": s == scope} for s in scopes]
    return render(
        request,
        "casework/case_index.html",
        {
            "rows": rows,
            "tabs": tabs if len(tabs) > 1 else [],
            "scope": scope.value,
            "status": status,
            "status_choices": STATUS_CHOICES,
            "query": query,
            "filtered": bool(query) or status != "open",
            "may_break_glass": may_request_break_glass(Subject.from_user(user)),
            "next_after": page.next_after,
            "paged": bool(after),
        },
    )


# --- Opening a case -----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_open(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    child = access_child_by_id(user, child_id, purpose="open case")
    form = CaseOpenForm(request.POST or None, municipality_id=child.municipality_id, current_user=user)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(
                child=child,
                coordinator=form.cleaned_data["coordinator"],
                opened_by=user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The case %(reference)s was opened.") % {"reference": case.reference})
            if load_case_access(user, case).visible:
                return redirect("case_detail", case_id=case.pk)
            return redirect("child_detail", child_id=child.pk)  # opened for another coordinator
    identity = gate.read(user, child, ["given_name", "family_name"], purpose="open case")
    existing = open_case_of_child(child=child)
    return render(
        request,
        "casework/case_open.html",
        {
            "form": form,
            "child_id": child.pk,
            "child_name": child_name(identity),
            "existing": {"id": existing.pk, "reference": existing.reference} if existing else None,
        },
    )


# --- The case page ------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The case's read model (``case_disclosed``) rendered. POST is refused only after the access check, so every case
    URL answers 404 to whoever may not see the case, whatever the method."""
    user = viewer(request)
    accessed = access_case_by_id(user, case_id, purpose="case page")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    stub = destroyed_file_stub(accessed.case)
    if stub is not None:
        # Destroyed after a shredding review: those who could see the case see that it was, and nothing else.
        return render(request, "casework/case_destroyed.html", {"stub": stub})
    view = case_disclosed(user=user, case=accessed, purpose="case page", expanded=request.GET.get("show", ""))
    return render(
        request,
        "casework/case_detail.html",
        {
            "file": view,
            "case": view.header,
            "child": view.child,
            "child_id": view.child_id,
            "members": view.members,
            "past_members": view.past_members,
            "sections": view.sections,
            "may_write": view.may_write,
            "may_manage": view.may_manage,
            "may_close": view.may_close,
            "is_lead": view.is_lead,
            "read_only": view.read_only,
            "break_glass_until": view.break_glass_until,
        },
    )


# --- Notes --------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_note_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    case, access = access_case_by_id(user, case_id, purpose="write case note")
    compartments = access.note_compartments()
    if not compartments:
        raise refuse(user, case, purpose="write case note")
    form = CaseNoteForm(request.POST or None, compartments=compartments)
    if request.method == "GET" and request.GET.get("compartment") in compartments:
        form.fields["compartment"].initial = request.GET["compartment"]
    if request.method == "POST" and form.is_valid():
        try:
            note = services.case_note_add(
                case=case,
                author=user,
                compartment=form.cleaned_data["compartment"],
                text=form.cleaned_data["text"],
                kept_apart=form.cleaned_data["kept_apart"],
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The note was saved."))
            return redirect(f"{reverse('case_detail', args=[case.pk])}#notes-{note.compartment}")
    case_header = header(case, access)
    return render(request, "casework/case_note_form.html", {"case": case_header, "form": form})
