"""The shredding review's decision form. It parses input; ``casework.services.retention.retention_decide`` validates
the rules (a reference for destruction and transfer, a reason and a later date for keeping) and its errors come back
onto the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.case_forms import CaseForm
from casework.models import KeepReason, ReviewDecision


class RetentionDecisionForm(CaseForm):
    decision = forms.ChoiceField(
        label=_("Decision of the shredding review"), choices=ReviewDecision.choices, widget=forms.RadioSelect
    )
    decision_reference = forms.CharField(
        label=_("Reference of the shredding review's record"),
        help_text=_("Required to destroy or transfer the file, e.g. the number of the archive's shredding protocol."),
        max_length=50,
        required=False,
    )
    keep_reason = forms.ChoiceField(
        label=_("Why keep it longer"), choices=[("", "—"), *KeepReason.choices], required=False
    )
    keep_until = forms.DateField(label=_("Keep until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
