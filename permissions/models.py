"""The audit log: an append-only, HMAC-chained record of every protected read, write and denial.

Rows are written only through :mod:`permissions.audit` (which computes the chain); the database refuses UPDATE and
DELETE on the table (triggers from :mod:`permissions.triggers`), and ``manage.py verify_audit`` recomputes the chain.
Rows hold field *names*, never values. See docs/adr/0003-audit-chain.md.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from casework.compartments import Compartment
from casework.models.keys import KeyOwnerType
from casework.sealing import PER_ROW, SealedField, SealedModel

#: Sharing these needs a recorded agreement (DOMAIN.md: health information and what the child said).
CONSENT_COMPARTMENTS = (Compartment.HEALTH, Compartment.CHILD_VOICE)

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
    ACCOUNT = "account", _("account security")


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
            # The oversight pages page newest first by key (seq) within a case or a person.
            models.Index(fields=["case_id", "seq"], name="audit_case_seq_idx"),
            models.Index(fields=["actor", "seq"], name="audit_actor_seq_idx"),
            # The anomaly command scans a recent window.
            models.Index(fields=["occurred_at"], name="audit_time_idx"),
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


# --- Object permissions on cases (django-guardian, direct foreign-key tables) -------------------------------------
# An index of who coordinates or is on a case's team, rewritten by ``permissions.object_perms.sync_case_permissions``
# in the same transaction as every membership or coordinator change. The rows carry no dates: every access check and
# every list query also requires the membership to be valid today (DESIGN invariant 5).


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("casework.Case", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("case permission of a user")
        verbose_name_plural = _("case permissions of users")


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("casework.Case", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("case permission of a group")
        verbose_name_plural = _("case permissions of groups")


# --- Shares and consents ------------------------------------------------------------------------------------------


class ConsentGiver(models.TextChoices):
    CHILD = "child", _("the child")
    MOTHER = "mother", _("mother")
    FATHER = "father", _("father")
    GUARDIAN = "guardian", _("guardian")
    OTHER_REPRESENTATIVE = "other", _("other legal representative")


class ConsentCovers(models.TextChoices):
    SHARE = "share", _("sharing with the team")
    REFERRAL = "referral", _("a referral to a service")


class Consent(SealedModel):
    """A recorded agreement to share a case's health or child's-voice information, until withdrawn.

    This is the product's policy, not the legal basis: OSPOD processes under §§ 51, 53 and 57(3) of Act 359/1999 Coll.
    The name of the person who agreed is sealed (identity compartment) under the case's key.
    """

    SEAL_OWNER_TYPE = KeyOwnerType.CASE

    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="consents")
    compartment = models.CharField(_("scope"), max_length=16, choices=Compartment.choices)
    #: What the agreement is for: sharing health or child's-voice items with the team, or a referral to a service of
    #: the network (its letter is in the services compartment; docs/adr/0029-referrals.md).
    covers = models.CharField(_("for"), max_length=8, choices=ConsentCovers.choices, default=ConsentCovers.SHARE)
    given_by = models.CharField(_("who agreed"), max_length=16, choices=ConsentGiver.choices)
    given_by_name = SealedField(compartment=Compartment.IDENTITY, verbose_name=_("name of who agreed"))
    on_behalf_of_child = models.BooleanField(
        _("on the child's behalf"), default=True, help_text=_("A representative agreed for the child.")
    )
    given_on = models.DateField(_("agreed on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawal_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    withdrawal_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["case", "recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(covers=ConsentCovers.SHARE, compartment__in=[c.value for c in CONSENT_COMPARTMENTS])
                | models.Q(covers=ConsentCovers.REFERRAL, compartment=Compartment.SERVICES),
                name="consent_scope_needs_consent",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_on__isnull=True) | models.Q(withdrawn_on__gte=models.F("given_on")),
                name="consent_withdrawn_after_given",
            ),
        ]

    def __str__(self) -> str:
        return f"consent {self.pk}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawal_recorded_at is not None

    def seal_owner_id(self) -> uuid.UUID:
        return self.case_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(case_id=owner_id)


class ShareQuerySet(models.QuerySet["Share"]):
    def in_force(self, on: datetime.date | None = None) -> ShareQuerySet:
        """Shares that work today: not revoked, not past their last day, and any consent they need not withdrawn."""
        day = on or timezone.localdate()
        return self.filter(revoked_at__isnull=True, valid_until__gte=day).filter(
            models.Q(consent__isnull=True) | models.Q(consent__withdrawal_recorded_at__isnull=True)
        )


class Share(SealedModel):
    """The coordinator shares one item, or one whole compartment, of a case with a member or an organisation.

    A share widens what a current team member reads; it never makes a case visible to someone outside the team. An
    organisation share reaches the organisation's current team members. Until a day (inclusive), for a stated purpose;
    health and child's-voice shares name the consent they rest on and stop when it is withdrawn.

    The purpose says why a part of the child's file is shared, often what it is about: it is sealed under the case's
    key in the shared compartment (a health share's purpose is health information), like a note's text.
    """

    SEAL_OWNER_TYPE = KeyOwnerType.CASE

    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="shares")
    compartment = models.CharField(_("compartment"), max_length=16, choices=Compartment.choices)
    item_type = models.CharField(_("item type"), max_length=64, blank=True)
    item_id = models.UUIDField(_("item"), null=True, blank=True)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="shares_received",
        null=True,
        blank=True,
    )
    recipient_organisation = models.ForeignKey(
        "casework.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="shares_received",
        null=True,
        blank=True,
    )
    purpose = SealedField(compartment=PER_ROW, verbose_name=_("purpose"))
    valid_until = models.DateField(_("shared until (last day)"))
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="shares", null=True, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = ShareQuerySet.as_manager()

    class Meta:
        verbose_name = _("share")
        verbose_name_plural = _("shares")
        ordering = ["case", "granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(recipient_user__isnull=False, recipient_organisation__isnull=True)
                    | models.Q(recipient_user__isnull=True, recipient_organisation__isnull=False)
                ),
                name="share_one_recipient",
            ),
            models.CheckConstraint(
                condition=models.Q(item_type="", item_id__isnull=True)
                | (~models.Q(item_type="") & models.Q(item_id__isnull=False)),
                name="share_item_complete",
            ),
            models.CheckConstraint(
                condition=~models.Q(compartment__in=[c.value for c in CONSENT_COMPARTMENTS])
                | models.Q(consent__isnull=False),
                name="share_sensitive_needs_consent",
            ),
        ]
        indexes = [models.Index(fields=["case", "recipient_user"], name="share_case_user_idx")]

    def __str__(self) -> str:
        return f"share {self.pk}"

    def seal_owner_id(self) -> uuid.UUID:
        return self.case_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(case_id=owner_id)


# --- Access oversight: verifications of the chain and anomaly flags -----------------------------------------------


class VerificationTrigger(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    ON_DEMAND = "on_demand", _("on demand")


class AuditVerification(models.Model):
    """The result of one run of ``verify_audit`` (scheduled, or from the oversight page's button).

    Kept so the oversight page can show the last result without walking the chain on every visit. Not part of the
    chain and not protected: it names a row by its ``seq``, never its content.
    """

    ran_at = models.DateTimeField(_("verified at"), default=timezone.now)
    trigger = models.CharField(_("run"), max_length=16, choices=VerificationTrigger.choices)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("run by"), on_delete=models.PROTECT, null=True, blank=True
    )
    rows = models.PositiveBigIntegerField(_("rows verified"))
    intact = models.BooleanField(_("chain intact"))
    broken_seq = models.PositiveBigIntegerField(_("first broken row"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("audit chain verification")
        verbose_name_plural = _("audit chain verifications")
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"verification {self.pk} ({'intact' if self.intact else 'broken'})"


class AnomalyRule(models.TextChoices):
    """The documented rules of docs/adr/0017-access-oversight.md; thresholds in ``settings.ACCESS_ANOMALY_RULES``."""

    BREAK_GLASS = "break_glass", _("Reads through break-glass")
    DENIED_BURST = "denied_burst", _("Burst of denied attempts")
    OFF_HOURS = "off_hours", _("Reads outside working hours")
    MANY_CASES = "many_cases", _("Many cases the person is not on")
    ACCOUNT_CHANGED = "account_changed", _("Role or organisation changed")


class AccessAnomaly(models.Model):
    """One flag raised by ``manage.py flag_access_anomalies`` for a supervisor or the DPO to review.

    ``key`` makes the command idempotent: the same finding always yields the same key. A flag points at audit rows
    (``first_seq``..``last_seq``) and holds counts, never content; ``municipality`` says whose supervisors see it.
    """

    rule = models.CharField(_("rule"), max_length=16, choices=AnomalyRule.choices)
    key = models.CharField(max_length=160, unique=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_anomalies",
    )
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    municipality = models.ForeignKey(
        "casework.Municipality",
        verbose_name=_("authority"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    case_id = models.UUIDField(_("case"), null=True, blank=True)
    first_seq = models.PositiveBigIntegerField(_("first audit row"))
    last_seq = models.PositiveBigIntegerField(_("last audit row"))
    first_at = models.DateTimeField(_("from"))
    last_at = models.DateTimeField(_("until"))
    event_count = models.PositiveIntegerField(_("events"))
    created_at = models.DateTimeField(_("flagged at"), default=timezone.now)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_comment = models.TextField(_("review comment"), blank=True)

    class Meta:
        verbose_name = _("access anomaly")
        verbose_name_plural = _("access anomalies")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["municipality", "id"], name="anomaly_municipality_idx"),
            models.Index(fields=["rule", "actor", "last_at"], name="anomaly_rule_actor_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(rule__in=AnomalyRule.values), name="anomaly_rule_valid"),
            models.CheckConstraint(condition=models.Q(last_seq__gte=models.F("first_seq")), name="anomaly_seq_order"),
            models.CheckConstraint(
                condition=models.Q(reviewed_at__isnull=True) | ~models.Q(review_comment=""),
                name="anomaly_review_has_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"anomaly {self.pk} ({self.rule})"

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None


# --- Break-glass: emergency read access to a case, reviewed afterwards --------------------------------------------

#: An audit row whose purpose starts with this was made through break-glass (``permissions.oversight.is_break_glass``
#: reads it; the gate writes it for every read under a live grant). The purpose is covered by the row's HMAC.
BREAK_GLASS_PURPOSE_PREFIX = "break-glass"


class BreakGlassVerdict(models.TextChoices):
    JUSTIFIED = "justified", _("justified")
    NOT_JUSTIFIED = "not_justified", _("not justified")


class BreakGlassQuerySet(models.QuerySet["BreakGlassGrant"]):
    def live(self, at: datetime.datetime | None = None) -> BreakGlassQuerySet:
        """Grants in force at ``at`` (now): started, not yet expired, not ended early."""
        moment = at or timezone.now()
        return self.filter(started_at__lte=moment, expires_at__gt=moment, ended_at__isnull=True)

    def awaiting_review(self) -> BreakGlassQuerySet:
        return self.filter(reviewed_at__isnull=True)


class BreakGlassGrant(models.Model):
    """An OSPOD worker (or supervisor) of a case's authority opened a case they have no relationship to, giving a
    reason: read-only access until ``expires_at`` (docs/adr/0018-break-glass.md).

    The grant is an audited event (action ``break_glass``); every read under it is marked in its audit row. It waits in
    the review queue until another supervisor of the authority marks it justified or not. ``municipality`` is the
    case's authority when the glass was broken: whose supervisors review it. The reason is plain text read by
    supervisors and the DPO: the form asks not to copy anything from the case file into it.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.PROTECT,
        related_name="break_glass_grants",
    )
    case = models.ForeignKey("casework.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="+")
    municipality = models.ForeignKey(
        "casework.Municipality", verbose_name=_("authority"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    #: Whether the person was on the authority's duty roster when they broke the glass (a fact for the reviewer).
    on_duty = models.BooleanField(_("on duty"), default=False)
    started_at = models.DateTimeField(_("from"))
    expires_at = models.DateTimeField(_("until"))
    ended_at = models.DateTimeField(_("ended early"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verdict = models.CharField(_("verdict"), max_length=16, choices=BreakGlassVerdict.choices, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    objects = BreakGlassQuerySet.as_manager()

    class Meta:
        verbose_name = _("break-glass access")
        verbose_name_plural = _("break-glass accesses")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "case", "expires_at"], name="breakglass_user_case_idx"),
            models.Index(fields=["municipality", "id"], name="breakglass_municipality_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("started_at")), name="breakglass_period"),
            models.CheckConstraint(
                condition=models.Q(reviewed_at__isnull=True, verdict="")
                | models.Q(reviewed_at__isnull=False, verdict__in=BreakGlassVerdict.values),
                name="breakglass_review_has_verdict",
            ),
            models.CheckConstraint(
                condition=~models.Q(verdict=BreakGlassVerdict.NOT_JUSTIFIED) | ~models.Q(review_comment=""),
                name="breakglass_not_justified_has_comment",
            ),
            # Four eyes, in the database too: nobody reviews their own break-glass.
            models.CheckConstraint(
                condition=models.Q(reviewed_by__isnull=True) | ~models.Q(reviewed_by=models.F("user")),
                name="breakglass_no_self_review",
            ),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.pk}"

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None

    @property
    def ends_at(self) -> datetime.datetime:
        """When the access ended or ends: early if ended by hand, otherwise at expiry."""
        return self.ended_at if self.ended_at is not None and self.ended_at < self.expires_at else self.expires_at
