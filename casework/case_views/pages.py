"""The case list, opening a case, the case page with its note sections, and writing a note."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
from casework.case_views.common import CHILD_BASICS, child_basics, child_name, header, member_rows, relation, viewer
from casework.models import NOTE_COMPARTMENTS, CaseNote, User
from casework.selectors.cases import case_memberships, case_notes, open_case_of_child
from casework.selectors.lists import CaseFilters, Scope, case_list_for_user
from casework.views import shell_page
from permissions import gate
from permissions.access import (
    access_case_by_id,
    access_child_by_id,
    accessed_cases,
    load_case_access,
    refuse,
)
from permissions.policy import CaseAccess, Subject

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


def _scopes(user: User) -> tuple[list[Scope], Scope]:
    """The list's tabs for the viewer's system role, and the default tab. Tabs only filter: which cases are listed
    at all is ``visible_cases``."""
    subject = Subject.from_user(user)
    if subject.is_supervisor:
        return [Scope.ALL, Scope.COORDINATING, Scope.MEMBER], Scope.ALL
    if subject.is_authority_staff:
        return [Scope.COORDINATING, Scope.MEMBER], Scope.COORDINATING
    return [Scope.MEMBER], Scope.MEMBER


@shell_page("case_list")
@require_http_methods(["GET"])
def case_list(request: HttpRequest) -> HttpResponse:
    """One selector query, the viewer's standing on all rows decided at once, one batched gate read: a fixed number
    of queries."""
    user = viewer(request)
    scopes, default = _scopes(user)
    scope = next((s for s in scopes if s.value == request.GET.get("scope")), default)
    status = request.GET.get("status", "open")
    if status not in {value for value, _label in STATUS_CHOICES}:
        status = "open"
    query = " ".join(request.GET.get("q", "").split())[:40]
    filters = CaseFilters(scope=scope, status="" if status == "all" else status, reference=query)
    cases = accessed_cases(user, list(case_list_for_user(user=user, filters=filters)))
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


@dataclass
class NoteSection:
    compartment: str
    label: str
    #: The viewer reads the compartment as a whole; otherwise the page says it is hidden (never how much).
    whole: bool
    shared_whole: bool
    notes: list[dict[str, Any]] = field(default_factory=list)


def _note_sections(
    access: CaseAccess, notes: Sequence[CaseNote], texts: Sequence[gate.Disclosure]
) -> list[NoteSection]:
    """The file's compartments in order, each with the notes the viewer reads; a compartment the viewer does not read
    as a whole keeps only notes shared with them (or of their organisation) and says it is hidden."""
    shared_items = access.facts.shared_items
    sections = {
        c.value: NoteSection(
            compartment=c.value,
            label=str(c.label),
            whole=access.may_read_compartment(c),
            shared_whole=not access.is_lead and c in access.facts.shared_compartments,
        )
        for c in NOTE_COMPARTMENTS
    }
    for note, disclosure in zip(notes, texts, strict=True):
        if not disclosure.shows("text"):
            continue  # withheld: neither its text nor that it exists
        section = sections[note.compartment]
        section.notes.append(
            {
                "id": note.pk,
                "created_at": note.created_at,
                "author": note.author.display_name(),
                "organisation": note.author_organisation.name if note.author_organisation else "",
                "text": disclosure.get("text") or "",
                "shared": not section.whole and (note._meta.label_lower, str(note.pk)) in shared_items,
            }
        )
    return list(sections.values())


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """A fixed number of queries whatever the size of the team and the file: each list is one query, each gate read
    one audit write. POST is refused only after the access check, so every case URL answers 404 to whoever may not
    see the case, whatever the method."""
    user = viewer(request)
    accessed = access_case_by_id(user, case_id, purpose="case page")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    case, access = accessed
    child = gate.read_case(user, accessed, [case.child], CHILD_BASICS, purpose="case page")[0]
    current, past = member_rows(case_memberships(case=case))
    notes = case_notes(case=case)
    texts = gate.read_case(user, accessed, notes, ["text"], purpose="case page")
    return render(
        request,
        "casework/case_detail.html",
        {
            "case": header(case, access),
            "child": child_basics(child),
            "child_id": case.child_id if access.is_lead else None,
            "members": current,
            "past_members": past if access.is_lead else [],
            "sections": _note_sections(access, notes, texts),
            "may_write": bool(access.note_compartments()),
            "may_manage": access.may_manage,
            "may_close": access.may_close,
            "is_lead": access.is_lead,
            "read_only": access.read_only,
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
                case=case, author=user, compartment=form.cleaned_data["compartment"], text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The note was saved."))
            return redirect(f"{reverse('case_detail', args=[case.pk])}#notes-{note.compartment}")
    case_header = header(case, access)
    return render(request, "casework/case_note_form.html", {"case": case_header, "form": form})
