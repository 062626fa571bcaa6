"""Two steps of a case's life that need more than one person or a precondition.

* ``ClosureRequest`` — the coordinator proposes closing the case (reason + final evaluation); a supervisor of the
  authority who did not propose it approves (the case closes, team access ends) or returns it (DOMAIN.md, "Closure").
* ``CourtPetition`` — the record of the intent to petition a court. A § 14(1) petition (placement outside the family
  and other measures intervening in parental responsibility) needs a case conference held on the case first
  (§ 14(2)(b)); a § 16 preliminary measure (a child without care or in serious danger) does not, but needs the worker's
  reason, is audited and alerts the authority's supervisors.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.compartments import Compartment
from casework.models.cases import Case, CloseReason, SubstituteCare
from casework.models.conferences import Conference, _CaseSealed
from casework.sealing import SealedField


class ClosureStatus(models.TextChoices):
    PENDING = "pending", _("awaiting approval")
    APPROVED = "approved", _("approved (the case is closed)")
    RETURNED = "returned", _("returned")
    WITHDRAWN = "withdrawn", _("withdrawn")


class ClosureRequest(_CaseSealed):
    """A proposal to close the case, and the supervisor's decision on it."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="closure_requests")
    reason = models.CharField(_("reason"), max_length=32, choices=CloseReason.choices)
    #: Copied to ``Case.substitute_care`` on approval: it lengthens the file's retention period.
    substitute_care = models.CharField(
        _("left into adoption or foster care"), max_length=16, choices=SubstituteCare.choices, blank=True, default=""
    )
    final_evaluation = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("final evaluation"))
    status = models.CharField(_("status"), max_length=16, choices=ClosureStatus.choices, default=ClosureStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    #: Why the supervisor returned it (social: it may speak of the family).
    return_comment = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("why it was returned"))

    class Meta:
        verbose_name = _("closure request")
        verbose_name_plural = _("closure requests")
        ordering = ["case", "requested_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ClosureStatus.values), name="closure_status_valid"),
            models.CheckConstraint(condition=models.Q(reason__in=CloseReason.values), name="closure_reason_valid"),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="pending"), name="closure_one_pending_per_case"
            ),
            # Four eyes: whoever decides did not propose it.
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("requested_by")),
                name="closure_decider_not_requester",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "withdrawn"])
                | models.Q(decided_by__isnull=False, decided_at__isnull=False),
                name="closure_decided_has_decider",
            ),
        ]

    def __str__(self) -> str:
        return f"closure request {self.pk}"


class PetitionKind(models.TextChoices):
    PLACEMENT = "placement", _("§ 14(1) placement outside the family or another measure in parental responsibility")
    URGENT = "urgent", _("§ 16 petition for a preliminary measure (a child without care or in serious danger)")


class PetitionFiler(models.TextChoices):
    """Who filed the petition with the court. Add values at the end; the value is stored."""

    AUTHORITY = "authority", _("this authority (OSPOD)")
    PARENT = "parent", _("a parent")
    PROSECUTOR = "prosecutor", _("the public prosecutor")
    OTHER = "other", _("someone else (a relative, another authority)")


class CourtPetition(_CaseSealed):
    """A petition to a court about the child: the authority's own (the recorded intent), or one filed by others (a
    parent, the prosecutor) that the authority learnt of and records on the case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="court_petitions")
    kind = models.CharField(_("kind"), max_length=16, choices=PetitionKind.choices)
    filed_by = models.CharField(
        _("filed by"), max_length=16, choices=PetitionFiler.choices, default=PetitionFiler.AUTHORITY
    )
    #: The held conference that discussed it (§ 14(2)(b)); empty only for a § 16 urgent measure.
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    urgent_reason = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("why it is urgent"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("court petition")
        verbose_name_plural = _("court petitions")
        ordering = ["case", "recorded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=PetitionKind.values), name="petition_kind_valid"),
            models.CheckConstraint(condition=models.Q(filed_by__in=PetitionFiler.values), name="petition_filer_valid"),
            # The authority's own § 14(1) petition rests on a held conference (§ 14(2)(b)). One filed by others is a
            # fact to record whatever happened before; the page then says that a conference is due.
            models.CheckConstraint(
                condition=models.Q(kind="urgent")
                | models.Q(conference__isnull=False)
                | ~models.Q(filed_by="authority"),
                name="petition_own_placement_needs_conference",
            ),
        ]

    def __str__(self) -> str:
        return f"court petition {self.pk}"
