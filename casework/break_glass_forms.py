"""Break-glass forms: finding a case of one's authority by reference, asking for access with a reason, reviewing.

The service (``permissions.break_glass``) checks everything again; its field errors come back onto these fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from casework.case_forms import CaseForm
from permissions.break_glass import REASON_MAX_LENGTH, clean_minutes, clean_reason, default_minutes, max_minutes
from permissions.models import BreakGlassVerdict


class BreakGlassFindForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference number of the case"),
        max_length=40,
        help_text=_("The whole reference, e.g. OM 2026/0042, or its number if it is unique."),
    )


class BreakGlassRequestForm(CaseForm):
    reason = forms.CharField(
        label=_("Why do you need to open this case now?"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Supervisors and the data-protection officer read this reason when they review the access. Say why it "
            "cannot wait; do not copy anything from the case file here."
        ),
    )
    duration_minutes = forms.IntegerField(
        label=_("For how long (minutes)"),
        help_text=_("You can choose a shorter time than the default."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duration_minutes"].initial = default_minutes()
        self.fields["duration_minutes"].widget.attrs.update({"min": 1, "max": max_minutes()})
        self.fields["reason"].widget.attrs["minlength"] = 20

    def clean_reason(self) -> str:
        return _field_check(clean_reason, self.cleaned_data.get("reason", ""), "reason")

    def clean_duration_minutes(self) -> int:
        return _field_check(clean_minutes, self.cleaned_data.get("duration_minutes"), "duration_minutes")


def _field_check(check: Callable[[Any], Any], value: Any, name: str) -> Any:
    """The service's own check of one field, its message on that field (the same words as the service gives)."""
    try:
        return check(value)
    except ValidationError as error:
        raise ValidationError(error.message_dict[name]) from error


class BreakGlassReviewForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Was the access justified?"), choices=BreakGlassVerdict.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Review comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the access was not justified. Do not copy anything from the case file here."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("verdict") == BreakGlassVerdict.NOT_JUSTIFIED and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Say why the access was not justified."))
        return data
