"""Forms of the case pages. They parse and shape input; the services validate the domain rules.

Every select offers only what the service would accept (eligible people, standing consents, this case's notes); a
tampered value fails the field's own choice check ("Select a valid choice") before any service runs. What the
service still refuses comes back onto the fields through :meth:`CaseForm.apply_service_errors`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from casework import plausibility
from casework.compartments import Compartment
from casework.models import (
    OSPOD_ROLES,
    Case,
    CaseNote,
    HandoverReason,
    KeptApartReason,
    MembershipEndReason,
    OpenReason,
    Organisation,
    Role,
    Sector,
    TeamMembership,
    TeamRole,
    User,
)
from casework.services.cases import NOTE_MAX
from permissions.models import CONSENT_COMPARTMENTS, Consent, ConsentGiver
from permissions.policy import SHAREABLE_COMPARTMENTS, SHAREABLE_ITEM_COMPARTMENTS
from permissions.sharing import NAME_MAX, PURPOSE_MAX


class DateInput(forms.DateInput):
    """A browser date picker; its value must be ISO 8601 whatever the language (initial values included)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def person_label(user: User) -> str:
    """A person as a select or a table shows them: name, then organisation (loaded with the user)."""
    name = user.display_name()
    return f"{name} ({user.organisation})" if user.organisation is not None else name


def short_date(day: datetime.date | datetime.datetime) -> str:
    if isinstance(day, datetime.datetime):
        day = timezone.localdate(day)
    return formats.date_format(day, "SHORT_DATE_FORMAT")


if TYPE_CHECKING:
    _UserChoiceField = forms.ModelChoiceField[User]
else:  # Django's form fields are not subscriptable at run time
    _UserChoiceField = forms.ModelChoiceField


class PersonChoiceField(_UserChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return person_label(obj)


class CaseForm(forms.Form):
    """A form whose fields carry the service's field-level errors.

    ``service_fields`` maps a service's error key to the form field it belongs to when the names differ (the share
    form's ``item`` answers for the service's ``note`` and ``compartment``).
    """

    service_fields: Mapping[str, str] = {}

    def apply_service_errors(self, error: ValidationError) -> None:
        """Attach the service's errors to the fields; errors about no field of this form go to the whole form."""
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        for key, messages in error.message_dict.items():
            field = self.service_fields.get(key, key)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)

    def add_service_errors_to_clean_fields(self, errors: Mapping[str, Sequence[str]]) -> None:
        """After the form's own checks failed: add the service's messages for the fields that parsed, so all the
        problems show at once. A field with its own error keeps only that (the service saw it as empty)."""
        for key, messages in errors.items():
            field = self.service_fields.get(key, key)
            if field not in self.fields or field in self.errors:
                continue
            for message in messages:
                self.add_error(field, message)


def confirm_field(label: Any) -> forms.BooleanField:
    """The "I confirm" checkbox of an irreversible action: nothing changes until it is ticked, and an unticked
    submit comes back with this field's error (no JavaScript needed)."""
    return forms.BooleanField(
        label=label,
        required=True,
        error_messages={"required": _("Tick this box to confirm: this step cannot be undone.")},
    )


class ConfirmForm(CaseForm):
    """Only the confirmation of an irreversible action (signing off a conference's record)."""

    def __init__(self, *args: Any, label: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["confirm"] = confirm_field(label)


def kept_apart_field(help_text: Any = "") -> forms.ChoiceField:
    """The § 55(2) field of a form that writes an item: empty, or why the item is kept apart from what a parent or
    the child may inspect (``casework.models.KeptApartReason``)."""
    return forms.ChoiceField(
        label=_("Kept apart from file inspection (§ 55(2))"),
        choices=[("", _("No: part of the file parents may inspect")), *KeptApartReason.choices],
        required=False,
        help_text=help_text,
    )


# --- Opening and closing ------------------------------------------------------------------------------------------


def authority_staff(municipality_id: int) -> QuerySet[User]:
    """Active OSPOD workers and supervisors of one authority: the people who may coordinate its cases."""
    return (
        User.objects.filter(
            is_active=True,
            role__in=list(OSPOD_ROLES),
            organisation__sector=Sector.OSPOD,
            organisation__municipality_id=municipality_id,
        )
        .select_related("organisation")
        .order_by("last_name", "first_name", "username")
    )


class CaseOpenForm(CaseForm):
    coordinator = PersonChoiceField(label=_("Coordinator"), queryset=User.objects.none(), empty_label=None)
    reason = forms.ChoiceField(label=_("Why is the case opened?"), choices=[("", "—"), *OpenReason.choices])

    def __init__(self, *args: Any, municipality_id: int, current_user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = authority_staff(municipality_id)
        field = self.fields["coordinator"]
        assert isinstance(field, PersonChoiceField)
        field.queryset = staff
        if current_user.pk in {user.pk for user in staff}:
            field.initial = current_user.pk


# --- Notes --------------------------------------------------------------------------------------------------------


class CaseNoteForm(CaseForm):
    compartment = forms.ChoiceField(label=_("Part of the file"))
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Notes cannot be edited later; to correct one, write another."),
    )
    kept_apart = kept_apart_field(
        _(
            "In the child's voice: leave empty for what the child said for the plan (IPOD), which the parents may "
            "read; choose the first reason for what the child said without the legal representative present."
        )
    )

    def __init__(self, *args: Any, compartments: Sequence[Compartment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["compartment"]
        assert isinstance(field, forms.ChoiceField)
        choices = [(c.value, c.label) for c in compartments]
        if len(choices) == 1:
            field.choices = choices
            field.initial = choices[0][0]
        else:
            field.choices = [("", "—"), *choices]


# --- The team -----------------------------------------------------------------------------------------------------


def team_candidates(case: Case) -> QuerySet[User]:
    """Who may be added to the case's team: active partners of any organisation and OSPOD workers of the case's
    authority, without the coordinator and the people already on the team; by organisation, then name."""
    on_team = TeamMembership.objects.filter(case=case, ended_at__isnull=True).values("user_id")
    partners = Q(role=Role.PARTNER, organisation__isnull=False) & ~Q(organisation__sector=Sector.OSPOD)
    ospod_workers = Q(
        role=Role.OSPOD_WORKER, organisation__sector=Sector.OSPOD, organisation__municipality_id=case.municipality_id
    )
    return (
        User.objects.filter(is_active=True)
        .filter(partners | ospod_workers)
        .exclude(pk=case.coordinator_id)
        .exclude(pk__in=on_team)
        .select_related("organisation")
        .order_by("organisation__name", "last_name", "first_name", "username")
    )


class TeamMemberAddForm(CaseForm):
    user = PersonChoiceField(label=_("Person"), queryset=User.objects.none(), empty_label="—")
    team_role = forms.ModelChoiceField(
        label=_("Role on the case"), queryset=TeamRole.objects.filter(is_active=True), empty_label="—"
    )
    valid_from = forms.DateField(label=_("Member from"), widget=DateInput, initial=timezone.localdate)
    valid_until = forms.DateField(
        label=_("Member until (last day)"),
        widget=DateInput,
        required=False,
        help_text=_("Leave empty for an open-ended membership."),
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, PersonChoiceField)
        field.queryset = team_candidates(case)
        self.case_opened_on = plausibility.case_opened_on(case.opened_at)

    def clean_valid_from(self) -> datetime.date | None:
        value: datetime.date | None = self.cleaned_data.get("valid_from")
        problem = plausibility.case_day_problem(value, self.case_opened_on) if value is not None else None
        if problem is not None:
            raise forms.ValidationError(problem)
        return value


class TeamMemberEndForm(CaseForm):
    reason = forms.ChoiceField(
        label=_("Why does the membership end?"),
        choices=[("", "—"), *((v, x) for v, x in MembershipEndReason.choices if v != MembershipEndReason.CASE_CLOSED)],
    )
    confirm = confirm_field(
        _("I confirm: the member loses access to the case now, and the membership cannot be started again.")
    )


class HandoverForm(CaseForm):
    coordinator = PersonChoiceField(label=_("New coordinator"), queryset=User.objects.none(), empty_label="—")
    reason = forms.ChoiceField(
        label=_("Why is the case handed over?"),
        choices=[("", "—"), *((v, lbl) for v, lbl in HandoverReason.choices if v != HandoverReason.ASSIGNED)],
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["coordinator"]
        assert isinstance(field, PersonChoiceField)
        field.queryset = authority_staff(case.municipality_id).exclude(pk=case.coordinator_id)


# --- Sharing and consents -----------------------------------------------------------------------------------------


def note_label(note: CaseNote) -> str:
    """A note as a select or a table names it: date, compartment and author, never its text."""
    author = note.author.display_name()
    return str(
        _("Note of %(date)s, %(compartment)s, by %(author)s")
        % {"date": short_date(note.created_at), "compartment": Compartment(note.compartment).label, "author": author}
    )


def consent_label(consent: Consent) -> str:
    """A consent as a select names it: scope, who agreed and when (the name is sealed and stays out)."""
    return str(
        _("%(scope)s: %(giver)s, agreed on %(date)s")
        % {
            "scope": Compartment(consent.compartment).label,
            "giver": consent.get_given_by_display(),
            "date": short_date(consent.given_on),
        }
    )


class ShareForm(CaseForm):
    """Grant a share: one recipient (a member or an organisation on the team), one thing (a compartment or a note).

    Values are ``user:<id>`` / ``org:<id>`` and ``compartment:<name>`` / ``note:<uuid>``; the view maps them back to
    the rows it offered, so a value that was not offered never reaches the service.
    """

    service_fields = {"note": "item", "compartment": "item"}

    recipient = forms.ChoiceField(label=_("Share with"))
    item = forms.ChoiceField(label=_("What to share"))
    purpose = forms.CharField(label=_("Purpose"), max_length=PURPOSE_MAX, help_text=_("Why the recipient needs it."))
    valid_until = forms.DateField(label=_("Shared until (last day)"), widget=DateInput)
    consent = forms.ChoiceField(
        label=_("Agreement"),
        required=False,
        help_text=_("Needed for health information and the child's voice."),
    )

    def __init__(
        self,
        *args: Any,
        members: Iterable[TeamMembership],
        notes: Iterable[CaseNote],
        consents: Iterable[Consent],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.users: dict[str, User] = {}
        self.organisations: dict[str, Organisation] = {}
        for membership in members:
            user = membership.user
            self.users[f"user:{user.pk}"] = user
            if user.organisation is not None:
                self.organisations[f"org:{user.organisation.pk}"] = user.organisation
        self.notes: dict[str, CaseNote] = {
            f"note:{note.pk}": note for note in notes if note.compartment in SHAREABLE_ITEM_COMPARTMENTS
        }
        self.compartments: dict[str, Compartment] = {
            f"compartment:{c.value}": c for c in Compartment if c in SHAREABLE_COMPARTMENTS
        }
        self.consents: dict[str, Consent] = {str(c.pk): c for c in consents if not c.is_withdrawn}

        self._choices(
            "recipient",
            [
                (_("Team members"), [(key, person_label(user)) for key, user in self.users.items()]),
                (
                    _("Organisations (their members on the team)"),
                    [(key, str(org)) for key, org in sorted(self.organisations.items(), key=lambda kv: kv[1].name)],
                ),
            ],
        )
        self._choices(
            "item",
            [
                (_("A whole part of the file"), [(key, str(c.label)) for key, c in self.compartments.items()]),
                (_("One note"), [(key, note_label(note)) for key, note in self.notes.items()]),
            ],
        )
        consent = self.fields["consent"]
        assert isinstance(consent, forms.ChoiceField)
        consent.choices = [("", "—"), *((key, consent_label(c)) for key, c in self.consents.items())]

    def _choices(self, name: str, groups: list[tuple[Any, list[tuple[str, str]]]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *((label, options) for label, options in groups if options)]

    def share_arguments(self) -> dict[str, Any]:
        """The service's keyword arguments for the cleaned data (call after ``is_valid()``)."""
        data = self.cleaned_data
        recipient, item = data["recipient"], data["item"]
        return {
            "recipient_user": self.users.get(recipient),
            "recipient_organisation": self.organisations.get(recipient),
            "compartment": self.compartments[item].value if item in self.compartments else "",
            "note": self.notes.get(item),
            "purpose": data["purpose"],
            "valid_until": data["valid_until"],
            "consent": self.consents.get(data.get("consent") or ""),
        }


class ConsentForm(CaseForm):
    compartment = forms.ChoiceField(
        label=_("What may be shared"), choices=[("", "—"), *((c.value, c.label) for c in CONSENT_COMPARTMENTS)]
    )
    given_by = forms.ChoiceField(label=_("Who agreed"), choices=[("", "—"), *ConsentGiver.choices])
    given_by_name = forms.CharField(
        label=_("Name of who agreed"), max_length=NAME_MAX, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    on_behalf_of_child = forms.BooleanField(
        label=_("A representative agreed on the child's behalf"), required=False, initial=True
    )
    given_on = forms.DateField(label=_("Agreed on"), widget=DateInput, initial=timezone.localdate)


class ConsentWithdrawForm(CaseForm):
    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=DateInput, initial=timezone.localdate)
