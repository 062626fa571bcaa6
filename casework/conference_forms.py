"""Forms of the case conference pages. They parse input; ``casework.services.conferences`` validates the rules
(future start, current members, owner with a due date, immutability after sign-off) and its errors come back onto
the fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django import forms
from django.utils.translation import gettext_lazy as _

from casework import plausibility
from casework.case_forms import CaseForm, kept_apart_field
from casework.models import Attendance, ChildParticipation, ParticipantRelation, User
from casework.services.conferences import ADDENDUM_MAX, DECISION_MAX, MINUTES_MAX, ParticipantInput

PARTICIPANT_SLOTS = 3


class ConferenceLogisticsForm(CaseForm):
    """When, how long, where: the part of a conference that travels in the invitations (rescheduling edits it)."""

    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), initial=90)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    online_link = forms.URLField(label=_("Online link"), max_length=500, required=False, assume_scheme="https")


class ConferenceScheduleForm(ConferenceLogisticsForm):
    service_fields = {"participants": "participant_1_name"}

    members = forms.MultipleChoiceField(
        label=_("Team members to invite"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: object, members: Sequence[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.member_users = {str(m.pk): m for m in members}
        self.fields["members"].choices = [(str(m.pk), m.display_name()) for m in members]  # type: ignore[attr-defined]
        for n in range(1, PARTICIPANT_SLOTS + 1):
            self.fields[f"participant_{n}_name"] = forms.CharField(
                label=_("Participant without an account: name"), max_length=200, required=False
            )
            self.fields[f"participant_{n}_relation"] = forms.ChoiceField(
                label=_("Relation to the child"), choices=[("", "—"), *ParticipantRelation.choices], required=False
            )
            self.fields[f"participant_{n}_email"] = forms.CharField(
                label=_("E-mail (optional)"), max_length=254, required=False
            )

    def chosen_members(self) -> list[User]:
        return [self.member_users[key] for key in self.cleaned_data["members"]]

    def participants(self) -> list[ParticipantInput]:
        found = []
        for n in range(1, PARTICIPANT_SLOTS + 1):
            name = self.cleaned_data.get(f"participant_{n}_name", "")
            relation = self.cleaned_data.get(f"participant_{n}_relation", "")
            email = self.cleaned_data.get(f"participant_{n}_email", "")
            if name or relation or email:
                found.append(ParticipantInput(name=name, relation=relation, email=email))
        return found


class ConferenceRescheduleForm(ConferenceLogisticsForm):
    """A new time, duration, place or link for a scheduled conference; the service checks it like scheduling."""


class InviteeAttendance(Protocol):
    """An invitee as the record form needs it: an invitee row, or the read model's ``InviteeRow``."""

    @property
    def pk(self) -> Any: ...

    @property
    def attendance(self) -> str: ...


class ConferenceRecordForm(CaseForm):
    child_participation = forms.ChoiceField(
        label=_("The child's participation"), choices=[("", "—"), *ChildParticipation.choices]
    )
    minutes = forms.CharField(label=_("Minutes"), max_length=MINUTES_MAX, widget=forms.Textarea(attrs={"rows": 12}))
    kept_apart = kept_apart_field(
        _("Keep the minutes apart when they hold what § 55(2) protects; leaving this empty later keeps a mark.")
    )

    def __init__(self, *args: object, invitees: Sequence[tuple[InviteeAttendance, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.invitee_ids = [str(invitee.pk) for invitee, _label in invitees]
        for invitee, label in invitees:
            self.fields[f"attendance_{invitee.pk}"] = forms.ChoiceField(
                label=label, choices=Attendance.choices, initial=invitee.attendance
            )

    def attendance(self) -> dict[str, str]:
        return {key: self.cleaned_data[f"attendance_{key}"] for key in self.invitee_ids}


class ConferenceDecisionForm(CaseForm):
    text = forms.CharField(label=_("Decision"), max_length=DECISION_MAX, widget=forms.Textarea(attrs={"rows": 4}))
    owner = forms.ChoiceField(label=_("Owner (for an action)"), required=False)
    due_on = forms.DateField(
        label=_("Due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[plausibility.validate_due_date],
    )

    def __init__(self, *args: object, owners: Sequence[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["owner"].choices = [("", "—"), *owners]  # type: ignore[attr-defined]


class ConferenceAddendumForm(CaseForm):
    text = forms.CharField(label=_("Addendum"), max_length=ADDENDUM_MAX, widget=forms.Textarea(attrs={"rows": 4}))
