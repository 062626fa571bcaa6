"""The form of the cover page: who is away, who stands in, from which day to which day (both included)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.case_forms import CaseForm, DateInput, PersonChoiceField
from casework.models import Role, Sector, User


def active_supervisors(municipality_id: int | None = None) -> QuerySet[User]:
    """Active supervisors of OSPOD (of one authority, or of all): who can be covered, and who can stand in."""
    rows = User.objects.filter(is_active=True, role=Role.SUPERVISOR, organisation__sector=Sector.OSPOD)
    if municipality_id is not None:
        rows = rows.filter(organisation__municipality_id=municipality_id)
    return rows.select_related("organisation").order_by("last_name", "first_name", "username")


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the product's time zone (Europe/Prague)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class SupervisorCoverForm(CaseForm):
    service_fields = {"starts_at": "first_day", "ends_at": "last_day"}

    supervisor = PersonChoiceField(
        label=_("Supervisor away"),
        queryset=User.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Only an active supervisor of this authority can be covered.")},
    )
    deputy = PersonChoiceField(
        label=_("Deputy"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("A supervisor of this authority, or the head of a neighbouring ORP's OSPOD department."),
        error_messages={"invalid_choice": _("The deputy must be an active supervisor (head of an OSPOD department).")},
    )
    first_day = forms.DateField(label=_("First day"), widget=DateInput, required=False)
    last_day = forms.DateField(label=_("Last day"), widget=DateInput, required=False)
    note = forms.CharField(
        label=_("Note"),
        max_length=200,
        required=False,
        help_text=_("For example where the deputy can be reached. Never the reason for the absence."),
    )

    def __init__(self, *args: Any, municipality_id: int, viewer: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"supervisor": viewer.pk})
        super().__init__(*args, **kwargs)
        supervisor = self.fields["supervisor"]
        deputy = self.fields["deputy"]
        assert isinstance(supervisor, PersonChoiceField)
        assert isinstance(deputy, PersonChoiceField)
        supervisor.queryset = active_supervisors(municipality_id)
        deputy.queryset = active_supervisors()

    def clean_first_day(self) -> datetime.date | None:
        day: datetime.date | None = self.cleaned_data.get("first_day")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("A cover cannot start in the past."))
        return day

    def cover(self) -> dict[str, Any]:
        """The service's arguments: the first day from midnight, the last day until the next midnight."""
        data = self.cleaned_data
        first, last = data.get("first_day"), data.get("last_day")
        return {
            "supervisor": data.get("supervisor"),
            "deputy": data.get("deputy"),
            "starts_at": _day_start(first) if first is not None else None,
            "ends_at": _day_start(last + datetime.timedelta(days=1)) if last is not None else None,
            "note": data.get("note") or "",
        }
