"""Cases (spis Om), their coordinator and its history, the team, and the case notes.

One open case per child and one coordinator per case are database constraints. That the coordinator is an OSPOD
worker of the case's authority spans tables (the user's organisation), so ``casework.services.cases`` checks it on
every write (docs/adr/0004-cases-and-team-access.md says why there is no trigger).

Team membership is the source of truth for a partner's access to a case: ``TeamMembership.objects.current()`` is the
one definition of "valid today", and the object-permission rows in ``permissions`` are only an index of it.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from casework.compartments import Compartment
from casework.models.children import Child
from casework.models.keys import KeyOwnerType
from casework.models.organisations import Municipality, Organisation, Sector
from casework.sealing import PER_ROW, SealedField, SealedModel


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class OpenReason(models.TextChoices):
    """Why the case file (spis Om) was opened: how the child came to OSPOD's attention."""

    REPORT = "report", _("report (oznámení) under § 10(4)")
    OWN_FINDING = "own_finding", _("OSPOD's own finding")
    PARENT_REQUEST = "parent_request", _("request of a parent or the child")
    COURT = "court", _("court or prosecutor")
    TRANSFER = "transfer", _("transfer from another authority")


class CloseReason(models.TextChoices):
    GOALS_MET = "goals_met", _("the plan's goals were met; the child is no longer at risk")
    NOT_AT_RISK = "not_at_risk", _("the child was found not to be at risk under § 6")
    MOVED = "moved", _("the family moved to another authority's area")
    ADULT = "adult", _("the child came of age")
    OTHER = "other", _("other reason")


class SubstituteCare(models.TextChoices):
    """Where the child went when leaving the register, as far as retention cares (DOMAIN.md, "Closure")."""

    NONE = "", _("neither adoption nor foster care")
    ADOPTION = "adoption", _("adoption")
    FOSTER_CARE = "foster_care", _("foster care")


class HandoverReason(models.TextChoices):
    ASSIGNED = "assigned", _("first assignment")
    WORKLOAD = "workload", _("workload")
    ABSENCE = "absence", _("long absence")
    LEAVING = "leaving", _("the coordinator is leaving")
    CONFLICT = "conflict", _("conflict of interest")
    TRANSFER = "transfer", _("the case moved from another authority")
    OTHER = "other", _("other reason")


class MembershipEndReason(models.TextChoices):
    TASK_DONE = "task_done", _("their part is done")
    CHANGED_JOB = "changed_job", _("changed job or school")
    CHILD_LEFT = "child_left", _("the child left their school or care")
    ADDED_BY_MISTAKE = "mistake", _("added by mistake")
    CASE_CLOSED = "case_closed", _("the case was closed")
    CASE_TRANSFERRED = "transferred", _("the case moved to another authority")
    OTHER = "other", _("other reason")


class TeamRole(models.Model):
    """A label for a member's role on a case ("třídní učitelka", "pediatr"). A configurable list (admin)."""

    name_cs = models.CharField(_("name (Czech)"), max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=80)
    sector = models.CharField(
        _("usual sector"), max_length=16, choices=Sector.choices, blank=True, help_text=_("Offered first to it.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("team role")
        verbose_name_plural = _("team roles")
        ordering = ["position", "name_cs"]

    def __str__(self) -> str:
        return self.name_en if (get_language() or "cs").startswith("en") else self.name_cs


#: The starting list of roles on a case team: (Czech, English, usual sector). Migration 0004 installed a frozen copy;
#: ``casework.services.team_roles_ensure_defaults`` restores missing ones (the demo, tests after a database flush).
DEFAULT_TEAM_ROLES: tuple[tuple[str, str, str], ...] = (
    ("třídní učitel/ka", "class teacher", Sector.SCHOOL),
    ("výchovný poradce / výchovná poradkyně", "educational counsellor", Sector.SCHOOL),
    ("školní metodik prevence", "school prevention officer", Sector.SCHOOL),
    ("školní psycholog/psycholožka", "school psychologist", Sector.SCHOOL),
    ("praktický lékař pro děti a dorost", "paediatrician", Sector.HEALTH),
    ("dětský psychiatr/psychiatrička", "child psychiatrist", Sector.HEALTH),
    ("klinický psycholog/psycholožka", "clinical psychologist", Sector.HEALTH),
    ("sociální pracovník/pracovnice SAS", "SAS social worker", Sector.SERVICE),
    ("pracovník/pracovnice pověřené osoby", "worker of an accredited organisation", Sector.SERVICE),
    ("sociální pracovník/pracovnice OSPOD", "OSPOD social worker", Sector.OSPOD),
    ("kurátor/ka pro děti a mládež", "youth probation worker", Sector.OSPOD),
    ("policie ČR", "Police of the Czech Republic", Sector.OTHER),
    ("jiná role", "other role", ""),
)


class Case(models.Model):
    """A child's case file. Holds no protected text itself: notes and later documents are sealed with its key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="cases"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    reference = models.CharField(_("reference number"), max_length=24, unique=True, editable=False)
    child = models.ForeignKey(Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(_("status"), max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("coordinator"), on_delete=models.PROTECT, related_name="coordinated"
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    open_reason = models.CharField(_("reason for opening"), max_length=16, choices=OpenReason.choices)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    close_reason = models.CharField(_("reason for closing"), max_length=16, choices=CloseReason.choices, blank=True)
    #: The child left the register into adoption or foster care: the file is then kept 15 years after the year the
    #: child comes of age (DOMAIN.md, "Closure"; ``casework.services.retention``). Recorded with the closure.
    substitute_care = models.CharField(
        _("left into adoption or foster care"), max_length=16, choices=SubstituteCare.choices, blank=True, default=""
    )
    #: Set when a shredding review's decision was carried out (destroyed, or transferred to the archive): the row is
    #: then a stub and its ``retention_review`` says when and under which decision (``casework.services.retention``).
    file_destroyed_at = models.DateTimeField(_("file destroyed"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at"]
        indexes = [
            # The case list (``casework.selectors.lists``): an authority's cases of one status, newest first, paged by
            # (opened, id).
            models.Index(fields=["municipality", "status", "-opened_at", "-id"], name="case_list_order"),
            # The same list with open and closed cases together ("All cases").
            models.Index(fields=["municipality", "-opened_at", "-id"], name="case_list_all_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=models.Q(status=CaseStatus.OPEN), name="case_one_open_per_child"
            ),
            models.UniqueConstraint(fields=["municipality", "year", "number"], name="case_unique_number"),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in CaseStatus]), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=CaseStatus.OPEN, closed_at__isnull=True, close_reason="")
                    | (models.Q(status=CaseStatus.CLOSED, closed_at__isnull=False) & ~models.Q(close_reason=""))
                ),
                name="case_closed_has_date_and_reason",
            ),
        ]
        permissions = [("coordinate_case", _("Can coordinate the case"))]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    @staticmethod
    def format_reference(code: str, year: int, number: int) -> str:
        return f"{code} {year}/{number:04d}"


class CoordinatorAssignment(models.Model):
    """The history of a case's coordinators: who, from when, until when, who decided and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="coordinator_history")
    coordinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=16, choices=HandoverReason.choices)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("coordinator assignment")
        verbose_name_plural = _("coordinator assignments")
        ordering = ["case", "assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(ended_at__isnull=True), name="case_one_current_coordinator"
            )
        ]

    def __str__(self) -> str:
        return f"coordinator of {self.case_id} from {self.assigned_at:%Y-%m-%d}"


class MembershipQuerySet(models.QuerySet["TeamMembership"]):
    def current(self, on: datetime.date | None = None) -> MembershipQuerySet:
        """Memberships valid on ``on`` (today in Europe/Prague): started, not past their last day, not ended."""
        day = on or timezone.localdate()
        return self.filter(ended_at__isnull=True, valid_from__lte=day).filter(
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=day)
        )

    def not_ended(self) -> MembershipQuerySet:
        return self.filter(ended_at__isnull=True)


class TeamMembership(models.Model):
    """A person on a case's team, with a role on the case, from a day until a day (inclusive), or until ended.

    The member's sector is their organisation's; it decides which compartment they read as "same sector".
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.PROTECT, related_name="memberships"
    )
    team_role = models.ForeignKey(TeamRole, verbose_name=_("role on the case"), on_delete=models.PROTECT)
    valid_from = models.DateField(_("member from"))
    valid_until = models.DateField(_("member until (last day)"), null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    end_reason = models.CharField(
        _("reason for ending"), max_length=16, choices=MembershipEndReason.choices, blank=True
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        ordering = ["case", "added_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"], condition=models.Q(ended_at__isnull=True), name="membership_once_per_case"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=models.F("valid_from")),
                name="membership_until_after_from",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True, end_reason="")
                | (models.Q(ended_at__isnull=False) & ~models.Q(end_reason="")),
                name="membership_ended_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"member {self.user_id} of {self.case_id}"

    def is_current(self, on: datetime.date | None = None) -> bool:
        day = on or timezone.localdate()
        return (
            self.ended_at is None and self.valid_from <= day and (self.valid_until is None or self.valid_until >= day)
        )


#: Compartments a case note may be written in. The notifier compartment belongs to the report (intake).
NOTE_COMPARTMENTS = (
    Compartment.SOCIAL,
    Compartment.SCHOOL,
    Compartment.HEALTH,
    Compartment.SERVICES,
    Compartment.OTHER,
    Compartment.CHILD_VOICE,
)


class CaseNote(SealedModel):
    """A note on a case in one compartment, sealed with the case's data key. Notes are never edited: add another."""

    SEAL_OWNER_TYPE = KeyOwnerType.CASE

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    compartment = models.CharField(
        _("compartment"), max_length=16, choices=[(c.value, c.label) for c in NOTE_COMPARTMENTS]
    )
    text = SealedField(compartment=PER_ROW, verbose_name=_("text"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The author's organisation when they wrote it: "other"-sector notes are readable by that organisation only.
    author_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        ordering = ["case", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(compartment__in=[c.value for c in NOTE_COMPARTMENTS]), name="note_compartment_valid"
            )
        ]

    def __str__(self) -> str:
        return f"note {self.pk}"

    def seal_owner_id(self) -> uuid.UUID:
        return self.case_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(case_id=owner_id)
