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
from django.views.decorators.http import require_http_methods, require_POST

from casework import plausibility
from casework.forms import AddBirthNumberForm, BirthNumberSearchForm, ChildRegistrationForm, RepresentativeFormSet
from casework.models import Child, ChildMerge, ChildMergeStatus, LegalRepresentative, User
from casework.selectors import child_find_by_birth_number, child_representatives, children_registered_by
from casework.selectors.cases import open_case_of_child
from casework.selectors.children import child_merges_pending
from casework.selectors.identity import child_possible_duplicates
from casework.services import (
    RepresentativeInput,
    child_add_birth_number,
    child_create,
    child_merge_decide,
    child_merge_propose,
)
from casework.views import shell_page
from permissions import gate
from permissions.access import access_child_by_id, may_see_child
from permissions.policy import Subject, may_add_birth_number, may_open_case, may_search_register

CHILD_FIELDS = ["given_name", "family_name", "date_of_birth", "birth_number", "address", "other_identifiers"]
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
    return render(
        request,
        "casework/child_search.html",
        {"form": form, "not_found": not_found, "recent": recent, "merges": _merges_for(user)},
    )


def _merges_for(user: User) -> list[dict[str, Any]]:
    """Merges waiting for a decision, for the supervisors who decide them — of their own authority and of one whose
    absent supervisor they stand in for (ids and dates; names are on the child pages)."""
    authorities = Subject.from_user(user).supervised_ids()
    if not authorities:
        return []
    return [
        {
            "id": merge.pk,
            "source_id": merge.source_id,
            "target_id": merge.target_id,
            "ground": merge.get_ground_display(),
            "proposed_by": merge.proposed_by.display_name(),
            "proposed_at": merge.proposed_at,
            "own": merge.proposed_by_id == user.pk,
        }
        for merge in child_merges_pending(municipality_ids=authorities)
    ]


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
            RepresentativeInput(
                relation=f["relation"],
                full_name=f["full_name"],
                contact=f.get("contact", ""),
                parental_responsibility=bool(f.get("parental_responsibility")),
            )
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
                date_of_birth_estimated=bool(form.cleaned_data.get("date_of_birth_estimated")),
                other_identifiers=form.cleaned_data.get("other_identifiers") or "",
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
    return child_detail_page(request, user, child)


def child_detail_page(
    request: HttpRequest,
    user: User,
    child: Child,
    *,
    birth_number_form: AddBirthNumberForm | None = None,
    merge_error: str = "",
) -> HttpResponse:
    identity = gate.read(user, child, CHILD_FIELDS, purpose="child page")
    reps: list[LegalRepresentative] = child_representatives(child=child)
    rep_disclosures = gate.read_rows(user, child, reps, REPRESENTATIVE_FIELDS, purpose="child page")
    representatives = [
        {
            "relation": rep.get_relation_display(),
            "values": disclosure.values,
            "withheld": disclosure.withheld,
            "parental_responsibility": rep.parental_responsibility,
        }
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
    duplicates = child_possible_duplicates(user=user, child=child)
    return render(
        request,
        "casework/child_detail.html",
        {
            "child_id": child.pk,
            "municipality": child.municipality.name,
            "identity": shown,
            "withheld": identity.withheld,
            "age": age,
            "estimated": child.date_of_birth_estimated,
            "representatives": representatives,
            # The case's reference only; whether the viewer may open the case page is decided there.
            "open_case": {"id": open_case.pk, "reference": open_case.reference} if open_case else None,
            "may_open_case": open_case is None and child.merged_into_id is None and may_open_case(user, child),
            "merged_into": child.merged_into_id,
            "merged_from": list(child.merged_from.values_list("pk", flat=True)),
            "may_add_birth_number": child.birth_number_index is None
            and child.merged_into_id is None
            and may_add_birth_number(user, child),
            "birth_number_form": birth_number_form or AddBirthNumberForm(),
            "duplicates": [{"id": d.pk, "created_at": d.created_at} for d in duplicates],
            "may_propose_merge": child.birth_number_index is None and child.merged_into_id is None,
            "merges": [m for m in _merges_for(user) if child.pk in (m["source_id"], m["target_id"])],
            "merge_error": merge_error,
        },
    )


@login_required
@require_POST
def child_add_birth_number_view(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    """Add the birth number of a child registered without one; a duplicate offers a merge for a supervisor."""
    user = _register_user(request)
    child: Child = access_child_by_id(user, child_id, purpose="add birth number")
    form = AddBirthNumberForm(request.POST)
    if form.is_valid():
        try:
            result = child_add_birth_number(child=child, birth_number=form.cleaned_data["birth_number"], by=user)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for message in errors:
                    form.add_error("birth_number" if field not in form.fields else field, message)
        else:
            if result.recorded:
                messages.success(request, _("The birth number was added."))
            else:
                messages.warning(
                    request,
                    _(
                        "Another entry of the register has this birth number: it is probably the same child. A merge "
                        "of the two entries was proposed; a supervisor decides it."
                    ),
                )
            return redirect("child_detail", child_id=child.pk)
    return child_detail_page(request, user, child, birth_number_form=form)


@login_required
@require_POST
def child_merge_propose_view(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    """Propose that this entry (without a birth number) and a possible duplicate are one child."""
    user = _register_user(request)
    child: Child = access_child_by_id(user, child_id, purpose="propose merge of register entries")
    target_id = request.POST.get("target", "")
    target = next((d for d in child_possible_duplicates(user=user, child=child) if str(d.pk) == target_id), None)
    if target is None:
        raise Http404
    try:
        child_merge_propose(source=child, target=target, by=user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        return child_detail_page(request, user, child, merge_error=" ".join(exc.messages))
    messages.success(request, _("The merge was proposed; a supervisor decides it."))
    return redirect("child_detail", child_id=child.pk)


@login_required
@require_POST
def child_merge_decide_view(request: HttpRequest, merge_id: int) -> HttpResponse:
    """A supervisor (not the proposer) approves or rejects a merge of two register entries."""
    user = _register_user(request)
    merge = ChildMerge.objects.filter(pk=merge_id).first()
    if merge is None:
        raise Http404
    try:
        decided = child_merge_decide(merge=merge, by=user, approve=request.POST.get("decision") == "approve")
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("child_detail", child_id=merge.source_id)
    if decided.status == ChildMergeStatus.APPROVED:
        messages.success(request, _("The entries were merged; both histories are kept."))
        return redirect("child_detail", child_id=decided.target_id)
    messages.success(request, _("The merge was rejected: the entries stay apart."))
    return redirect("child_detail", child_id=decided.source_id)
