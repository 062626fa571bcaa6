"""Forms of referrals: the coordinator's referral (service, agreement, letter parts) and the provider's answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.case_forms import CaseForm, DateInput, PersonChoiceField
from casework.models import TeamRole, User
from permissions.models import ConsentGiver
from permissions.sharing import NAME_MAX
from services.models import Service
from services.referrals.models import DeclineReason, ReferralFor
from services.referrals.services import EXPLANATION_MAX, REASON_MAX, AgreementInput

if TYPE_CHECKING:
    _ServiceChoiceField = forms.ModelChoiceField[Service]
    _RoleChoiceField = forms.ModelChoiceField[TeamRole]
else:  # Django's form fields are not subscriptable at run time
    _ServiceChoiceField = forms.ModelChoiceField
    _RoleChoiceField = forms.ModelChoiceField


class ServiceChoiceField(_ServiceChoiceField):
    def label_from_instance(self, obj: Service) -> str:
        return f"{obj.name} — {obj.service_type} ({obj.provider.organisation})"


class RoleChoiceField(_RoleChoiceField):
    def label_from_instance(self, obj: TeamRole) -> str:
        return str(obj)


class ReferralForm(CaseForm):
    """Propose a service, record the family's agreement, choose what the letter carries."""

    service = ServiceChoiceField(label=_("Service"), queryset=Service.objects.none(), empty_label="—")
    referred = forms.ChoiceField(label=_("Referred"), choices=ReferralFor.choices, initial=ReferralFor.FAMILY)
    reason = forms.CharField(
        label=_("Why the family is referred (goes into the letter)"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    include_child = forms.BooleanField(
        label=_("The letter gives the child's name and date of birth"), required=False, initial=True
    )
    notes = forms.MultipleChoiceField(
        label=_("Notes of the file the letter carries"), required=False, widget=forms.CheckboxSelectMultiple
    )
    given_by = forms.ChoiceField(label=_("Who agreed to the referral"), choices=[("", "—"), *ConsentGiver.choices])
    given_by_name = forms.CharField(
        label=_("Name of who agreed"), max_length=NAME_MAX, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    on_behalf_of_child = forms.BooleanField(
        label=_("A representative agreed on the child's behalf"), required=False, initial=True
    )
    given_on = forms.DateField(label=_("Agreed on"), widget=DateInput, initial=timezone.localdate)

    def __init__(self, *args: Any, notes: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = self.fields["service"]
        assert isinstance(services, ServiceChoiceField)
        services.queryset = (
            Service.objects.filter(is_active=True, provider__is_active=True)
            .select_related("service_type", "provider__organisation")
            .order_by("service_type__position", "name", "pk")
        )
        choices = self.fields["notes"]
        assert isinstance(choices, forms.MultipleChoiceField)
        choices.choices = list(notes)

    def arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "service": data["service"],
            "referred": data["referred"],
            "reason": data["reason"],
            "include_child": data["include_child"],
            "note_ids": data["notes"],
            "agreement": AgreementInput(
                given_by=data["given_by"],
                given_by_name=data["given_by_name"],
                given_on=data["given_on"],
                on_behalf_of_child=data["on_behalf_of_child"],
            ),
        }


class AcceptForm(CaseForm):
    member = PersonChoiceField(label=_("Who joins the case's team"), queryset=User.objects.none(), empty_label=None)
    team_role = RoleChoiceField(label=_("Role on the case"), queryset=TeamRole.objects.none(), empty_label="—")

    def __init__(self, *args: Any, organisation_id: int, me: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member = self.fields["member"]
        assert isinstance(member, PersonChoiceField)
        member.queryset = (
            User.objects.filter(organisation_id=organisation_id, is_active=True)
            .select_related("organisation")
            .order_by("last_name", "first_name", "pk")
        )
        member.initial = me.pk
        role = self.fields["team_role"]
        assert isinstance(role, RoleChoiceField)
        role.queryset = TeamRole.objects.filter(is_active=True, sector="service").order_by("position", "name_cs")


class WaitlistForm(CaseForm):
    expected_on = forms.DateField(label=_("Expected start"), widget=DateInput)


class DeclineForm(CaseForm):
    reason = forms.ChoiceField(label=_("Why it is declined"), choices=[("", "—"), *DeclineReason.choices])
    explanation = forms.CharField(
        label=_("Explanation for the coordinator"), max_length=EXPLANATION_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
