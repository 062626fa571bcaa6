"""The child register. Identity fields are sealed under the child's own data key (owner type "child").

Rodné číslo is never stored in clear: the envelope holds it, and ``birth_number_index`` (a keyed HMAC of the
normalised digits) allows exact-match search and enforces one register entry per birth number.

A child may be registered without a birth number (a newborn, a foreign or unaccompanied child, a child whose number
the notifier did not know): name, date of birth (exact or estimated) and other identifiers (a foreign identifier, a
description) identify them until the number is added. ``identity_index`` (a keyed HMAC of the normalised name and
date of birth, its own purpose) lets the authority's OSPOD staff see possible duplicates without any plaintext search.
Two entries of one child are merged by a supervisor's approval (``ChildMerge``, four eyes): the merged entry stays,
pointing at the one that carries on, so its cases, reports and audit rows keep their history.
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


class ChildSex(models.TextChoices):
    """The sex as the statistics count it: from the birth number (its month digits), unknown without one."""

    MALE = "M", _("boy")
    FEMALE = "F", _("girl")
    UNKNOWN = "", _("not known")


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
    #: Anything else that identifies a child without a birth number: a foreign identifier, a passport number, a
    #: description. Sealed like the rest of the identity.
    other_identifiers = SealedField(compartment=Compartment.IDENTITY, verbose_name=_("other identifiers"))
    #: The date of birth is an estimate (from the child's apparent age or a year only).
    date_of_birth_estimated = models.BooleanField(_("date of birth estimated"), default=False)
    #: Non-identifying figures for statistics, derived at registration (docs/adr/0030-statistics-from-metadata.md): the
    #: year of birth only (never the date) and the sex the birth number encodes ("" when there is none). NULL until
    #: ``fill_statistics_fields`` derived them for a child registered before they existed.
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=ChildSex.choices, blank=True, default="", editable=False)
    # NULL, not "": a shredded child has no index, and NULLs don't collide in the unique constraint.
    birth_number_index = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    #: Keyed HMAC of the normalised name and date of birth: possible-duplicate hints, never unique, never a search box.
    identity_index = models.CharField(max_length=64, null=True, blank=True, editable=False, db_index=True)  # noqa: DJ001
    #: Set when a supervisor approved merging this entry into another one (the same child registered twice).
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="merged_from", null=True, blank=True, editable=False
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
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
            ),
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | ~models.Q(merged_into=models.F("id")),
                name="child_not_merged_into_itself",
            ),
            # A merged entry hands its birth number to nobody: only an entry without one is merged into another.
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | models.Q(birth_number_index__isnull=True),
                name="child_merged_has_no_birth_number",
            ),
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
    #: Holds parental responsibility for the child (§ 55(3): only such a parent or guardian, or the child, may inspect
    #: the file). A parent has it unless a court limited or suspended it; a foster carer does not.
    parental_responsibility = models.BooleanField(_("parental responsibility"), default=False)
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


class ChildMergeStatus(models.TextChoices):
    PENDING = "pending", _("waiting for a supervisor")
    APPROVED = "approved", _("approved: merged")
    REJECTED = "rejected", _("rejected: different children")


class ChildMergeGround(models.TextChoices):
    BIRTH_NUMBER = "birth_number", _("the birth number added later is already registered")
    NAME_AND_BIRTH_DATE = "name_and_birth_date", _("the same name and date of birth")


class ChildMerge(models.Model):
    """A proposal to merge two register entries of one child (``source`` into ``target``), and the supervisor's
    decision on it. Four eyes: the supervisor who decides did not propose it (``permissions.policy``)."""

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="merges_as_source")
    target = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="merges_as_target")
    ground = models.CharField(_("ground"), max_length=24, choices=ChildMergeGround.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=ChildMergeStatus.choices, default=ChildMergeStatus.PENDING
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("merge of register entries")
        verbose_name_plural = _("merges of register entries")
        ordering = ["-proposed_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(source=models.F("target")), name="child_merge_two_entries"),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in ChildMergeStatus]), name="child_merge_status_valid"
            ),
            models.UniqueConstraint(
                fields=["source"],
                condition=models.Q(status=ChildMergeStatus.PENDING),
                name="child_merge_one_pending_per_source",
            ),
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("proposed_by")),
                name="child_merge_decider_not_proposer",
            ),
            models.CheckConstraint(
                condition=models.Q(status=ChildMergeStatus.PENDING)
                | models.Q(decided_by__isnull=False, decided_at__isnull=False),
                name="child_merge_decided_has_decider",
            ),
        ]

    def __str__(self) -> str:
        return f"child merge {self.pk}"
