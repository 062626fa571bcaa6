"""Forms of local competence: the duty roster, a transfer's proposal and decision, a known-child answer."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.case_forms import CaseForm, PersonChoiceField, authority_staff, person_label
from casework.models import KnownChildAnswer, Municipality, User
from workflows.forms import DateTimeInput


def _aware(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


class DutyShiftForm(CaseForm):
    worker = PersonChoiceField(label=_("Worker on duty"), queryset=authority_staff(0), required=False)
    starts_at = forms.DateTimeField(label=_("From"), widget=DateTimeInput, required=False)
    ends_at = forms.DateTimeField(label=_("Until"), widget=DateTimeInput, required=False)

    def __init__(self, *args: Any, municipality_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        worker = self.fields["worker"]
        assert isinstance(worker, PersonChoiceField)
        worker.queryset = authority_staff(municipality_id)

    def shift(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "worker": data.get("worker"),
            "starts_at": _aware(data.get("starts_at")),
            "ends_at": _aware(data.get("ends_at")),
        }


class _AuthorityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class TransferProposeForm(CaseForm):
    to_municipality = _AuthorityChoiceField(
        label=_("Receiving authority (ORP)"),
        queryset=Municipality.objects.all(),
        required=False,
        help_text=_("The OSPOD of the child's new permanent residence; its supervisor accepts the file."),
    )

    def __init__(self, *args: Any, authorities: QuerySet[Municipality], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_municipality"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = authorities


class TransferDecisionForm(CaseForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("accept the file")), ("decline", _("decline"))],
        widget=forms.RadioSelect,
        required=False,
    )
    new_coordinator = forms.TypedChoiceField(label=_("New coordinator"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, staff: Sequence[User], **kwargs: Any) -> None:
        """``staff``: the receiving authority's OSPOD staff, loaded once for every form on the page."""
        super().__init__(*args, **kwargs)
        self._staff = {person.pk: person for person in staff}
        field = self.fields["new_coordinator"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *[(person.pk, person_label(person)) for person in staff]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") not in ("accept", "decline"):
            self.add_error("decision", _("Accept or decline the file."))
        data["new_coordinator"] = self._staff.get(data.get("new_coordinator") or 0)
        return data


class KnownChildAnswerForm(CaseForm):
    answer = forms.ChoiceField(
        label=_("Answer"), choices=KnownChildAnswer.choices, widget=forms.RadioSelect, required=False
    )
