"""The persisted inbox: one row per recipient and event, the source of truth for what a user has to learn.

A row carries a kind, ids and a case reference number (``OM 2026/0042``), never text: there is no free-text column,
so nothing protected can be stored here even by mistake, and the display text comes from the kind (``kind_text``).
The channel layer only carries "look in the table"; a row counts as delivered when a consumer has sent it down a
socket and marked it (DESIGN invariant 7), never because a ``group_send`` returned.

``notifications`` never imports ``casework`` or ``workflows``: the recipient is ``settings.AUTH_USER_MODEL`` and a case
is an id plus its reference, not a foreign key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What happened. New kinds are added here with a text in ``KIND_TEXTS`` (and, if urgent, in ``URGENT_KINDS``)."""

    TASK_ASSIGNED = "task_assigned", _("Task assigned")
    TASK_DUE_SOON = "task_due_soon", _("Task due soon")
    TASK_OVERDUE = "task_overdue", _("Task overdue")
    ESCALATION = "escalation", _("Escalation")
    INPUT_RECEIVED = "input_received", _("Input received")
    REPORT_RECEIVED = "report_received", _("Report received")
    CONFERENCE_INVITATION = "conference_invitation", _("Case conference invitation")
    PLAN_APPROVED = "plan_approved", _("Protection plan approved")
    CASE_ASSIGNED = "case_assigned", _("Case assigned")
    MEMBERSHIP_ADDED = "membership_added", _("Added to a case team")
    MEMBERSHIP_ENDED = "membership_ended", _("Team membership ended")
    SHARE_GRANTED = "share_granted", _("Information shared")
    SHARE_REVOKED = "share_revoked", _("Sharing ended")
    CONFERENCE_CHANGED = "conference_changed", _("Case conference changed")
    CONFERENCE_CANCELLED = "conference_cancelled", _("Case conference cancelled")
    PLAN_RETURNED = "plan_returned", _("Protection plan returned")
    ACTION_REPORTED = "action_reported", _("Plan action reported")
    URGENT_MEASURE = "urgent_measure", _("Petition for a preliminary measure (§ 16)")
    CLOSURE_APPROVED = "closure_approved", _("Case closure approved")
    CLOSURE_RETURNED = "closure_returned", _("Case closure returned")
    DUTY_TRIAGE = "duty_triage", _("Report triaged on duty")
    TRANSFER_PROPOSED = "transfer_proposed", _("Case transfer proposed")
    TRANSFER_ACCEPTED = "transfer_accepted", _("Case transfer accepted")
    TRANSFER_DECLINED = "transfer_declined", _("Case transfer declined")
    KNOWN_CHILD_ASKED = "known_child_asked", _("Another authority asks about a child")
    KNOWN_CHILD_ANSWERED = "known_child_answered", _("Another authority answered about a child")
    ACCESS_ANOMALY = "access_anomaly", _("Access anomaly to review")
    INSPECTION_PREPARED = "inspection_prepared", _("File inspection to approve (§ 55)")
    INSPECTION_APPROVED = "inspection_approved", _("File inspection approved (§ 55)")
    INSPECTION_RETURNED = "inspection_returned", _("File inspection returned (§ 55)")
    BREAK_GLASS = "break_glass", _("Case opened through break-glass")
    ACCOUNT_CHANGED = "account_changed", _("Account changed")
    ACCOUNT_CHANGE_TO_CONFIRM = "account_change_to_confirm", _("Account change to confirm")
    COVER_NAMED = "cover_named", _("Supervisor cover named")
    COVER_ENDED = "cover_ended", _("Supervisor cover ended early")
    REFERRAL_RECEIVED = "referral_received", _("Referral to your service received")
    REFERRAL_WITHDRAWN = "referral_withdrawn", _("Referral withdrawn")
    REFERRAL_ACCEPTED = "referral_accepted", _("Referral accepted")
    REFERRAL_WAITING = "referral_waiting", _("Referral put on the waiting list")
    REFERRAL_DECLINED = "referral_declined", _("Referral declined")
    REFERRAL_OVERDUE = "referral_overdue", _("Referral waiting beyond the service's stated time")
    CHILD_MERGE_PROPOSED = "child_merge_proposed", _("Merge of child register entries to decide")
    CHILD_MERGE_DECIDED = "child_merge_decided", _("Merge of child register entries decided")
    SERVICE_CARD_STALE = "service_card_stale", _("Service card to confirm")


#: The sentence a user reads for each kind, with the case reference filled in. Never more than the kind and the
#: reference: the list page, the live badge and the e-mails all show this and nothing else.
KIND_TEXTS: dict[str, Promise] = {
    Kind.TASK_ASSIGNED: _("You have a new task in case %(reference)s."),
    Kind.TASK_DUE_SOON: _("A task in case %(reference)s is due soon."),
    Kind.TASK_OVERDUE: _("A task in case %(reference)s is overdue."),
    Kind.ESCALATION: _("An overdue task in case %(reference)s was escalated to you."),
    Kind.INPUT_RECEIVED: _("A team member sent an input in case %(reference)s."),
    Kind.REPORT_RECEIVED: _("A new report arrived (%(reference)s)."),
    Kind.CONFERENCE_INVITATION: _("You are invited to a case conference in case %(reference)s."),
    Kind.PLAN_APPROVED: _("The protection plan of case %(reference)s was approved."),
    Kind.CASE_ASSIGNED: _("You now coordinate case %(reference)s."),
    Kind.MEMBERSHIP_ADDED: _("You were added to the team of case %(reference)s."),
    Kind.MEMBERSHIP_ENDED: _("Your membership in the team of case %(reference)s has ended."),
    Kind.SHARE_GRANTED: _("Information in case %(reference)s was shared with you."),
    Kind.SHARE_REVOKED: _("Information in case %(reference)s is no longer shared with you."),
    Kind.CONFERENCE_CHANGED: _("The time or place of a case conference in case %(reference)s changed."),
    Kind.CONFERENCE_CANCELLED: _("A case conference in case %(reference)s was cancelled."),
    Kind.PLAN_RETURNED: _("The protection plan of case %(reference)s was returned for changes."),
    Kind.ACTION_REPORTED: _("A team member reported on a plan action in case %(reference)s."),
    Kind.URGENT_MEASURE: _("An urgent measure (§ 16) was recorded in case %(reference)s."),
    Kind.CLOSURE_APPROVED: _("The closure of case %(reference)s was approved."),
    Kind.CLOSURE_RETURNED: _("The proposal to close case %(reference)s was returned."),
    Kind.DUTY_TRIAGE: _("The worker on duty triaged report %(reference)s."),
    Kind.TRANSFER_PROPOSED: _("Another authority proposes to transfer case %(reference)s to you."),
    Kind.TRANSFER_ACCEPTED: _("The transfer of case %(reference)s was accepted."),
    Kind.TRANSFER_DECLINED: _("The transfer of case %(reference)s was declined."),
    Kind.KNOWN_CHILD_ASKED: _("Another authority asks whether a child is known to you (%(reference)s)."),
    Kind.KNOWN_CHILD_ANSWERED: _("Another authority answered your question about a child (%(reference)s)."),
    # One of NO_REFERENCE_KINDS: no case is named, whatever the row holds.
    Kind.ACCESS_ANOMALY: _("An access anomaly was flagged for review."),
    Kind.INSPECTION_PREPARED: _("A file inspection (§ 55) in case %(reference)s waits for your approval."),
    Kind.INSPECTION_APPROVED: _("The file inspection (§ 55) in case %(reference)s was approved."),
    Kind.INSPECTION_RETURNED: _("The file inspection (§ 55) in case %(reference)s was returned."),
    Kind.BREAK_GLASS: _("Someone with no relationship to case %(reference)s opened it through break-glass."),
    Kind.ACCOUNT_CHANGED: _("An account, its role, organisation, password or second factor was changed."),
    Kind.ACCOUNT_CHANGE_TO_CONFIRM: _("An account change awaits your confirmation."),
    # NO_REFERENCE_KINDS too: a cover names no case (the Cover page says who stands in for whom, and when).
    Kind.COVER_NAMED: _("A supervisor cover that concerns you was named."),
    Kind.COVER_ENDED: _("A supervisor cover that concerns you was ended early."),
    # The provider's side names no case (NO_REFERENCE_KINDS): its intake worker is not on the team and learns the
    # referral's number on the referral's own page.
    Kind.REFERRAL_RECEIVED: _("A new referral to your service arrived."),
    Kind.REFERRAL_WITHDRAWN: _("A referral to your service was withdrawn."),
    Kind.REFERRAL_ACCEPTED: _("The provider accepted the referral in case %(reference)s."),
    Kind.REFERRAL_WAITING: _("The provider put the referral in case %(reference)s on its waiting list."),
    Kind.REFERRAL_DECLINED: _("The provider declined the referral in case %(reference)s."),
    # Sent to both sides: the coordinator's row names the case, the provider's row carries no reference (the label).
    Kind.REFERRAL_OVERDUE: _("A referral in case %(reference)s waits beyond the service's stated time."),
    # NO_REFERENCE_KINDS: a merge concerns register entries, not a case, and the child is named only on the entries'
    # pages (read through the gate); a stale card concerns the provider's service, never a case.
    Kind.CHILD_MERGE_PROPOSED: _("A merge of two child register entries waits for your decision."),
    Kind.CHILD_MERGE_DECIDED: _("A supervisor decided the merge of child register entries that you proposed."),
    Kind.SERVICE_CARD_STALE: _("A card of your service has not been confirmed for a long time: check it and save it."),
}

#: Kinds that are urgent whatever the caller says: they are e-mailed at once instead of in the daily digest.
URGENT_KINDS: frozenset[str] = frozenset({Kind.ESCALATION, Kind.URGENT_MEASURE})

#: Kinds that never name a case (their text is the kind's label): an access-anomaly flag goes to supervisors and the
#: DPO, who read what it is about on the flag's page (the DPO never opens a case).
NO_REFERENCE_KINDS: frozenset[str] = frozenset(
    {
        Kind.ACCESS_ANOMALY,
        Kind.ACCOUNT_CHANGED,
        Kind.ACCOUNT_CHANGE_TO_CONFIRM,
        Kind.COVER_NAMED,
        Kind.COVER_ENDED,
        Kind.REFERRAL_RECEIVED,
        Kind.REFERRAL_WITHDRAWN,
        Kind.CHILD_MERGE_PROPOSED,
        Kind.CHILD_MERGE_DECIDED,
        Kind.SERVICE_CARD_STALE,
    }
)

#: Kinds whose case the recipient can no longer open: the list shows them without a link to the case.
NO_CASE_LINK_KINDS: frozenset[str] = frozenset(
    {Kind.MEMBERSHIP_ENDED, Kind.TRANSFER_ACCEPTED, Kind.KNOWN_CHILD_ASKED, Kind.KNOWN_CHILD_ANSWERED}
)


def kind_text(kind: str, reference: str) -> str:
    """The sentence for ``kind`` in the active language; the kind's label alone when there is no case reference."""
    if not reference or kind not in KIND_TEXTS:
        return str(Kind(kind).label) if kind in Kind.values else str(kind)
    return str(KIND_TEXTS[kind]) % {"reference": reference}


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_user(self, user_id: int) -> NotificationQuerySet:
        return self.filter(recipient_id=user_id)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def undelivered(self) -> NotificationQuerySet:
        return self.filter(delivered_at__isnull=True)


class Notification(models.Model):
    """One thing one user has to learn. Written in the transaction of the change it announces (``services.notify``)."""

    id = models.BigAutoField(primary_key=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    case_id = models.UUIDField(_("case id"), null=True, blank=True)
    case_reference = models.CharField(_("case reference"), max_length=24, blank=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read on"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    # The relay's bookkeeping: when it last asked the recipient's sockets to fetch this row, and how often. The gap
    # between pushes doubles, so a user who is away is not pushed to every few seconds for days.
    pushed_at = models.DateTimeField(null=True, blank=True, editable=False)
    push_count = models.PositiveSmallIntegerField(default=0, editable=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "id"], name="notification_recipient_id"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(delivered_at__isnull=True),
                name="notification_undelivered",
            ),
            models.Index(
                fields=["recipient", "id"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=Kind.values), name="notification_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} ({self.kind}) for user {self.recipient_id}"

    @property
    def text(self) -> str:
        return kind_text(self.kind, self.case_reference)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    #: The child's name and age beside the reference, set by the list page when it renders (never stored: a row
    #: carries no content). Empty when the viewer may not read the case basics.
    child_label: str = ""

    @property
    def links_to_case(self) -> bool:
        return self.case_id is not None and self.kind not in NO_CASE_LINK_KINDS

    @property
    def has_link(self) -> bool:
        """Whether the list links the row: to what it announces (``object_type``/``object_id``) or to its case."""
        return self.kind not in NO_CASE_LINK_KINDS and (self.case_id is not None or bool(self.object_id))


class NotificationPreference(models.Model):
    """What a user wants by e-mail. No row means the defaults (a daily digest)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    digest = models.BooleanField(
        _("daily e-mail digest"),
        default=True,
        help_text=_("One e-mail a day when there are unread notifications. Urgent ones are always e-mailed at once."),
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"notification preference of user {self.user_id}"
