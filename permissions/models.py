"""The audit log: an append-only, HMAC-chained record of every protected read, write and denial.

Rows are written only through :mod:`permissions.audit` (which computes the chain); the database refuses UPDATE and
DELETE on the table (triggers from :mod:`permissions.triggers`), and ``manage.py verify_audit`` recomputes the chain.
Rows hold field *names*, never values. See docs/adr/0003-audit-chain.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

#: ``prev_hash`` of the first row of the chain.
GENESIS_HASH = "0" * 64

#: Primary key of the single row of :class:`AuditChainHead`.
CHAIN_HEAD_PK = 1


class AuditAction(models.TextChoices):
    READ = "read", _("read")
    WRITE = "write", _("write")
    DENY = "deny", _("denied access")
    EXPORT = "export", _("export")
    BREAK_GLASS = "break_glass", _("break-glass")
    LOGIN = "login", _("login")


class AuditOutcome(models.TextChoices):
    ALLOWED = "allowed", _("allowed")
    DENIED = "denied", _("denied")
    ERROR = "error", _("error")


class AuditEvent(models.Model):
    """One audited event. Append-only: never updated, never deleted (the database refuses both).

    Every column except ``id`` and ``row_hash`` is covered by ``row_hash``; adding a column means changing the canonical
    form in ``permissions.audit`` and therefore the verifier (see the ADR). The ``actor_*`` snapshots keep the row
    meaningful after the user changes role or organisation; ``actor`` is PROTECT so a user with audit rows cannot be
    deleted (deactivate them instead).
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.PositiveBigIntegerField(_("sequence"), unique=True, help_text=_("Gapless position in the chain."))
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        help_text=_("Empty for actions of the system itself."),
    )
    actor_username = models.CharField(_("actor's username"), max_length=150, blank=True)
    actor_role = models.CharField(_("actor's role"), max_length=32)
    actor_organisation = models.CharField(_("actor's organisation"), max_length=200, blank=True)
    actor_sector = models.CharField(_("actor's sector"), max_length=16, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(
        _("object type"), max_length=100, help_text=_("app_label.model, e.g. casework.child")
    )
    object_id = models.CharField(_("object id"), max_length=64)
    case_id = models.UUIDField(_("case"), null=True, blank=True)
    field_names = models.JSONField(_("field names"), default=list, help_text=_("Names only, never values."))
    purpose = models.CharField(_("purpose"), max_length=200)
    outcome = models.CharField(_("outcome"), max_length=8, choices=AuditOutcome.choices)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    row_hash = models.CharField(_("row hash"), max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["seq"]
        indexes = [
            # "Who accessed this case" (supervisor, DPO).
            models.Index(fields=["case_id", "occurred_at"], name="audit_case_time_idx"),
            # "What did this user access".
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_seq_positive"),
            models.CheckConstraint(
                condition=models.Q(action__in=[a.value for a in AuditAction]), name="audit_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=[o.value for o in AuditOutcome]), name="audit_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} by {self.actor_username or 'system'}"


class AuditChainHead(models.Model):
    """The single row that serialises audit writers: the last ``seq`` and ``row_hash`` of the chain.

    Writers lock it with ``select_for_update()`` inside the insert transaction, so ``seq`` is gapless and every row's
    ``prev_hash`` is the ``row_hash`` of the row before it. Unlike :class:`AuditEvent` this row *is* updated; the
    verifier checks that it matches the last row of the chain.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=CHAIN_HEAD_PK)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=CHAIN_HEAD_PK), name="audit_chain_head_single_row"),
        ]

    def __str__(self) -> str:
        return f"audit chain head at #{self.seq}"
