"""Forms of the closure and court-petition pages. They parse and shape input; ``casework.services.lifecycle``
validates the domain rules (one pending proposal, § 14(2)(b)) and its errors come back onto the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.case_forms import CaseForm
from casework.models import CloseReason, PetitionFiler, PetitionKind, SubstituteCare
from casework.services.lifecycle import FINAL_EVALUATION_MAX, URGENT_REASON_MAX


class ClosureRequestForm(CaseForm):
    reason = forms.ChoiceField(label=_("Why should the case be closed?"), choices=[("", "—"), *CloseReason.choices])
    final_evaluation = forms.CharField(
        label=_("Final evaluation"),
        help_text=_("What was achieved, what remains, how the child is doing. A supervisor reads it before approving."),
        max_length=FINAL_EVALUATION_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    substitute_care = forms.ChoiceField(
        label=_("Does the child leave into adoption or foster care?"),
        help_text=_("The file is then kept 15 years after the year the child comes of age."),
        choices=SubstituteCare.choices,
        required=False,
    )


class CourtPetitionForm(CaseForm):
    kind = forms.ChoiceField(
        label=_("Kind of petition"), choices=PetitionKind.choices, widget=forms.RadioSelect, initial=""
    )
    filed_by = forms.ChoiceField(
        label=_("Filed by"),
        choices=PetitionFiler.choices,
        initial=PetitionFiler.AUTHORITY,
        required=False,  # not sent: the authority's own
        help_text=_(
            "Record also a petition a parent or the public prosecutor filed: the case must be discussed at a case "
            "conference then too (§ 14(2)(b))."
        ),
    )
    urgent_reason = forms.CharField(
        label=_("Why it is urgent (§ 16 only)"),
        help_text=_("Required for a § 16 preliminary measure; leave empty for a § 14(1) petition."),
        max_length=URGENT_REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
