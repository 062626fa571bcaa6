"""The child register. Identity fields are sealed under the child's own data key (owner type "child").

Rodné číslo is never stored in clear: the envelope holds it, and ``birth_number_index`` (a keyed HMAC of the
normalised digits) allows exact-match search and enforces one register entry per birth number.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casework.compartments import Compartment
from casework.models.keys import KeyOwnerType
from casework.models.organisations import Municipality
from casework.sealing import SealedField, SealedModel


class Child(SealedModel):
    SEAL_OWNER_TYPE = KeyOwnerType.CHILD

    municipality = models.ForeignKey(
        Municipality, verbose_name=_("ORP"), on_delete=models.PROTECT, related_name="children"
    )
    given_name = SealedField(compartment=Compartment.BASICS, verbose_name=_("given name"))
    family_name = SealedField(compartment=Compartment.BASICS, verbose_name=_("family name"))
    date_of_birth = SealedField(compartment=Compartment.BASICS, verbose_name=_("date of birth"))
    birth_number = SealedField(compartment=Compartment.IDENTITY, verbose_name=_("birth number"))
    address = SealedField(compartment=Compartment.IDENTITY, verbose_name=_("address"))
    # NULL, not "": a shredded child has no index, and NULLs don't collide in the unique constraint.
    birth_number_index = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    shredded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        constraints = [
            models.UniqueConstraint(
                fields=["birth_number_index"],
                condition=models.Q(birth_number_index__isnull=False),
                name="child_unique_birth_number",
            )
        ]

    def __str__(self) -> str:
        # Never the name: str() ends up in logs, admin and exceptions.
        return f"child {self.pk}"

    def seal_owner_id(self) -> uuid.UUID:
        return self.pk

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(pk=owner_id)


class Relation(models.TextChoices):
    MOTHER = "mother", _("mother")
    FATHER = "father", _("father")
    GUARDIAN = "guardian", _("guardian")
    FOSTER_CARER = "foster_carer", _("foster carer")
    OTHER = "other", _("other")


class LegalRepresentative(SealedModel):
    SEAL_OWNER_TYPE = KeyOwnerType.CHILD

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="representatives")
    relation = models.CharField(_("relation"), max_length=16, choices=Relation.choices)
    full_name = SealedField(compartment=Compartment.IDENTITY, verbose_name=_("full name"))
    contact = SealedField(compartment=Compartment.IDENTITY, verbose_name=_("contact"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("legal representative")
        verbose_name_plural = _("legal representatives")
        ordering = ["child", "position"]

    def __str__(self) -> str:
        return f"representative {self.pk}"

    def seal_owner_id(self) -> uuid.UUID:
        return self.child_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(child_id=owner_id)
