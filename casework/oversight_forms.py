"""The filters of the access oversight pages and the anomaly review form. Bad input: field errors, all at once."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.forms import DateInput
from casework.models import Municipality
from permissions.models import AuditAction, AuditOutcome
from permissions.oversight import AccessFilters, Overseer

#: Longest period one filter may cover: a longer one belongs in an export run by hand, not a page.
MAX_PERIOD_DAYS = 366 * 5


class AccessFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("any action")), *AuditAction.choices])
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("any outcome")), *AuditOutcome.choices]
    )
    municipality = forms.ModelChoiceField(
        label=_("Authority"), required=False, queryset=Municipality.objects.none(), empty_label=_("every authority")
    )

    def __init__(self, *args: Any, overseer: Overseer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.overseer = overseer
        if overseer.sees_all:
            self.fields["municipality"].queryset = Municipality.objects.order_by("name")  # type: ignore[attr-defined]
        else:
            # A supervisor oversees their own authority only: nothing to choose.
            del self.fields["municipality"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("The end of the period is before its start."))
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("date_to", _("The period is too long; choose at most five years."))
        return data

    def filters(self) -> AccessFilters:
        """The filters of a valid form (call after ``is_valid()``)."""
        data = self.cleaned_data
        municipality = data.get("municipality")
        return AccessFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            action=data.get("action") or "",
            outcome=data.get("outcome") or "",
            municipality_id=municipality.pk if municipality else None,
        )


class AnomalyReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Review comment"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What you found out. Do not copy anything from the case file here."),
    )
