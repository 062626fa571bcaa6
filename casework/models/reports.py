"""Reports (oznámení, § 10(4) of Act 359/1999 Coll.): how a child comes to OSPOD's attention.

A report exists before any case and often never leads to one, so it has its own data key (owner type "report").
Everything the notifier wrote — who they are, how to reach them, what they observed and the child's details as they
gave them — is sealed in the notifier compartment: §§ 55 and 57 keep the notifier's identity apart from the rest of
the file, so only the authority's supervisors and the coordinator of the case the report led to read it (the policy
in ``permissions``). The partner who filed a report sees its date and status, never its content again.

Columns in clear are what the queue, the deadlines and the statistics need: the receiving authority, when and how the
report arrived, what kind of notifier sent it, the urgency hints, and the triage decision.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.compartments import Compartment
from casework.models.cases import Case
from casework.models.children import Child
from casework.models.competence import CompetenceBasis, ResidenceMunicipality
from casework.models.keys import KeyOwnerType
from casework.models.organisations import Municipality, Sector
from casework.sealing import SealedField, SealedModel


class ReportChannel(models.TextChoices):
    WEB_FORM = "web_form", _("web form (filed by a partner)")
    PHONE = "phone", _("phone call")
    LETTER = "letter", _("letter, e-mail or data box")
    IN_PERSON = "in_person", _("in person")
    ANONYMOUS = "anonymous", _("anonymous message")


class NotifierKind(models.TextChoices):
    """Who reported. The first four must report under § 10(4) and may ask for feedback; anyone else may (§ 7)."""

    SCHOOL = "school", _("school or school facility (§ 10(4))")
    HEALTH = "health", _("health-care provider (§ 10(4))")
    SERVICE = "service", _("social service or accredited person (§ 10(4))")
    STATE_BODY = "state_body", _("state body, e.g. the police (§ 10(4))")
    OTHER_PERSON = "other_person", _("another person, e.g. a relative or a neighbour")
    ANONYMOUS = "anonymous", _("anonymous")


#: Notifiers with the duty to report (§ 10(4)) — and the right to learn within 30 days whether the child was found to
#: be a § 6 child, if they ask.
MANDATED_NOTIFIER_KINDS = frozenset(
    {NotifierKind.SCHOOL, NotifierKind.HEALTH, NotifierKind.SERVICE, NotifierKind.STATE_BODY}
)

#: The notifier kind of a partner who files through the form, by their organisation's sector. A partner of the
#: "other" sector (police, probation, an NGO) says which they are.
NOTIFIER_KIND_BY_SECTOR: dict[str, NotifierKind] = {
    Sector.SCHOOL: NotifierKind.SCHOOL,
    Sector.HEALTH: NotifierKind.HEALTH,
    Sector.SERVICE: NotifierKind.SERVICE,
}
OTHER_SECTOR_NOTIFIER_KINDS = (NotifierKind.STATE_BODY, NotifierKind.OTHER_PERSON)


class UrgencyHint(models.TextChoices):
    """What the notifier saw that may make the report urgent (quality standard 8b: urgency must be assessed)."""

    IMMEDIATE_DANGER = "immediate_danger", _("the child is in immediate danger")
    INJURY = "injury", _("the child is injured")
    WITHOUT_CARE = "without_care", _("the child is without care")
    OTHER = "other", _("something else needs attention soon")


#: Hints that make the report urgent whatever the notifier ticked: the supervisors are notified as urgent.
URGENT_HINTS = frozenset({UrgencyHint.IMMEDIATE_DANGER, UrgencyHint.INJURY, UrgencyHint.WITHOUT_CARE})


class ReportStatus(models.TextChoices):
    RECEIVED = "received", _("received")
    IN_TRIAGE = "in_triage", _("in triage")
    CASE_OPENED = "case_opened", _("case opened")
    ATTACHED = "attached", _("attached to the child's open case")
    CLOSED = "closed", _("closed without a case")


#: Statuses after the triage decision.
DECIDED_STATUSES = frozenset({ReportStatus.CASE_OPENED, ReportStatus.ATTACHED, ReportStatus.CLOSED})


class ReportCloseReason(models.TextChoices):
    NOT_AT_RISK = "not_at_risk", _("the child was found not to be at risk under § 6")
    OTHER_AUTHORITY = "other_authority", _("another authority is competent; the report was forwarded")
    DUPLICATE = "duplicate", _("a repeated report of facts already being dealt with")
    OTHER = "other", _("other reason")


class FeedbackAnswer(models.TextChoices):
    """What a mandated notifier who asked is told (§ 10(4), second sentence): whether OSPOD found the child to be a
    § 6 child — or, for a report forwarded to the competent authority, that it was forwarded (this authority made no
    finding, and must not claim one)."""

    AT_RISK = "at_risk", _("found to be a child at risk under § 6")
    NOT_AT_RISK = "not_at_risk", _("not found to be a child at risk under § 6")
    FORWARDED = "forwarded", _("forwarded to the competent authority")


@dataclass(frozen=True)
class CloseRule:
    """What closing a report for one reason records, so that the feedback it gives is true."""

    at_risk: bool | None
    joins_case: bool
    forwarded: bool
    answer: FeedbackAnswer


#: One rule per close reason; the database constraint ``report_closed_feedback_true`` is built from it, and a test
#: enumerates it. Not at risk / other: no case, "not found at risk". Forwarded: no finding here (``at_risk`` NULL), the
#: competent authority named, "forwarded". Duplicate: the report joins the open case already dealing with the facts,
#: so the answer is that case's — the child is a § 6 child.
CLOSE_RULES: dict[str, CloseRule] = {
    ReportCloseReason.NOT_AT_RISK: CloseRule(
        at_risk=False, joins_case=False, forwarded=False, answer=FeedbackAnswer.NOT_AT_RISK
    ),
    ReportCloseReason.OTHER_AUTHORITY: CloseRule(
        at_risk=None, joins_case=False, forwarded=True, answer=FeedbackAnswer.FORWARDED
    ),
    ReportCloseReason.DUPLICATE: CloseRule(
        at_risk=True, joins_case=True, forwarded=False, answer=FeedbackAnswer.AT_RISK
    ),
    ReportCloseReason.OTHER: CloseRule(
        at_risk=False, joins_case=False, forwarded=False, answer=FeedbackAnswer.NOT_AT_RISK
    ),
}


def _closed_rule_condition() -> models.Q:
    condition = ~models.Q(status=ReportStatus.CLOSED)
    for reason, rule in CLOSE_RULES.items():
        clause = models.Q(close_reason=reason)
        # ``at_risk = false`` is NULL, not false, for a NULL column: a CHECK passes on NULL, so say "not NULL" too.
        clause &= (
            models.Q(at_risk__isnull=True)
            if rule.at_risk is None
            else models.Q(at_risk__isnull=False, at_risk=rule.at_risk)
        )
        clause &= models.Q(case__isnull=False, child__isnull=False) if rule.joins_case else models.Q(case__isnull=True)
        clause &= ~models.Q(forwarded_to="") if rule.forwarded else models.Q(forwarded_to="")
        condition |= clause
    return condition


class Report(SealedModel):
    """One report (oznámení) received by one authority. Sealed with the report's own data key."""

    SEAL_OWNER_TYPE = KeyOwnerType.REPORT

    municipality = models.ForeignKey(
        Municipality, verbose_name=_("receiving authority"), on_delete=models.PROTECT, related_name="reports"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    reference = models.CharField(_("reference number"), max_length=24, unique=True, editable=False)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=16, choices=ReportChannel.choices)
    notifier_kind = models.CharField(_("notifier"), max_length=16, choices=NotifierKind.choices)
    #: The partner who filed it through the form (they are the notifier); NULL for reports entered by OSPOD staff.
    notifier_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports_filed", null=True, blank=True
    )
    #: Who entered it: the partner themselves, or the OSPOD worker who took the call or opened the letter.
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    notifier_name = SealedField(compartment=Compartment.NOTIFIER, verbose_name=_("notifier's name"))
    notifier_contact = SealedField(compartment=Compartment.NOTIFIER, verbose_name=_("notifier's contact"))
    facts = SealedField(compartment=Compartment.NOTIFIER, verbose_name=_("what was observed"))
    child_given_name = SealedField(compartment=Compartment.NOTIFIER, verbose_name=_("child's given name"))
    child_family_name = SealedField(compartment=Compartment.NOTIFIER, verbose_name=_("child's family name"))
    child_date_of_birth = SealedField(compartment=Compartment.NOTIFIER, verbose_name=_("child's date of birth"))
    child_birth_number = SealedField(compartment=Compartment.NOTIFIER, verbose_name=_("child's birth number"))
    child_address = SealedField(compartment=Compartment.NOTIFIER, verbose_name=_("child's address"))

    # Local competence (§ 61): where the child lives, or where they were found in the cases the law names. Routing
    # columns in clear (the municipality, not the address); ``municipality`` is the authority whose queue it is in.
    competence_basis = models.CharField(_("competence by"), max_length=16, choices=CompetenceBasis.choices, blank=True)
    residence_municipality = models.ForeignKey(
        ResidenceMunicipality,
        verbose_name=_("municipality of permanent residence"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    found_municipality = models.ForeignKey(
        ResidenceMunicipality,
        verbose_name=_("municipality where the child was found"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    #: The competent ORP does not use the product: the receiving authority forwards the report with a cover letter.
    forward_to = models.ForeignKey(
        Municipality,
        verbose_name=_("to be forwarded to"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    urgency_hints = models.JSONField(_("urgency hints"), default=list, blank=True)
    urgent_suggested = models.BooleanField(_("the notifier considers it urgent"), default=False)
    feedback_requested = models.BooleanField(_("feedback requested (§ 10(4))"), default=False)

    status = models.CharField(_("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.RECEIVED)
    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="reports", null=True, blank=True
    )
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="reports", null=True, blank=True
    )

    # The triage decision (quality standard 8): urgency, § 6, the coordinator, or why it closed without a case.
    urgent = models.BooleanField(_("urgent"), null=True, blank=True)
    at_risk = models.BooleanField(_("child at risk under § 6"), null=True, blank=True)
    assigned_coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("coordinator assigned in triage"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(_("triaged"), null=True, blank=True)
    close_reason = models.CharField(
        _("reason for closing without a case"), max_length=16, choices=ReportCloseReason.choices, blank=True
    )
    #: The competent authority a report was forwarded to (close reason "another authority"): the feedback names it.
    forwarded_to = models.CharField(_("forwarded to"), max_length=200, blank=True, default="")

    feedback_sent_at = models.DateTimeField(_("feedback sent"), null=True, blank=True)
    feedback_sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "year", "number"], name="report_unique_number"),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in ReportStatus]), name="report_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=[c.value for c in ReportChannel]), name="report_channel_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(notifier_kind__in=[k.value for k in NotifierKind]), name="report_notifier_valid"
            ),
            # Only a mandated reporter has the right to feedback (§ 10(4), second sentence).
            models.CheckConstraint(
                condition=models.Q(feedback_requested=False)
                | models.Q(notifier_kind__in=sorted(k.value for k in MANDATED_NOTIFIER_KINDS)),
                name="report_feedback_only_mandated",
            ),
            models.CheckConstraint(
                condition=~models.Q(channel=ReportChannel.ANONYMOUS) | models.Q(notifier_kind=NotifierKind.ANONYMOUS),
                name="report_anonymous_channel_anonymous_notifier",
            ),
            models.CheckConstraint(
                condition=~models.Q(channel=ReportChannel.WEB_FORM) | models.Q(notifier_user__isnull=False),
                name="report_web_form_has_partner",
            ),
            # A case (opened or attached) needs the child and the case; closing needs a reason and "not at risk".
            models.CheckConstraint(
                condition=~models.Q(status__in=[ReportStatus.CASE_OPENED, ReportStatus.ATTACHED])
                | models.Q(case__isnull=False, child__isnull=False, at_risk=True),
                name="report_with_case_has_case",
            ),
            # Closing records exactly what its reason means for the § 10(4) feedback (CLOSE_RULES): never "not at risk"
            # for a forwarded report or for a duplicate of a case already open.
            models.CheckConstraint(condition=_closed_rule_condition(), name="report_closed_feedback_true"),
            models.CheckConstraint(
                condition=~models.Q(forward_to=models.F("municipality")), name="report_forward_to_other_orp"
            ),
            models.CheckConstraint(
                condition=~models.Q(competence_basis=CompetenceBasis.FOUND)
                | models.Q(found_municipality__isnull=False),
                name="report_found_has_place",
            ),
            models.CheckConstraint(
                condition=models.Q(feedback_sent_at__isnull=True)
                | models.Q(feedback_requested=True, feedback_sent_by__isnull=False),
                name="report_feedback_sent_when_requested",
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "status"], name="report_authority_status"),
            # "Reports you filed", newest first, paged by key (casework.selectors.reports.reports_recorded_by).
            models.Index(fields=["recorded_by", "-received_at", "-id"], name="report_recorded_by_order"),
        ]

    def __str__(self) -> str:
        # Never the child's or the notifier's name: str() ends up in logs, admin and exceptions.
        return self.reference or f"report {self.pk}"

    def seal_owner_id(self) -> uuid.UUID:
        return self.pk

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(pk=owner_id)

    @property
    def is_decided(self) -> bool:
        return self.status in DECIDED_STATUSES

    @property
    def notifier_is_mandated(self) -> bool:
        return self.notifier_kind in MANDATED_NOTIFIER_KINDS

    @property
    def feedback_answer(self) -> FeedbackAnswer | None:
        """The § 10(4) answer this report's triage gives (None before the decision)."""
        if not self.is_decided:
            return None
        if self.status == ReportStatus.CLOSED:
            return CLOSE_RULES[self.close_reason].answer
        return FeedbackAnswer.AT_RISK if self.at_risk else FeedbackAnswer.NOT_AT_RISK

    @staticmethod
    def format_reference(code: str, year: int, number: int) -> str:
        """``OM OZN 2026/0001``: the authority's code, "oznámení", the year and the number within it."""
        return f"{code} OZN {year}/{number:04d}"
