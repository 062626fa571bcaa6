"""Account changes that wait for a second person: the administrator cannot become a reader (issue 19).

A request holds the *whole* requested state of the account's access (role, organisation, e-mail, active), so the
confirmer sees exactly what will take effect; until it is confirmed the account keeps its old values (a new account
with an OSPOD, supervisor or DPO role stays inactive). Who may confirm is policy
(``permissions.policy.may_decide_account_change``); the services in ``casework.services.account_changes`` are the only
writers. The database refuses a second open request for one account and a decision by the requester.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .organisations import Organisation, Role


class AccountChangeStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Confirmer(models.TextChoices):
    """Who confirms: a supervisor of the account's (new) authority, or another administrator (DPO and
    administrator accounts, which belong to no authority's OSPOD)."""

    SUPERVISOR = "supervisor", _("A supervisor of the authority")
    ADMINISTRATOR = "administrator", _("Another administrator")


class AccountChangeRequest(models.Model):
    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="account_change_requests",
    )
    new_account = models.BooleanField(_("new account"), default=False)
    role = models.CharField(_("requested role"), max_length=16, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("requested organisation"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    email = models.EmailField(_("requested e-mail"), blank=True)
    activate = models.BooleanField(_("activate the account"), default=False)
    #: The names of what changes (``role``, ``organisation``, ``email``, ``is_active``): what the audit row names.
    changed_fields = models.JSONField(_("changed fields"), default=list)
    confirmer = models.CharField(_("confirmed by"), max_length=16, choices=Confirmer.choices)
    #: The authority whose supervisors confirm (the requested organisation's ORP); empty for an administrator's.
    municipality = models.ForeignKey(
        "casework.Municipality",
        verbose_name=_("ORP"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=16, choices=AccountChangeStatus.choices, default=AccountChangeStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("account change request")
        verbose_name_plural = _("account change requests")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "municipality", "id"], name="accountchange_open_by_orp"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="accountchange_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("requested_by")),
                name="accountchange_not_decided_by_requester",
            ),
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("user")),
                name="accountchange_not_decided_by_the_account",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in AccountChangeStatus]),
                name="accountchange_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"account change {self.pk} ({self.status})"
