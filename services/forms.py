"""Forms of the service directory: the search filters and the provider's card."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from casework.models import Municipality, ResidenceMunicipality
from services.models import Service, ServiceType
from services.selectors.directory import DirectoryFilters
from services.services import AREA_FIELDS, CARD_FIELDS


class DirectorySearchForm(forms.Form):
    """The directory's filters (GET). Invalid values are reported on their field and the search runs without them."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    type = forms.ChoiceField(label=_("Type of service"), required=False)
    orp = forms.ModelChoiceField(
        label=_("ORP"), queryset=Municipality.objects.order_by("name"), required=False, empty_label=_("any")
    )
    municipality = forms.ModelChoiceField(
        label=_("Municipality"),
        queryset=ResidenceMunicipality.objects.order_by("name"),
        required=False,
        empty_label=_("any"),
    )
    age = forms.IntegerField(label=_("Child's age"), required=False, min_value=0, max_value=120)
    free = forms.BooleanField(label=_("Only with free places"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["type"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", _("any"))] + [(t.code, t.name) for t in ServiceType.objects.filter(is_active=True)]

    def filters(self) -> DirectoryFilters:
        self.is_valid()  # an invalid field is reported on the form and left out of the search
        data = self.cleaned_data
        orp = data.get("orp")
        municipality = data.get("municipality")
        return DirectoryFilters(
            text=data.get("q") or "",
            type_code=data.get("type") or "",
            orp_id=orp.pk if orp else None,
            municipality_id=municipality.pk if municipality else None,
            age=data.get("age"),
            free_only=bool(data.get("free")),
        )


class ServiceCardForm(forms.ModelForm):
    """The card a provider's user keeps current. Saving confirms the card (``card_updated_at``)."""

    web = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Service
        fields = [*CARD_FIELDS, *AREA_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "target_group": forms.Textarea(attrs={"rows": 2}),
            "address": forms.Textarea(attrs={"rows": 2}),
            "opening_hours": forms.Textarea(attrs={"rows": 3}),
            "how_to_refer": forms.Textarea(attrs={"rows": 3}),
            "area_orps": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service_type = self.fields["service_type"]
        assert isinstance(service_type, forms.ModelChoiceField)
        service_type.queryset = ServiceType.objects.filter(is_active=True)
        municipalities = self.fields["area_municipalities"]
        assert isinstance(municipalities, forms.ModelMultipleChoiceField)
        municipalities.queryset = ResidenceMunicipality.objects.select_related("orp")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        age_min, age_max = data.get("age_min"), data.get("age_max")
        if age_min is not None and age_max is not None and age_min > age_max:
            self.add_error("age_max", _("The upper age must not be below the lower one."))
        capacity, free = data.get("capacity_total"), data.get("free_places")
        if capacity is not None and free is not None and free > capacity:
            self.add_error("free_places", _("There cannot be more free places than the capacity."))
        return data

    def _post_clean(self) -> None:
        # The service validates the row itself (services.services); the form's own checks are above. Skipping the
        # model's full_clean here keeps the bound instance unchanged until the service saves it.
        pass

    def apply_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        for key, messages in error.message_dict.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)
