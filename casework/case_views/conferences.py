"""Case conferences (§ 14 of Act No. 359/1999 Coll.): the list, scheduling, the conference page and its actions.

What a viewer sees of a conference is its read model (``casework.selectors.conferences``): leads see everything and
write on an open case only; invited team members see the logistics; a member who is not invited gets an audited 403;
everyone else the same 404 as for a missing case. Sealed text reaches the template only through gate reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import MultipleChoiceField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from casework import services
from casework.case_forms import ConfirmForm
from casework.case_views.common import header, viewer
from casework.conference_forms import (
    ConferenceAddendumForm,
    ConferenceDecisionForm,
    ConferenceRecordForm,
    ConferenceRescheduleForm,
    ConferenceScheduleForm,
)
from casework.models import (
    Case,
    Conference,
    ConferenceStatus,
    DraftKind,
    KeptApartItem,
    Organisation,
    TeamMembership,
    User,
)
from casework.selectors.conferences import (
    conference_access,
    conference_disclosed,
    conference_logistics,
    conferences_visible,
)
from casework.selectors.drafts import draft_for
from casework.selectors.kept_apart import kept_apart_reason_of
from casework.services.drafts import draft_discard
from permissions.access import AccessedCase, access_case_by_id, access_case_object, require_case_lead


def _members(case: Case) -> list[User]:
    return [
        m.user for m in TeamMembership.objects.current().filter(case=case).select_related("user", "user__organisation")
    ]


def _owners(case: Case) -> tuple[list[tuple[str, str]], dict[str, User], dict[str, Organisation]]:
    users: dict[str, User] = {}
    organisations: dict[str, Organisation] = {}
    for member in _members(case):
        users[f"u:{member.pk}"] = member
        if member.organisation is not None:
            organisations[f"o:{member.organisation.pk}"] = member.organisation
    choices = [(key, u.display_name()) for key, u in users.items()]
    choices += [(key, o.name) for key, o in organisations.items()]
    return choices, users, organisations


@login_required
@require_http_methods(["GET", "POST"])
def conference_list(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Leads: every conference of the case; members: those they are invited to (logistics only). A POST (nothing to
    post here) answers like the page's access, then goes back to it."""
    user = viewer(request)
    case, access = access_case_by_id(user, case_id, purpose="case conferences")
    if request.method == "POST":
        return redirect("conference_list", case_id=case.pk)
    return render(
        request,
        "casework/conference_list.html",
        {
            "case": header(case, access),
            "conferences": conferences_visible(user=user, case=AccessedCase(case, access)),
            "may_schedule": access.may_manage,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def conference_schedule(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    case = access_case_by_id(user, case_id, purpose="schedule case conference").case
    access = require_case_lead(user, case, purpose="schedule case conference")
    form = ConferenceScheduleForm(request.POST or None, members=_members(case))
    if request.method == "POST" and form.is_valid():
        try:
            conference = services.conference_schedule(
                case=case,
                by=user,
                starts_at=form.cleaned_data["starts_at"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                place=form.cleaned_data["place"],
                online_link=form.cleaned_data["online_link"],
                members=form.chosen_members(),
                participants=form.participants(),
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The case conference was scheduled and the team members invited."))
            return redirect("conference_detail", case_id=case.pk, conference_id=conference.pk)
    return render(request, "casework/conference_schedule.html", {"case": header(case, access), "form": form})


def _conference(
    user: User, case_id: uuid.UUID, conference_id: uuid.UUID, purpose: str
) -> tuple[AccessedCase, Conference]:
    conference = Conference.objects.filter(pk=conference_id).first()
    accessed = access_case_object(user, case_id, conference, purpose=purpose)
    assert conference is not None
    conference.case = accessed.case
    return accessed, conference


def _detail(
    request: HttpRequest, accessed: AccessedCase, conference: Conference, user: User, **forms: Any
) -> HttpResponse:
    """The conference's read model rendered, with the lead's forms on top (a posted form keeps its errors)."""
    case = accessed.case
    view = conference_disclosed(user=user, case=accessed, conference=conference)
    context: dict[str, Any] = {
        "case": view.header,
        "conference": view.logistics,
        "is_lead": view.is_lead,
    }
    record = view.record
    if record is not None:
        record_form = forms.get("record")
        if record_form is None and view.may_record:
            record_form = ConferenceRecordForm(
                initial={
                    "child_participation": record.child_participation_value,
                    "minutes": record.minutes or "",
                    "kept_apart": kept_apart_reason_of(item_type=KeptApartItem.MINUTES, item_id=conference.pk),
                },
                invitees=[(invitee, invitee.name) for invitee in record.invitees],
            )
            # The lead's own unsent record (autosaved by static/js/forms.js) comes back over what was saved.
            draft = draft_for(user=user, case=accessed, kind=DraftKind.MINUTES, object_id=conference.pk)
            kept = {
                name: values if isinstance(record_form.fields[name], MultipleChoiceField) else values[0]
                for name, values in draft.items()
                if name in record_form.fields and values
            }
            record_form.initial.update(kept)
            context["record_draft_restored"] = bool(kept)
        decision_form = forms.get("decision")
        if decision_form is None and view.may_decide:
            decision_form = ConferenceDecisionForm(owners=_owners(case)[0])
        addendum_form = forms.get("addendum")
        if addendum_form is None and view.may_add_addendum:
            addendum_form = ConferenceAddendumForm()
        context.update(
            {
                "invitees": record.invitees,
                "minutes": record.minutes,
                "minutes_withheld": record.minutes_withheld,
                "child_participation": record.child_participation,
                "held_at": record.held_at,
                "signed_off_at": record.signed_off_at,
                "signed_off_by": record.signed_off_by,
                "decisions": record.decisions,
                "addenda": record.addenda,
                "record_form": record_form,
                "decision_form": decision_form,
                "addendum_form": addendum_form,
                "may_sign_off": view.may_sign_off,
                "may_cancel": view.may_cancel,
                "may_reschedule": view.may_reschedule,
            }
        )
    return render(request, "casework/conference_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def conference_detail(request: HttpRequest, case_id: uuid.UUID, conference_id: uuid.UUID) -> HttpResponse:
    """The conference: logistics for invited members, everything for leads. A POST goes back to the page."""
    user = viewer(request)
    accessed, conference = _conference(user, case_id, conference_id, "case conference")
    if request.method == "POST":
        conference_access(user=user, case=accessed, conference=conference, purpose="case conference")
        return _back(conference)
    return _detail(request, accessed, conference, user)


SIGN_OFF_CONFIRM = gettext_lazy(
    "I confirm: the record is final once signed off; corrections can only be added as addenda."
)


def _writing(
    request: HttpRequest, case_id: uuid.UUID, conference_id: uuid.UUID, purpose: str
) -> tuple[User, AccessedCase, Conference]:
    """The lead's writes: the case with the standing ``require_case_lead`` decided afresh (the page shown again
    after a refused form uses it)."""
    user = viewer(request)
    accessed, conference = _conference(user, case_id, conference_id, purpose)
    access = require_case_lead(user, accessed.case, purpose=purpose)
    return user, AccessedCase(accessed.case, access), conference


def _back(conference: Conference) -> HttpResponse:
    return redirect("conference_detail", case_id=conference.case_id, conference_id=conference.pk)


@login_required
@require_http_methods(["GET", "POST"])
def conference_record(request: HttpRequest, case_id: uuid.UUID, conference_id: uuid.UUID) -> HttpResponse:
    user, accessed, conference = _writing(request, case_id, conference_id, "record case conference")
    if request.method != "POST":
        return _back(conference)
    invitees = [(i, str(i.pk)) for i in conference.invitees.all()]
    form = ConferenceRecordForm(request.POST, invitees=invitees)
    if form.is_valid():
        try:
            services.conference_record(
                conference=conference,
                by=user,
                attendance=form.attendance(),
                child_participation=form.cleaned_data["child_participation"],
                minutes=form.cleaned_data["minutes"],
                kept_apart=form.cleaned_data["kept_apart"],
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            draft_discard(user=user, kind=DraftKind.MINUTES, object_id=conference.pk)
            messages.success(request, _("The record of the conference was saved."))
            return _back(conference)
    return _detail(request, accessed, conference, user, record=form)


@login_required
@require_http_methods(["GET", "POST"])
def conference_decision_add(request: HttpRequest, case_id: uuid.UUID, conference_id: uuid.UUID) -> HttpResponse:
    user, accessed, conference = _writing(request, case_id, conference_id, "add case conference decision")
    if request.method != "POST":
        return _back(conference)
    choices, users, organisations = _owners(accessed.case)
    form = ConferenceDecisionForm(request.POST, owners=choices)
    if form.is_valid():
        owner = form.cleaned_data["owner"]
        try:
            services.conference_decision_add(
                conference=conference,
                by=user,
                text=form.cleaned_data["text"],
                owner_user=users.get(owner),
                owner_organisation=organisations.get(owner),
                due_on=form.cleaned_data["due_on"],
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The decision was recorded."))
            return _back(conference)
    return _detail(request, accessed, conference, user, decision=form)


@login_required
@require_http_methods(["GET", "POST"])
def conference_sign_off(request: HttpRequest, case_id: uuid.UUID, conference_id: uuid.UUID) -> HttpResponse:
    """Signing off is irreversible (corrections become addenda): it happens only with the "I confirm" box ticked.
    Without it (or on GET) the confirmation page says what signing off means, with the box's error after a post."""
    user, accessed, conference = _writing(request, case_id, conference_id, "sign off case conference")
    form = ConfirmForm(request.POST if request.method == "POST" else None, label=str(SIGN_OFF_CONFIRM))
    if request.method == "POST" and form.is_valid():
        return _button(
            request,
            conference,
            lambda: services.conference_sign_off(conference=conference, by=user),
            _("The record was signed off; corrections are now made as addenda."),
        )
    return render(
        request,
        "casework/conference_sign_off.html",
        {
            "case": header(accessed.case, accessed.access),
            "conference": conference_logistics(conference),
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def conference_addendum_add(request: HttpRequest, case_id: uuid.UUID, conference_id: uuid.UUID) -> HttpResponse:
    user, accessed, conference = _writing(request, case_id, conference_id, "add case conference addendum")
    if request.method != "POST":
        return _back(conference)
    form = ConferenceAddendumForm(request.POST)
    if form.is_valid():
        try:
            services.conference_addendum_add(conference=conference, by=user, text=form.cleaned_data["text"])
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The addendum was added."))
            return _back(conference)
    return _detail(request, accessed, conference, user, addendum=form)


@login_required
@require_http_methods(["GET", "POST"])
def conference_cancel(request: HttpRequest, case_id: uuid.UUID, conference_id: uuid.UUID) -> HttpResponse:
    user, _case, conference = _writing(request, case_id, conference_id, "cancel case conference")
    return _button(
        request,
        conference,
        lambda: services.conference_cancel(conference=conference, by=user),
        _("The conference was cancelled and the invitees told."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def conference_reschedule(request: HttpRequest, case_id: uuid.UUID, conference_id: uuid.UUID) -> HttpResponse:
    """A new time, duration, place or link for a scheduled conference; the invitees get the updated invitation."""
    purpose = "reschedule case conference"
    user = viewer(request)
    accessed, conference = _conference(user, case_id, conference_id, purpose)
    case = accessed.case
    access = require_case_lead(user, case, purpose=purpose)
    if conference.status != ConferenceStatus.SCHEDULED:
        messages.error(request, _("Only a scheduled conference can be rescheduled."))
        return _back(conference)
    initial = {
        "starts_at": timezone.localtime(conference.starts_at),
        "duration_minutes": conference.duration_minutes,
        "place": conference.place,
        "online_link": conference.online_link,
    }
    form = ConferenceRescheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.conference_reschedule(
                conference=conference,
                by=user,
                starts_at=form.cleaned_data["starts_at"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                place=form.cleaned_data["place"],
                online_link=form.cleaned_data["online_link"],
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The conference was rescheduled and the invitees told."))
            return _back(conference)
    return render(
        request,
        "casework/conference_reschedule.html",
        {"case": header(case, access), "conference": conference_logistics(conference), "form": form},
    )


def _button(request: HttpRequest, conference: Conference, action: Callable[[], object], done: str) -> HttpResponse:
    """A one-button action (sign off, cancel): on POST run the service; its errors become page messages."""
    if request.method == "POST":
        try:
            action()
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, done)
    return _back(conference)
