"""Forms parse and shape input; the services validate the domain rules and raise field-level errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from casework import plausibility
from casework.models import Relation
from casework.services.children import ADDRESS_MAX, CONTACT_MAX, NAME_MAX, OTHER_IDENTIFIERS_MAX


class DateInput(forms.DateInput):
    """A browser date picker; its value must be ISO 8601 whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class BirthNumberSearchForm(forms.Form):
    birth_number = forms.CharField(
        label=_("Birth number"),
        max_length=11,
        help_text=_("Exact match only, e.g. 185203/1237."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )


def other_identifiers_field() -> forms.CharField:
    """What identifies a child without a birth number (sealed like the rest of the identity)."""
    return forms.CharField(
        label=_("Other identifiers"),
        max_length=OTHER_IDENTIFIERS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. a foreign identifier or passport number, or a description."),
    )


def child_address_field() -> forms.CharField:
    """The child's address: optional (an unaccompanied child may have none)."""
    return forms.CharField(
        label=_("Address"), max_length=ADDRESS_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ChildRegistrationForm(forms.Form):
    """A child is registered with a birth number — or without one (a newborn, a foreign or unaccompanied child, a
    number nobody knows yet): then the date of birth, exact or estimated, and other identifiers. The service checks
    that one of them is there and that they agree."""

    given_name = forms.CharField(label=_("Given name"), max_length=NAME_MAX)
    family_name = forms.CharField(label=_("Family name"), max_length=NAME_MAX)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=DateInput,
        required=False,
        validators=[plausibility.validate_child_date_of_birth],
        help_text=_("Required without a birth number; an estimate (e.g. 1 January of the likely year) will do."),
    )
    date_of_birth_estimated = forms.BooleanField(
        label=_("The date of birth is an estimate (from the child's age)"), required=False
    )
    birth_number = forms.CharField(
        label=_("Birth number"),
        max_length=11,
        required=False,
        help_text=_("9 or 10 digits, optionally with a slash after the sixth. Leave empty if unknown: add it later."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    other_identifiers = other_identifiers_field()
    address = child_address_field()

    def apply_service_errors(self, error: ValidationError) -> dict[str, list[str]]:
        """Attach the service's field errors to this form; return the ones that belong to other forms."""
        rest: dict[str, list[str]] = {}
        for field, messages in error.message_dict.items():
            if field in self.fields:
                for message in messages:
                    self.add_error(field, message)
            else:
                rest[field] = messages
        return rest


class RepresentativeForm(forms.Form):
    relation = forms.ChoiceField(label=_("Relation"), choices=[("", "—"), *Relation.choices], required=False)
    full_name = forms.CharField(label=_("Name"), max_length=NAME_MAX, required=False)
    contact = forms.CharField(label=_("Contact"), max_length=CONTACT_MAX, required=False)
    parental_responsibility = forms.BooleanField(
        label=_("Holds parental responsibility"),
        required=False,
        initial=True,
        help_text=_("A parent or guardian, unless a court limited or suspended it; not a foster carer."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("full_name") and not data.get("relation"):
            self.add_error("relation", _("Choose a relation."))
        if (data.get("relation") or data.get("contact")) and not data.get("full_name"):
            self.add_error("full_name", _("Enter the representative's name."))
        return data


RepresentativeFormSet = forms.formset_factory(RepresentativeForm, extra=2, max_num=4, validate_max=True)


class AddBirthNumberForm(forms.Form):
    birth_number = forms.CharField(
        label=_("Birth number"),
        max_length=11,
        help_text=_("9 or 10 digits, optionally with a slash after the sixth."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
