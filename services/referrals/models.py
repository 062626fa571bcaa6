"""Referrals: the coordinator sends a child or family to a service of the network; the provider answers.

A referral is case content: its letter (the parts of the file the coordinator chose, and why the family is referred)
and a decline's explanation are sealed under the case's key in the services compartment. Who may read them is not
decided here but in ``permissions.policy`` (the provider's intake worker reads the letter of a referral addressed to
their organisation while it is pending or accepted and the family's agreement stands; nobody else outside the case).

The state machine is small and lives in ``services.referrals.services`` (docs/adr/0029-referrals.md): every
transition writes one ``ReferralEvent`` (who, when, from what to what), the history the page shows.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.compartments import Compartment
from casework.models.cases import Case, TeamMembership
from casework.models.keys import KeyOwnerType
from casework.models.organisations import Organisation
from casework.sealing import SealedField, SealedModel


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent, awaiting the provider")
    WAITING = "waiting", _("On the waiting list")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: A referral the provider still has to answer (and whose letter its intake worker reads).
PENDING_REFERRAL_STATUSES = frozenset({ReferralStatus.SENT, ReferralStatus.WAITING})


class ReferralFor(models.TextChoices):
    CHILD = "child", _("the child")
    FAMILY = "family", _("the family")


class DeclineReason(models.TextChoices):
    NO_CAPACITY = "no_capacity", _("No free capacity")
    OUTSIDE_TARGET_GROUP = "target_group", _("Outside the target group or ages")
    OUTSIDE_AREA = "area", _("Outside the area served")
    NOT_SUITABLE = "not_suitable", _("The service does not suit the need")
    FAMILY_REFUSED = "family", _("The family does not want the service")
    OTHER = "other", _("Other reason")


class Referral(SealedModel):
    """One referral of a case to one service. The provider's organisation is copied from the service when it is sent,
    so the intake worker's inbox filters on one indexed column and a later change of the card does not move it."""

    SEAL_OWNER_TYPE = KeyOwnerType.CASE

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey(
        "services.Service", verbose_name=_("service"), on_delete=models.PROTECT, related_name="referrals"
    )
    provider_organisation = models.ForeignKey(
        Organisation, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="referrals_received"
    )
    referred = models.CharField(_("referred"), max_length=8, choices=ReferralFor.choices)
    # The family's agreement: a ``permissions.Consent`` covering this referral. Withdrawing it stops the provider's
    # view of a pending referral with their next request.
    consent = models.ForeignKey(
        "permissions.Consent", verbose_name=_("agreement"), on_delete=models.PROTECT, related_name="referrals"
    )
    letter = SealedField(compartment=Compartment.SERVICES, verbose_name=_("referral letter"))
    #: What the letter was made of, by name and id only (``child``, ``reason``, ``note:<uuid>``), never text.
    letter_parts = models.JSONField(_("parts of the letter"), default=list)
    status = models.CharField(_("status"), max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.SENT)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    expected_on = models.DateField(_("expected start"), null=True, blank=True)
    decline_reason = models.CharField(
        _("reason for declining"), max_length=16, choices=DeclineReason.choices, blank=True
    )
    decline_explanation = SealedField(compartment=Compartment.SERVICES, verbose_name=_("explanation"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    #: The one team membership an acceptance created.
    membership = models.OneToOneField(
        TeamMembership, on_delete=models.PROTECT, related_name="referral", null=True, blank=True
    )
    #: When the coordinator and the provider were last reminded that it waits beyond the service's stated time.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-sent_at"]
        indexes = [
            models.Index(fields=["provider_organisation", "status", "sent_at"], name="referral_inbox_idx"),
            models.Index(fields=["case", "sent_at"], name="referral_case_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "service"],
                condition=models.Q(status__in=[ReferralStatus.SENT, ReferralStatus.WAITING]),
                name="referral_one_pending_per_service",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ReferralStatus.DECLINED) | ~models.Q(decline_reason=""),
                name="referral_declined_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ReferralStatus.WAITING) | models.Q(expected_on__isnull=False),
                name="referral_waiting_has_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ReferralStatus.ACCEPTED) | models.Q(membership__isnull=False),
                name="referral_accepted_has_member",
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk}"

    @property
    def number(self) -> str:
        """A short handle the provider and the coordinator can say on the phone (not the case reference)."""
        return str(self.pk).split("-")[0].upper()

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_REFERRAL_STATUSES

    def seal_owner_id(self) -> uuid.UUID:
        return self.case_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(case_id=owner_id)


class ReferralEvent(models.Model):
    """One step of a referral's history: who moved it from which status to which, and when. No text."""

    id = models.BigAutoField(primary_key=True)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=12, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=ReferralStatus.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        ordering = ["referral", "at", "id"]

    def __str__(self) -> str:
        return f"referral {self.referral_id}: {self.from_status or '-'} -> {self.to_status}"
