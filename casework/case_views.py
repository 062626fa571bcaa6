"""The case pages: the list, opening a case, the case page, notes, the team, handover, sharing, consents, closing.

Thin views. Every page that names a case starts with ``access_case_by_id`` (or ``access_case_object`` for an object
of a case), which answers the same 404 for a case that does not exist and one that is not the viewer's. What the
viewer may do is asked of the ``CaseAccess`` decision (``permissions.policy``); a page the viewer sees the case for
but may not use answers 403 after an audited refusal. Protected values reach the templates only as plain values the
gate disclosed; protected text travels in POST bodies only, never in URLs, messages or redirects.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from casework import services
from casework.case_forms import (
    CaseCloseForm,
    CaseNoteForm,
    CaseOpenForm,
    ConsentForm,
    ConsentWithdrawForm,
    HandoverForm,
    ShareForm,
    TeamMemberAddForm,
    TeamMemberEndForm,
    consent_label,
    note_label,
    person_label,
)
from casework.compartments import Compartment
from casework.models import NOTE_COMPARTMENTS, Case, CaseNote, TeamMembership, User
from casework.selectors.cases import case_memberships, case_notes, coordinator_history, open_case_of_child
from casework.selectors.lists import CaseFilters, Scope, case_list_for_user
from casework.views import shell_page
from permissions import gate, sharing
from permissions.access import (
    access_case_by_id,
    access_case_object,
    access_child_by_id,
    case_access_of,
    load_case_access,
    refuse,
)
from permissions.models import Consent, Share
from permissions.policy import CaseAccess, Relationship, Subject

CHILD_BASICS = ["given_name", "family_name", "date_of_birth"]


# --- Helpers: the viewer, their standing, plain view-models -------------------------------------------------------


def _viewer(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise Http404
    return request.user


def _managing(user: User, case: Case, *, purpose: str, closing: bool = False) -> CaseAccess:
    """The viewer's access if they may manage the case (team, handover, sharing; closing); else an audited 403."""
    access = case_access_of(user, case)
    if not (access.may_close if closing else access.may_manage):
        raise refuse(user, case, purpose=purpose)
    return access


def _age(born: datetime.date) -> int:
    today = timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True)
class ChildBasics:
    name: str
    age: int | None
    withheld: bool


def _child_basics(disclosure: gate.Disclosure) -> ChildBasics:
    name = " ".join(filter(None, [disclosure.get("given_name"), disclosure.get("family_name")]))
    born = disclosure.get("date_of_birth")
    return ChildBasics(
        name=name,
        age=_age(datetime.date.fromisoformat(born)) if born else None,
        withheld=bool(disclosure.withheld),
    )


def _relation(access: CaseAccess) -> str:
    if access.is_coordinator:
        return _("coordinator")
    if access.is_lead:
        return _("supervisor")
    if access.relationship is Relationship.TEAM_MEMBER:
        return _("team member")
    return ""


def _header(case: Case, access: CaseAccess) -> dict[str, Any]:
    """The case's header: only columns of the case and rows ``case_get`` loaded with it."""
    return {
        "id": case.pk,
        "reference": case.reference,
        "is_open": case.is_open,
        "status": case.get_status_display(),
        "opened_at": case.opened_at,
        "open_reason": case.get_open_reason_display(),
        "closed_at": case.closed_at,
        "close_reason": case.get_close_reason_display() if case.close_reason else "",
        "coordinator": case.coordinator.get_full_name() or case.coordinator.username,
        "authority": case.municipality.name,
        "relation": _relation(access),
    }


@dataclass(frozen=True)
class MemberRow:
    id: uuid.UUID
    name: str
    organisation: str
    sector: str
    role: str
    valid_from: datetime.date
    valid_until: datetime.date | None
    ended_at: datetime.datetime | None
    end_reason: str
    #: Not ended and not past the last day (it may start later).
    ongoing: bool


def _member_row(m: TeamMembership, today: datetime.date) -> MemberRow:
    organisation = m.user.organisation
    return MemberRow(
        id=m.pk,
        name=m.user.get_full_name() or m.user.username,
        organisation=organisation.name if organisation else "",
        sector=organisation.get_sector_display() if organisation else "",
        role=str(m.team_role),
        valid_from=m.valid_from,
        valid_until=m.valid_until,
        ended_at=m.ended_at,
        end_reason=m.get_end_reason_display() if m.end_reason else "",
        ongoing=m.ended_at is None and (m.valid_until is None or m.valid_until >= today),
    )


def _member_rows(memberships: Sequence[TeamMembership]) -> tuple[list[MemberRow], list[MemberRow]]:
    """(the team now and to come, past members): ended, or past their last day."""
    today = timezone.localdate()
    rows = [_member_row(m, today) for m in memberships]
    return [r for r in rows if r.ongoing], [r for r in rows if not r.ongoing]


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
                "author": note.author.get_full_name() or note.author.username,
                "organisation": note.author_organisation.name if note.author_organisation else "",
                "text": disclosure.get("text") or "",
                "shared": not section.whole and (note._meta.label_lower, str(note.pk)) in shared_items,
            }
        )
    return list(sections.values())


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
    """One selector query and one batched gate read (which decides access for all rows at once and leaves each
    decision on its case): a fixed number of queries."""
    user = _viewer(request)
    scopes, default = _scopes(user)
    scope = next((s for s in scopes if s.value == request.GET.get("scope")), default)
    status = request.GET.get("status", "open")
    if status not in {value for value, _label in STATUS_CHOICES}:
        status = "open"
    query = " ".join(request.GET.get("q", "").split())[:40]
    filters = CaseFilters(scope=scope, status="" if status == "all" else status, reference=query)
    cases = list(case_list_for_user(user=user, filters=filters))
    children = gate.read_case_children(user, cases, CHILD_BASICS, purpose="case list")
    rows = [
        {
            "id": case.pk,
            "reference": case.reference,
            "child": _child_basics(disclosure),
            "is_open": case.is_open,
            "status": case.get_status_display(),
            "opened_at": case.opened_at,
            "coordinator": case.coordinator.get_full_name() or case.coordinator.username,
            "relation": _relation(case_access_of(user, case)),
        }
        for case, disclosure in zip(cases, children, strict=True)
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
    user = _viewer(request)
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
            "child_name": " ".join(filter(None, [identity.get("given_name"), identity.get("family_name")])),
            "existing": {"id": existing.pk, "reference": existing.reference} if existing else None,
        },
    )


# --- The case page ------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """A fixed number of queries whatever the size of the team and the file: each list is one query, each gate read
    one audit write. POST is refused only after the access check, so every case URL answers 404 to whoever may not
    see the case, whatever the method."""
    user = _viewer(request)
    case = access_case_by_id(user, case_id, purpose="case page")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    access = case_access_of(user, case)
    child = gate.read_case(user, case, [case.child], CHILD_BASICS, purpose="case page")[0]
    current, past = _member_rows(case_memberships(case=case))
    notes = case_notes(case=case)
    texts = gate.read_case(user, case, notes, ["text"], purpose="case page")
    return render(
        request,
        "casework/case_detail.html",
        {
            "case": _header(case, access),
            "child": _child_basics(child),
            "child_id": case.child_id if access.is_lead else None,
            "members": current,
            "past_members": past if access.is_lead else [],
            "sections": _note_sections(access, notes, texts),
            "may_write": bool(access.note_compartments()),
            "may_manage": access.may_manage,
            "may_close": access.may_close,
            "read_only": access.read_only,
        },
    )


# --- Notes --------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_note_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _viewer(request)
    case = access_case_by_id(user, case_id, purpose="write case note")
    compartments = case_access_of(user, case).note_compartments()
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
    header = _header(case, case_access_of(user, case))
    return render(request, "casework/case_note_form.html", {"case": header, "form": form})


# --- The team -----------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_team(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _viewer(request)
    case = access_case_by_id(user, case_id, purpose="case team")
    access = _managing(user, case, purpose="case team")
    form = TeamMemberAddForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_member_add(
                case=case,
                user=form.cleaned_data["user"],
                team_role=form.cleaned_data["team_role"],
                valid_from=form.cleaned_data["valid_from"],
                valid_until=form.cleaned_data["valid_until"],
                added_by=user,
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The member was added to the team."))
            return redirect("case_team", case_id=case.pk)
    current, past = _member_rows(case_memberships(case=case))
    return render(
        request,
        "casework/case_team.html",
        {"case": _header(case, access), "form": form, "members": current, "past_members": past},
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_member_end(request: HttpRequest, case_id: uuid.UUID, membership_id: uuid.UUID) -> HttpResponse:
    user = _viewer(request)
    membership = (
        TeamMembership.objects.select_related("user__organisation", "team_role").filter(pk=membership_id).first()
    )
    case = access_case_object(user, case_id, membership, purpose="end team membership")
    assert membership is not None
    access = _managing(user, case, purpose="end team membership")
    membership.case = case
    form = TeamMemberEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_member_end(membership=membership, ended_by=user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The membership was ended; the member's access to the case has ended."))
            return redirect("case_team", case_id=case.pk)
    return render(
        request,
        "casework/case_member_end.html",
        {
            "case": _header(case, access),
            "form": form,
            "member": _member_row(membership, timezone.localdate()),
            "member_name": person_label(membership.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_handover(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _viewer(request)
    case = access_case_by_id(user, case_id, purpose="hand over case")
    access = _managing(user, case, purpose="hand over case")
    form = HandoverForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.coordinator_handover(
                case=case, to=form.cleaned_data["coordinator"], by=user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The case %(reference)s was handed over.") % {"reference": case.reference})
            if load_case_access(user, case).visible:
                return redirect("case_detail", case_id=case.pk)
            return redirect("case_list")  # the former coordinator no longer sees the case
    history = [
        {
            "coordinator": a.coordinator.get_full_name() or a.coordinator.username,
            "assigned_at": a.assigned_at,
            "ended_at": a.ended_at,
            "assigned_by": a.assigned_by.get_full_name() or a.assigned_by.username,
            "reason": a.get_reason_display(),
        }
        for a in coordinator_history(case=case)
    ]
    return render(
        request, "casework/case_handover.html", {"case": _header(case, access), "form": form, "history": history}
    )


# --- Sharing and consents -----------------------------------------------------------------------------------------


def _share_state(share: Share, today: datetime.date) -> tuple[str, str]:
    if share.revoked_at is not None:
        return "revoked", _("revoked")
    if share.consent is not None and share.consent.is_withdrawn:
        return "withdrawn", _("agreement withdrawn")
    if share.valid_until < today:
        return "expired", _("expired")
    return "in_force", _("in force")


def _share_rows(shares: Sequence[Share], notes: dict[str, CaseNote]) -> list[dict[str, Any]]:
    today = timezone.localdate()
    rows = []
    for share in shares:
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
                "purpose": share.purpose,
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


def _consent_rows(user: User, case: Case, consents: Sequence[Consent]) -> list[dict[str, Any]]:
    """Consents with the sealed name of who agreed, disclosed through the gate (one audited read)."""
    names = gate.read_case(user, case, consents, ["given_by_name"], purpose="case sharing")
    return [
        _consent_row(consent, disclosure.get("given_by_name") or "")
        for consent, disclosure in zip(consents, names, strict=True)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def case_sharing(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _viewer(request)
    case = access_case_by_id(user, case_id, purpose="case sharing")
    access = _managing(user, case, purpose="case sharing")
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
    shares = list(
        Share.objects.filter(case=case)
        .select_related("recipient_user__organisation", "recipient_organisation", "consent")
        .order_by("-granted_at")
    )
    return render(
        request,
        "casework/case_sharing.html",
        {
            "case": _header(case, access),
            "form": form,
            "shares": _share_rows(shares, {str(n.pk): n for n in notes}),
            "consents": _consent_rows(user, case, consents),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_revoke(request: HttpRequest, case_id: uuid.UUID, share_id: uuid.UUID) -> HttpResponse:
    user = _viewer(request)
    share = (
        Share.objects.select_related("recipient_user__organisation", "recipient_organisation", "consent")
        .filter(pk=share_id)
        .first()
    )
    case = access_case_object(user, case_id, share, purpose="revoke share")
    assert share is not None
    access = _managing(user, case, purpose="revoke share")
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
        {"case": _header(case, access), "share": _share_rows([share], notes)[0]},
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _viewer(request)
    case = access_case_by_id(user, case_id, purpose="record consent")
    access = _managing(user, case, purpose="record consent")
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
    return render(request, "casework/case_consent_form.html", {"case": _header(case, access), "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, case_id: uuid.UUID, consent_id: uuid.UUID) -> HttpResponse:
    user = _viewer(request)
    consent = Consent.objects.filter(pk=consent_id).first()
    case = access_case_object(user, case_id, consent, purpose="withdraw consent")
    assert consent is not None
    access = _managing(user, case, purpose="withdraw consent")
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
            "case": _header(case, access),
            "form": form,
            # Without the name of who agreed: the sharing page is the one place that discloses it.
            "consent": _consent_row(consent),
        },
    )


# --- Closing ------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_close(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _viewer(request)
    case = access_case_by_id(user, case_id, purpose="close case")
    access = _managing(user, case, purpose="close case", closing=True)
    form = CaseCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_close(case=case, closed_by=user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The case %(reference)s was closed.") % {"reference": case.reference})
            return redirect("case_detail", case_id=case.pk)
    return render(request, "casework/case_close.html", {"case": _header(case, access), "form": form})
