"""The child register: search by birth number, register a child, the child page (read through the gate)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework import plausibility
from casework.forms import BirthNumberSearchForm, ChildRegistrationForm, RepresentativeFormSet
from casework.models import Child, LegalRepresentative, User
from casework.selectors import child_find_by_birth_number, child_representatives, children_registered_by
from casework.selectors.cases import open_case_of_child
from casework.services import RepresentativeInput, child_create
from casework.views import shell_page
from permissions import gate
from permissions.access import access_child_by_id, may_see_child
from permissions.policy import may_open_case, may_search_register

CHILD_FIELDS = ["given_name", "family_name", "date_of_birth", "birth_number", "address"]
REPRESENTATIVE_FIELDS = ["full_name", "contact"]
#: What the list of one's recent registrations shows of each child.
RECENT_FIELDS = ["given_name", "family_name", "date_of_birth"]


def _register_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not may_search_register(user):
        raise Http404  # the register does not exist for anyone else
    return user


@shell_page("child_search")
@require_http_methods(["GET", "POST"])
def child_search(request: HttpRequest) -> HttpResponse:
    """POST only for the search itself: a birth number never goes into a URL or an access log."""
    user = _register_user(request)
    form = BirthNumberSearchForm(request.POST or None)
    not_found = False
    if request.method == "POST" and form.is_valid():
        try:
            child = child_find_by_birth_number(user=user, birth_number=form.cleaned_data["birth_number"])
        except ValidationError as exc:
            form.add_error("birth_number", exc)
        else:
            if child is not None:
                return redirect("child_detail", child_id=child.pk)
            not_found = True
    registered = children_registered_by(user=user)
    # Each with its name and date of birth, through the gate (one audited batch), so the links are told apart.
    recent = [
        {"id": child.pk, "created_at": child.created_at, "name": _name(disclosure), "born": _born(disclosure)}
        for child, disclosure in zip(
            registered, gate.read_register(user, registered, RECENT_FIELDS, purpose="child register"), strict=True
        )
    ]
    return render(request, "casework/child_search.html", {"form": form, "not_found": not_found, "recent": recent})


def _name(disclosure: gate.Disclosure) -> str:
    return " ".join(filter(None, [disclosure.get("given_name"), disclosure.get("family_name")]))


def _born(disclosure: gate.Disclosure) -> datetime.date | None:
    value = disclosure.get("date_of_birth")
    return datetime.date.fromisoformat(value) if value else None


@login_required
@require_http_methods(["GET", "POST"])
def child_register(request: HttpRequest) -> HttpResponse:
    user = _register_user(request)
    form = ChildRegistrationForm(request.POST or None)
    formset = RepresentativeFormSet(request.POST or None, prefix="representatives")
    existing: uuid.UUID | None = None
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        reps = [
            RepresentativeInput(relation=f["relation"], full_name=f["full_name"], contact=f.get("contact", ""))
            for f in (sub.cleaned_data for sub in formset.forms)
            if f.get("full_name")
        ]
        municipality = user.organisation.municipality if user.organisation else None
        if municipality is None:
            raise Http404
        try:
            child = child_create(
                municipality=municipality,
                given_name=form.cleaned_data["given_name"],
                family_name=form.cleaned_data["family_name"],
                date_of_birth=form.cleaned_data["date_of_birth"],
                birth_number=form.cleaned_data["birth_number"],
                address=form.cleaned_data["address"],
                representatives=reps,
                created_by=user,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            if "birth_number" in exc.message_dict:
                existing = _registered_child(user, form.cleaned_data["birth_number"])
            rest = form.apply_service_errors(exc)
            for key, errors in rest.items():
                _attach_representative_error(formset, key, errors)
        else:
            messages.success(request, _("The child was registered."))
            return redirect("child_detail", child_id=child.pk)
    return render(
        request, "casework/child_register.html", {"form": form, "formset": formset, "existing_child_id": existing}
    )


def _registered_child(user: User, birth_number: str) -> uuid.UUID | None:
    """The id of the child already registered with ``birth_number``, if ``user`` may open its record: the duplicate
    error then links to it. Otherwise None and the error stays neutral (nothing says where the child is)."""
    try:
        child = child_find_by_birth_number(user=user, birth_number=birth_number)
    except ValidationError:
        return None
    return child.pk if child is not None and may_see_child(user, child) else None


def _attach_representative_error(formset: BaseFormSet[Any], key: str, errors: list[str]) -> None:
    # Service keys look like "representatives-0-full_name"; anything else goes to the formset as a whole.
    parts = key.split("-")
    if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(formset.forms):
        sub = formset.forms[int(parts[1])]
        for message in errors:
            sub.add_error(parts[2], message)
        return
    formset._non_form_errors = formset.error_class([*formset.non_form_errors(), *errors])  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET"])
def child_detail(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    user = request.user if isinstance(request.user, User) else None
    if user is None:
        raise Http404
    child: Child = access_child_by_id(user, child_id, purpose="child page")
    identity = gate.read(user, child, CHILD_FIELDS, purpose="child page")
    reps: list[LegalRepresentative] = child_representatives(child=child)
    rep_disclosures = gate.read_rows(user, child, reps, REPRESENTATIVE_FIELDS, purpose="child page")
    representatives = [
        {"relation": rep.get_relation_display(), "values": disclosure.values, "withheld": disclosure.withheld}
        for rep, disclosure in zip(reps, rep_disclosures, strict=True)
    ]
    shown = dict(identity.values)
    dob = identity.get("date_of_birth")
    born = datetime.date.fromisoformat(dob) if dob else None
    if born is not None:
        shown["date_of_birth"] = formats.date_format(born, "DATE_FORMAT")
    number = identity.get("birth_number")
    if number:
        shown["birth_number"] = f"{number[:6]}/{number[6:]}"
    age = plausibility.age_in_years(born) if born else None
    open_case = open_case_of_child(child=child)
    return render(
        request,
        "casework/child_detail.html",
        {
            "child_id": child.pk,
            "municipality": child.municipality.name,
            "identity": shown,
            "withheld": identity.withheld,
            "age": age,
            "representatives": representatives,
            # The case's reference only; whether the viewer may open the case page is decided there.
            "open_case": {"id": open_case.pk, "reference": open_case.reference} if open_case else None,
            "may_open_case": open_case is None and may_open_case(user, child),
        },
    )
