"""Local competence (§ 61 of Act 359/1999 Coll.): which authority a child belongs to, and how a file moves.

* :class:`ResidenceMunicipality` — the municipality → ORP table, as data (seeded for the Olomouc Region by migration
  ``casework/0009``, extendable in the admin). The competent authority is the ORP of the child's permanent residence
  (§ 61(1)); in the cases § 61(3)(a) and (4) name (a child found without care, …) the ORP where the child is.
* :class:`KnownChildRequest` — a birth number registered in another ORP: triage asks that ORP whether the child is
  known there instead of learning it from an "already registered" error. Answered by its supervisors.
* :class:`CaseTransfer` — a file handed to another ORP (the child moved): proposed by the coordinator, accepted by a
  supervisor of the receiving ORP, who names the new coordinator. The row is the old ORP's read-only stub.
* :class:`DutyShift` — who is on duty when (quality standard 1b, 24/7 availability): the OSPOD worker on duty triages
  urgent reports.

None of these rows holds protected content: ids, municipalities, times, references and choices only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.cases import Case
from casework.models.children import Child
from casework.models.organisations import Municipality


class ResidenceMunicipality(models.Model):
    """A municipality (obec) and the ORP whose OSPOD is competent for children living in it."""

    name = models.CharField(_("municipality"), max_length=120)
    orp = models.ForeignKey(
        Municipality, verbose_name=_("ORP"), on_delete=models.PROTECT, related_name="residence_municipalities"
    )

    class Meta:
        verbose_name = _("municipality (obec)")
        verbose_name_plural = _("municipalities (obce)")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["orp", "name"], name="residence_municipality_unique_per_orp")]

    def __str__(self) -> str:
        return self.name


class CompetenceBasis(models.TextChoices):
    RESIDENCE = "residence", _("the child's permanent residence (§ 61(1))")
    FOUND = "found", _("where the child was found (§ 61(3)(a), (4))")


class KnownChildAnswer(models.TextChoices):
    OPEN_CASE = "open_case", _("known: the child has an open case with us")
    NO_OPEN_CASE = "no_open_case", _("known: registered, no open case")


class KnownChildRequest(models.Model):
    """ "Is this child known to you?" — asked by an authority whose report names a birth number registered in another
    ORP's register. Neither side learns anything of the other's file: the asked ORP answers with a choice."""

    requesting_municipality = models.ForeignKey(
        Municipality, verbose_name=_("asking authority"), on_delete=models.PROTECT, related_name="+"
    )
    asked_municipality = models.ForeignKey(
        Municipality, verbose_name=_("asked authority"), on_delete=models.PROTECT, related_name="+"
    )
    #: The register entry in the asked ORP (matched by the birth number's blind index); never shown to the asker.
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="+")
    report = models.ForeignKey(
        "casework.Report", on_delete=models.PROTECT, related_name="known_child_requests", null=True, blank=True
    )
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(_("answer"), max_length=16, choices=KnownChildAnswer.choices, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("known-child request")
        verbose_name_plural = _("known-child requests")
        ordering = ["-asked_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(requesting_municipality=models.F("asked_municipality")),
                name="known_child_request_other_orp",
            ),
            models.CheckConstraint(
                condition=models.Q(answer="", answered_at__isnull=True, answered_by__isnull=True)
                | (~models.Q(answer="") & models.Q(answered_at__isnull=False, answered_by__isnull=False)),
                name="known_child_request_answer_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"known-child request {self.pk}"

    @property
    def is_answered(self) -> bool:
        return bool(self.answer)


class TransferStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    WITHDRAWN = "withdrawn", _("withdrawn")


class CaseTransfer(models.Model):
    """A case file moving to another ORP. Once accepted it is the old authority's stub: the old reference, where the
    file went and its new reference — nothing of its content."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    from_municipality = models.ForeignKey(
        Municipality, verbose_name=_("from authority"), on_delete=models.PROTECT, related_name="+"
    )
    to_municipality = models.ForeignKey(
        Municipality, verbose_name=_("receiving authority"), on_delete=models.PROTECT, related_name="+"
    )
    old_reference = models.CharField(_("previous reference"), max_length=24)
    #: The old registry's year and number: never given again to another file there (numbering counts them).
    old_year = models.PositiveSmallIntegerField(_("previous year"))
    old_number = models.PositiveIntegerField(_("previous number"))
    new_reference = models.CharField(_("new reference"), max_length=24, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=TransferStatus.choices, default=TransferStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    new_coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("case transfer")
        verbose_name_plural = _("case transfers")
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="proposed"), name="case_transfer_one_pending"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_municipality=models.F("to_municipality")), name="case_transfer_other_orp"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="accepted")
                | (models.Q(decided_at__isnull=False, new_coordinator__isnull=False) & ~models.Q(new_reference="")),
                name="case_transfer_accepted_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"transfer of {self.old_reference}"


class DutyShift(models.Model):
    """One OSPOD worker on duty for their authority from ``starts_at`` until ``ends_at`` (nights and weekends too).

    Overlapping shifts of the same person are refused by ``casework.services.duty_shift_add`` under a lock of the
    worker's row (a constraint spanning rows is not portable to SQLite)."""

    municipality = models.ForeignKey(
        Municipality, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="duty_shifts"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("worker on duty"), on_delete=models.PROTECT, related_name="duty_shifts"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty roster")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="duty_shift_ends_after")
        ]
        indexes = [models.Index(fields=["municipality", "starts_at", "ends_at"], name="duty_shift_when")]

    def __str__(self) -> str:
        return f"duty {self.worker_id} {self.starts_at:%Y-%m-%d %H:%M}"
