"""The assessment of a case (vyhodnocení, § 10(3)(c) of Act No. 359/1999 Coll., § 1 of Decree No. 473/2012 Coll.).

* ``AssessmentInput`` — what one team member was asked to contribute, by when, and (once given) their text, sealed in
  their own sector's compartment (an OSPOD worker's in the social one), like a case note of theirs.
* ``Assessment`` — the coordinator's assessment under the decree's headings: the child's needs, the parents' ability
  to meet them, the family and social environment (social compartment) and the child's own views and wishes (the
  child's voice compartment).

Both are sealed with the case's data key; they are written only through ``casework.services.assessments``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.compartments import Compartment
from casework.models.cases import NOTE_COMPARTMENTS, Case, TeamMembership
from casework.models.keys import KeyOwnerType
from casework.models.organisations import Organisation
from casework.sealing import PER_ROW, SealedField, SealedModel


class InputStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    PROVIDED = "provided", _("provided")
    WITHDRAWN = "withdrawn", _("withdrawn (the membership ended)")


class AssessmentInput(SealedModel):
    """One team member's input to the case's assessment: requested with a due date, then written by the member."""

    SEAL_OWNER_TYPE = KeyOwnerType.CASE

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessment_inputs")
    membership = models.ForeignKey(TeamMembership, on_delete=models.PROTECT, related_name="assessment_inputs")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The member's organisation when asked: "other"-sector inputs are readable by that organisation only.
    author_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    compartment = models.CharField(
        _("compartment"), max_length=16, choices=[(c.value, c.label) for c in NOTE_COMPARTMENTS]
    )
    status = models.CharField(_("status"), max_length=16, choices=InputStatus.choices, default=InputStatus.REQUESTED)
    text = SealedField(compartment=PER_ROW, verbose_name=_("input"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    provided_at = models.DateTimeField(_("provided"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("input to the assessment")
        verbose_name_plural = _("inputs to the assessment")
        ordering = ["case", "requested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(compartment__in=[c.value for c in NOTE_COMPARTMENTS]),
                name="assessment_input_compartment_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=InputStatus.values), name="assessment_input_status_valid"
            ),
            # At most one open request per member and case.
            models.UniqueConstraint(
                fields=["case", "member"],
                condition=models.Q(status="requested"),
                name="assessment_input_one_open_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"assessment input {self.pk}"

    def seal_owner_id(self) -> uuid.UUID:
        return self.case_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(case_id=owner_id)


class Assessment(SealedModel):
    """The coordinator's assessment (Decree No. 473/2012 Coll., § 1). A new assessment is a new row: never edited."""

    SEAL_OWNER_TYPE = KeyOwnerType.CASE

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    child_needs = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("the child's needs"))
    parenting_capacity = SealedField(
        compartment=Compartment.SOCIAL, verbose_name=_("the parents' ability to meet them")
    )
    family_environment = SealedField(
        compartment=Compartment.SOCIAL, verbose_name=_("the family and social environment")
    )
    child_views = SealedField(compartment=Compartment.CHILD_VOICE, verbose_name=_("the child's own views and wishes"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["case", "created_at", "id"]

    def __str__(self) -> str:
        return f"assessment {self.pk}"

    def seal_owner_id(self) -> uuid.UUID:
        return self.case_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(case_id=owner_id)
