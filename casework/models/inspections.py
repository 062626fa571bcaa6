"""§ 55(3) of Act No. 359/1999 Coll.: a parent with parental responsibility or the child inspects the case file.

A ``FileInspection`` is one request to inspect the file: who inspects (the child, or a legal representative of the
child who holds parental responsibility), which parts of the file the coordinator prepared, the supervisor who approved
it (four eyes: never the preparer) and — once it took place — when, whether the file was only shown or a copy handed
over, and who recorded it. Content-free: the export itself is made from the case file each time it is downloaded
(``casework.inspection_pdf``), without what § 55(2) keeps apart, the notifier and third persons' data.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.cases import Case
from casework.models.children import LegalRepresentative


class InspectionRecipient(models.TextChoices):
    CHILD = "child", _("the child")
    REPRESENTATIVE = "representative", _("a parent or guardian with parental responsibility")


class InspectionSection(models.TextChoices):
    """The parts of the file an inspection may hold (the coordinator chooses; the law's exclusions apply to each).
    Add values at the end; the value is stored."""

    TEAM = "team", _("The team (organisations and roles)")
    ASSESSMENT = "assessment", _("The assessment and the team's inputs")
    CONFERENCES = "conferences", _("Case conferences (minutes and decisions)")
    PLAN = "plan", _("The protection plan (IPOD)")
    NOTES = "notes", _("Notes of the file")


class InspectionStatus(models.TextChoices):
    PREPARED = "prepared", _("prepared, waiting for a supervisor")
    APPROVED = "approved", _("approved")
    RETURNED = "returned", _("returned by the supervisor")
    DONE = "done", _("inspection recorded")


class InspectionMode(models.TextChoices):
    SHOWN = "shown", _("the file was shown (inspection only)")
    COPIED = "copied", _("a copy was handed over")


class FileInspection(models.Model):
    """One § 55 inspection of a case file, from preparation to the record that it took place."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="inspections")
    recipient = models.CharField(_("who inspects"), max_length=16, choices=InspectionRecipient.choices)
    representative = models.ForeignKey(
        LegalRepresentative,
        verbose_name=_("parent or guardian"),
        on_delete=models.PROTECT,
        related_name="inspections",
        null=True,
        blank=True,
    )
    sections = models.JSONField(_("parts of the file"), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=InspectionStatus.choices, default=InspectionStatus.PREPARED
    )
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(_("prepared"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    inspected_at = models.DateTimeField(_("inspected"), null=True, blank=True)
    mode = models.CharField(_("shown or copied"), max_length=16, choices=InspectionMode.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_at = models.DateTimeField(_("recorded"), null=True, blank=True)

    class Meta:
        verbose_name = _("file inspection (§ 55)")
        verbose_name_plural = _("file inspections (§ 55)")
        ordering = ["case", "-prepared_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recipient=InspectionRecipient.CHILD, representative__isnull=True)
                | models.Q(recipient=InspectionRecipient.REPRESENTATIVE, representative__isnull=False),
                name="file_inspection_recipient_named",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=InspectionStatus.values), name="file_inspection_status_valid"
            ),
            # Four eyes: the supervisor who approves or returns it did not prepare it.
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("prepared_by")),
                name="file_inspection_decider_not_preparer",
            ),
            models.CheckConstraint(
                condition=models.Q(status=InspectionStatus.PREPARED)
                | models.Q(decided_by__isnull=False, decided_at__isnull=False),
                name="file_inspection_decided_has_decider",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=InspectionStatus.DONE)
                | (
                    models.Q(inspected_at__isnull=False, recorded_by__isnull=False, recorded_at__isnull=False)
                    & models.Q(mode__in=InspectionMode.values)
                ),
                name="file_inspection_done_is_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"file inspection {self.pk}"

    @property
    def exportable(self) -> bool:
        """The approved export may be handed out (approved, or already inspected: a second copy of the same)."""
        return self.status in (InspectionStatus.APPROVED, InspectionStatus.DONE)
