"""Retention of case files and the shredding review (skartační řízení, Act No. 499/2004 Coll.).

A closed case's file is kept 15 years after the calendar year in which the child left the register (§ 55(5) of Act
No. 359/1999 Coll.); for a child who left into adoption or foster care, 15 years after the year they come of age,
whichever ends later. When the period has ended, ``manage.py apply_retention`` proposes the file for a shredding
review: one :class:`RetentionReview` per case. A supervisor of the authority or its records officer decides it —
destroy, transfer to the archive, or keep longer — and only an executed decision touches the file. Nothing is ever
deleted silently.

After execution the review row *is* the stub: the case's reference, when and under which decision the file was
destroyed or transferred. It holds no protected content (docs/adr/0022-retention-and-shredding-review.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casework.models.cases import Case


class ReviewState(models.TextChoices):
    PROPOSED = "proposed", _("proposed for the shredding review")
    DECIDED = "decided", _("decided, being carried out")
    KEPT = "kept", _("kept longer")
    EXECUTED = "executed", _("carried out")


class ReviewDecision(models.TextChoices):
    DESTROY = "destroy", _("destroy")
    TRANSFER = "transfer", _("transfer to the archive")
    KEEP = "keep", _("keep longer")


class KeepReason(models.TextChoices):
    """Why a file is kept past its period: fixed reasons, so that no free text about the family lands in the stub."""

    PROCEEDINGS = "proceedings", _("court or administrative proceedings are still running")
    NEW_CASE = "new_case", _("the child or a sibling is known to the authority again")
    ARCHIVE_REQUEST = "archive", _("the archive asked to keep it until it decides")
    OTHER = "other", _("another reason recorded in the records office")


class ExecutionStep(models.TextChoices):
    """How far a decided destruction or transfer has got; a rerun of ``apply_retention`` continues from here."""

    NOT_STARTED = "", _("not started")
    EXPORTED = "exported", _("exported to the archive")
    SHREDDED = "shredded", _("data keys destroyed")


class RetentionReview(models.Model):
    """One case file's shredding review: proposal, decision, execution. One per case; rerunning proposes nothing new.

    A "keep longer" decision sets ``keep_until``; when that day comes, ``apply_retention`` proposes the file again
    (the same row, back to *proposed*; the earlier decision stays in the audit chain).
    """

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="retention_review")
    #: The first day after the retention period (1 January of the year after its last year).
    due_on = models.DateField(_("period ended"))
    state = models.CharField(_("state"), max_length=16, choices=ReviewState.choices, default=ReviewState.PROPOSED)
    proposed_at = models.DateTimeField(_("proposed"))
    decision = models.CharField(_("decision"), max_length=16, choices=ReviewDecision.choices, blank=True)
    #: The reference of the shredding review's record (skartační protokol / the archive's decision).
    decision_reference = models.CharField(_("decision reference"), max_length=50, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    keep_reason = models.CharField(_("why kept longer"), max_length=16, choices=KeepReason.choices, blank=True)
    keep_until = models.DateField(_("kept until"), null=True, blank=True)
    step = models.CharField(_("step"), max_length=16, choices=ExecutionStep.choices, blank=True, default="")
    #: The archive package's file name (in ``settings.ARCHIVE_EXPORT_DIR``) and its SHA-256, for a transfer.
    archive_package = models.CharField(_("archive package"), max_length=200, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    executed_at = models.DateTimeField(_("carried out"), null=True, blank=True)

    class Meta:
        verbose_name = _("shredding review")
        verbose_name_plural = _("shredding reviews")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["state", "due_on"], name="retention_state_due_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=ReviewState.values), name="retention_state_valid"),
            models.CheckConstraint(
                condition=models.Q(decision="") | models.Q(decision__in=ReviewDecision.values),
                name="retention_decision_valid",
            ),
            # A destruction or transfer is decided by someone, under a recorded reference.
            models.CheckConstraint(
                condition=~models.Q(state__in=[ReviewState.DECIDED, ReviewState.EXECUTED])
                | (
                    models.Q(decision__in=[ReviewDecision.DESTROY, ReviewDecision.TRANSFER], decided_at__isnull=False)
                    & ~models.Q(decision_reference="")
                ),
                name="retention_executed_has_decision",
            ),
            models.CheckConstraint(
                condition=~models.Q(state=ReviewState.KEPT)
                | (models.Q(keep_until__isnull=False) & ~models.Q(keep_reason="")),
                name="retention_kept_has_reason_and_date",
            ),
            models.CheckConstraint(
                condition=models.Q(state=ReviewState.EXECUTED, executed_at__isnull=False)
                | (~models.Q(state=ReviewState.EXECUTED) & models.Q(executed_at__isnull=True)),
                name="retention_executed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"shredding review of {self.case_id} ({self.state})"

    @property
    def destroyed(self) -> bool:
        return self.state == ReviewState.EXECUTED
