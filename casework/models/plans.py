"""The individual protection plan (IPOD, § 10(3)(d) of Act No. 359/1999 Coll., § 2 of Decree No. 473/2012 Coll.).

* ``Plan`` — one version of the case's plan: draft → submitted → current (approved by a supervisor who did not draft
  it) → superseded by the next approved version. At most one current version and at most one version in the works
  per case (database constraints). Old versions are never changed.
* ``PlanGoal`` — the plan's goals (case basics: every team member works towards them).
* ``PlanAction`` — what, who (a team member or an organisation on the team), by when, how success is judged.
  Sealed in the social compartment and readable, beyond the case's lead, by the action's owner only (DOMAIN.md: the
  case basics hold "plan actions assigned to *them*"; ``permissions.policy.CaseAccess.may_read``).
* ``ActionReport`` — the owner's progress or completion report, sealed in their sector's compartment like a note.

The plan's support offered and the parents' views are social; the child's views are the child's voice. Written only
through ``casework.services.plans``; the case flow (``workflows.flows.CaseFlow``) moves the versions through
approval, and each approved action becomes a task in its owner's inbox (``workflows.flows.ActionFlow``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.compartments import Compartment
from casework.models.cases import NOTE_COMPARTMENTS, Case
from casework.models.conferences import Conference, ConferenceDecision, _CaseSealed
from casework.models.organisations import Organisation
from casework.sealing import PER_ROW, SealedField


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("awaiting approval")
    CURRENT = "current", _("current")
    SUPERSEDED = "superseded", _("superseded")
    DISCARDED = "discarded", _("discarded")


#: A version still being worked on (at most one per case).
IN_WORK_STATUSES = (PlanStatus.DRAFT, PlanStatus.SUBMITTED)
#: A version that was approved (it keeps who approved it).
APPROVED_STATUSES = (PlanStatus.CURRENT, PlanStatus.SUPERSEDED)


class Plan(_CaseSealed):
    """One version of the case's protection plan."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    #: The conference whose decisions the draft started from, if any.
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    support_offered = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("support offered"))
    child_views = SealedField(compartment=Compartment.CHILD_VOICE, verbose_name=_("the child's views"))
    parents_views = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("the parents' views"))
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    #: Why the supervisor returned the draft (social: it may speak of the family).
    return_comment = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("why it was returned"))
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("protection plan (IPOD)")
        verbose_name_plural = _("protection plans (IPOD)")
        ordering = ["case", "version"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=PlanStatus.values), name="plan_status_valid"),
            models.UniqueConstraint(fields=["case", "version"], name="plan_version_unique"),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="current"), name="plan_one_current_per_case"
            ),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status__in=["draft", "submitted"]), name="plan_one_in_work_per_case"
            ),
            # Four eyes: an approved version names who approved it, and that is never who drafted it.
            models.CheckConstraint(
                condition=(
                    ~models.Q(status__in=["current", "superseded"])
                    | models.Q(approved_by__isnull=False, approved_at__isnull=False, next_review_on__isnull=False)
                ),
                name="plan_approved_has_approver",
            ),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True) | ~models.Q(approved_by=models.F("drafted_by")),
                name="plan_approver_not_drafter",
            ),
        ]

    def __str__(self) -> str:
        return f"plan {self.pk} v{self.version}"

    @property
    def is_in_work(self) -> bool:
        return self.status in IN_WORK_STATUSES


class PlanGoal(_CaseSealed):
    """A goal of one plan version."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="goals")
    position = models.PositiveSmallIntegerField(default=0)
    text = SealedField(compartment=Compartment.BASICS, verbose_name=_("goal"))

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["plan", "position", "id"]

    def __str__(self) -> str:
        return f"goal {self.pk}"


class ActionStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class PlanAction(_CaseSealed):
    """An action of one plan version: what, who, by when, and how success is judged."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="actions")
    goal = models.ForeignKey(PlanGoal, on_delete=models.PROTECT, related_name="actions", null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    what = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("what"))
    success_measure = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("how success is judged"))
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    owner_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    due_on = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=16, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    #: The conference decision it came from, and the action of the previous version it continues.
    decision = models.ForeignKey(ConferenceDecision, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    carried_from = models.ForeignKey("self", on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    class Meta:
        verbose_name = _("plan action")
        verbose_name_plural = _("plan actions")
        ordering = ["plan", "position", "due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ActionStatus.values), name="plan_action_status_valid"),
            models.CheckConstraint(
                condition=(
                    models.Q(owner_user__isnull=False, owner_organisation__isnull=True)
                    | models.Q(owner_user__isnull=True, owner_organisation__isnull=False)
                ),
                name="plan_action_one_owner",
            ),
            models.CheckConstraint(
                condition=models.Q(status="done", done_at__isnull=False)
                | (~models.Q(status="done") & models.Q(done_at__isnull=True)),
                name="plan_action_done_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"plan action {self.pk}"

    def owner_name(self) -> str:
        """Who does it, as the pages show it: the person's name, or the organisation's (staff, never the family)."""
        if self.owner_user is not None:
            return self.owner_user.display_name()
        return self.owner_organisation.name if self.owner_organisation is not None else ""

    # Read by permissions.policy: the action's owner reads it (case basics: "plan actions assigned to them").
    @property
    def assignee_user_id(self) -> int | None:
        return self.owner_user_id

    @property
    def assignee_organisation_id(self) -> int | None:
        return self.owner_organisation_id

    def is_overdue(self, today: object | None = None) -> bool:
        return self.status == ActionStatus.OPEN and self.due_on < (today or timezone.localdate())  # type: ignore[operator]


class ActionReport(_CaseSealed):
    """The owner's report on an action: progress, or that it is done. Sealed in the author's sector's compartment."""

    action = models.ForeignKey(PlanAction, on_delete=models.PROTECT, related_name="reports")
    compartment = models.CharField(
        _("compartment"), max_length=16, choices=[(c.value, c.label) for c in NOTE_COMPARTMENTS]
    )
    text = SealedField(compartment=PER_ROW, verbose_name=_("report"))
    completes = models.BooleanField(_("the action is done"), default=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("action report")
        verbose_name_plural = _("action reports")
        ordering = ["action", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(compartment__in=[c.value for c in NOTE_COMPARTMENTS]),
                name="action_report_compartment_valid",
            )
        ]

    def __str__(self) -> str:
        return f"action report {self.pk}"


class AcquaintancePerson(models.TextChoices):
    """Who was acquainted with a plan version. Add values at the end; the value is stored."""

    MOTHER = "mother", _("the mother")
    FATHER = "father", _("the father")
    CHILD = "child", _("the child")
    REPRESENTATIVE = "representative", _("another legal representative (guardian)")


class AcquaintanceWay(models.TextChoices):
    """How they were acquainted with it or took part in it. Add values at the end; the value is stored."""

    TOOK_PART = "took_part", _("took part in making it (a case conference or a meeting)")
    EXPLAINED = "explained", _("it was explained to them in person")
    COPY = "copy", _("received a copy (handed over or sent)")
    CHILD_FORM = "child_form", _("explained to the child in a form suited to their age")
    DECLINED = "declined", _("was offered it and declined")


class PlanAcquaintance(models.Model):
    """That a parent or the child was acquainted with, or took part in, one version of the plan (Decree No.
    473/2012 Coll., § 2: the plan is made together with the parents and the child): who (their relation, no name),
    on which day, how. Content-free: the plan's own texts say what they agreed to."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="acquaintances")
    person = models.CharField(_("who"), max_length=16, choices=AcquaintancePerson.choices)
    on = models.DateField(_("when"))
    way = models.CharField(_("how"), max_length=16, choices=AcquaintanceWay.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("acquaintance with the plan")
        verbose_name_plural = _("acquaintances with the plan")
        ordering = ["plan", "on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__in=AcquaintancePerson.values), name="plan_acquaintance_person_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(way__in=AcquaintanceWay.values), name="plan_acquaintance_way_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"acquaintance {self.pk} with plan {self.plan_id}"
