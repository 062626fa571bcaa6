"""The form of a plan action's task page: the owner's report."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.case_forms import CaseForm
from casework.services.plan_actions import REPORT_MAX


class ActionReportForm(CaseForm):
    text = forms.CharField(
        label=_("Your report"),
        max_length=REPORT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "What was done and how it went, measured against how success is judged. Only the case's lead and your "
            "own sector read it."
        ),
    )
    completes = forms.BooleanField(
        label=_("The action is done"),
        required=False,
        help_text=_("Leave it unticked for a progress report: the task stays in your inbox."),
    )
