"""The assessment of a case (vyhodnocení, § 10(3)(c) of Act No. 359/1999 Coll., § 1 of Decree No. 473/2012 Coll.).

* ``AssessmentInput`` — what one team member was asked to contribute, by when, and (once given) their text, sealed in
  their own sector's compartment (an OSPOD worker's in the social one), like a case note of theirs.
* ``Assessment`` — the coordinator's assessment under the decree's headings: the child's needs, the parents' ability
  to meet them, the family and social environment (social compartment) and the child's own views and wishes (the
  child's voice compartment). Versioned: the first assessment is version 1; every review re-assesses (DOMAIN.md, step
  9) and adds a version — revised (new texts) or "no change" (a reason, and the version it confirms) — and never
  edits an older one.
* An input belongs to the version it fed (``AssessmentInput.assessment``, set when that version is written), so a
  re-assessment reads only its own round's inputs.

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


class AssessmentOutcome(models.TextChoices):
    """What an assessment version is. Add values at the end; the value is stored."""

    FIRST = "first", _("first assessment")
    REVISED = "revised", _("re-assessment: revised")
    UNCHANGED = "unchanged", _("re-assessment: no change")


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
    # The assessment version this input fed (set when that version is written); empty while its round is open.
    assessment = models.ForeignKey("Assessment", on_delete=models.PROTECT, related_name="inputs", null=True, blank=True)

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
    """The coordinator's assessment (Decree No. 473/2012 Coll., § 1), one version per row: never edited.

    A "no change" version holds no texts of its own: its ``unchanged_reason`` says why the version it confirms
    (``previous``, which may itself confirm an older one) still describes the child's situation."""

    SEAL_OWNER_TYPE = KeyOwnerType.CASE

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    version = models.PositiveIntegerField(_("version"), default=1)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=AssessmentOutcome.choices, default=AssessmentOutcome.FIRST
    )
    previous = models.ForeignKey("self", on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    unchanged_reason = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("why nothing changed"))
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
        ordering = ["case", "version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="assessment_version_unique"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=AssessmentOutcome.values), name="assessment_outcome_valid"
            ),
            # The first version stands alone; every re-assessment names the version before it.
            models.CheckConstraint(
                condition=models.Q(outcome=AssessmentOutcome.FIRST, previous__isnull=True, version=1)
                | (~models.Q(outcome=AssessmentOutcome.FIRST) & models.Q(previous__isnull=False, version__gt=1)),
                name="assessment_reassessment_has_previous",
            ),
            # "No change" is a reasoned outcome.
            models.CheckConstraint(
                condition=~models.Q(outcome=AssessmentOutcome.UNCHANGED) | models.Q(unchanged_reason__isnull=False),
                name="assessment_unchanged_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"assessment {self.pk} v{self.version}"

    def seal_owner_id(self) -> uuid.UUID:
        return self.case_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(case_id=owner_id)
