"""Deadlines as data (DESIGN invariant 6) and each authority's local time settings.

viewflow's ``Task`` has no due-date column, so every due item — a task of a flow, or a plan action without one — has
one ``Deadline`` row here. The ``check_deadlines`` command reads these rows to warn and escalate, and the inbox
selector joins them to show due and overdue badges. A row holds ids, a kind and timestamps only: no title or other
text, so nothing protected can end up here (the kind says what is due; the task or case says where).

Rows are written only through ``workflows.services.deadlines``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casework.models import Case, Municipality, Organisation

# The allowed ranges of the local settings. ``check_deadlines`` relies on the minimum grace (it reads rows overdue by
# less than a day only while their overdue notice is pending).
URGENT_HOURS_RANGE = (1, 72)
STANDARD_DAYS_RANGE = (1, 30)
REVIEW_MONTHS_RANGE = (1, 12)
DUE_SOON_DAYS_RANGE = (0, 14)
ESCALATION_GRACE_DAYS_RANGE = (1, 30)


def _range(bounds: tuple[int, int]) -> list[MinValueValidator | MaxValueValidator]:
    return [MinValueValidator(bounds[0]), MaxValueValidator(bounds[1])]


def _in_range(field: str, bounds: tuple[int, int]) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": bounds[0], f"{field}__lte": bounds[1]}),
        name=f"authority_settings_{field}_range",
    )


class AuthoritySettings(models.Model):
    """An authority's local time limits. None of them is law (see ``workflows.deadlines``); the defaults are the
    region's practice. An authority without a row uses the defaults: ``for_municipality`` never writes."""

    municipality = models.OneToOneField(
        Municipality, verbose_name=_("authority"), on_delete=models.CASCADE, related_name="deadline_settings"
    )
    urgent_hours = models.PositiveSmallIntegerField(
        _("urgent triage (hours)"),
        default=24,
        validators=_range(URGENT_HOURS_RANGE),
        help_text=_("Time to first contact for an urgent report, counted in hours, weekends and holidays included."),
    )
    standard_days = models.PositiveSmallIntegerField(
        _("standard triage (days)"),
        default=7,
        validators=_range(STANDARD_DAYS_RANGE),
        help_text=_("Days to first contact for a standard report; a last day off work moves to the next working day."),
    )
    review_months = models.PositiveSmallIntegerField(
        _("plan review interval (months)"), default=3, validators=_range(REVIEW_MONTHS_RANGE)
    )
    due_soon_days = models.PositiveSmallIntegerField(
        _("warn before the due date (days)"),
        default=2,
        validators=_range(DUE_SOON_DAYS_RANGE),
        help_text=_("0 turns the due-soon warning off."),
    )
    escalation_grace_days = models.PositiveSmallIntegerField(
        _("grace before escalation (days)"),
        default=2,
        validators=_range(ESCALATION_GRACE_DAYS_RANGE),
        help_text=_(
            "Overdue this long, a task is escalated to the case's coordinator; twice as long, to the supervisors."
        ),
    )

    class Meta:
        verbose_name = _("authority's time limits")
        verbose_name_plural = _("authorities' time limits")
        constraints = [
            _in_range("urgent_hours", URGENT_HOURS_RANGE),
            _in_range("standard_days", STANDARD_DAYS_RANGE),
            _in_range("review_months", REVIEW_MONTHS_RANGE),
            _in_range("due_soon_days", DUE_SOON_DAYS_RANGE),
            _in_range("escalation_grace_days", ESCALATION_GRACE_DAYS_RANGE),
        ]

    def __str__(self) -> str:
        return f"time limits of authority {self.municipality_id}"

    @classmethod
    def for_municipality(cls, municipality: Municipality | int) -> AuthoritySettings:
        """The authority's settings, or an unsaved instance with the defaults when it has none (nothing written)."""
        municipality_id = municipality if isinstance(municipality, int) else municipality.pk
        found = cls.objects.filter(municipality_id=municipality_id).first()
        return found if found is not None else cls(municipality_id=municipality_id)


class DeadlineKind(models.TextChoices):
    """What is due. Add kinds at the end; the value is stored."""

    TRIAGE = "triage", _("urgency triage")
    FEEDBACK = "feedback", _("feedback to the notifier")
    INPUT = "input", _("input to the assessment")
    ASSESSMENT = "assessment", _("assessment")
    PLAN = "plan", _("protection plan")
    PLAN_APPROVAL = "plan_approval", _("approval of the protection plan")
    REVIEW = "review", _("review of the plan")
    CLOSURE_APPROVAL = "closure_approval", _("approval of the closure")
    PLAN_ACTION = "plan_action", _("plan action")


class DeadlineQuerySet(models.QuerySet["Deadline"]):
    def open(self) -> DeadlineQuerySet:
        return self.filter(done_at__isnull=True)


class Deadline(models.Model):
    """One due item: what (``kind``), whose (``owner``; none = the authority's shared queue, i.e. its supervisors),
    where (``case`` and/or ``task``), when (``due_at``), and which warnings and escalations went out when.

    The ``*_at`` stamps are written by ``check_deadlines`` in the same transaction as the notification they record,
    so each notice goes out exactly once. ``done_at`` set means the item is finished (or cancelled) and silent.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=DeadlineKind.choices)
    task = models.OneToOneField(
        "viewflow.Task",
        verbose_name=_("task"),
        on_delete=models.CASCADE,
        related_name="deadline",
        null=True,
        blank=True,
        help_text=_("The flow task this deadline belongs to, when there is one (one deadline per task)."),
    )
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="deadlines", null=True, blank=True
    )
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("authority"),
        on_delete=models.PROTECT,
        related_name="deadlines",
        help_text=_("Whose supervisors an escalation reaches (also when there is no case yet, e.g. a report)."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="deadlines",
        null=True,
        blank=True,
        help_text=_("Empty for a shared queue: the authority's supervisors are told instead."),
    )
    owner_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("owning organisation"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text=_(
            "A plan action owned by an organisation: until one of its people takes the task, its members on the "
            "case's team are warned instead of the supervisors."
        ),
    )
    reference = models.CharField(
        _("reference number"),
        max_length=24,
        blank=True,
        help_text=_("What notifications name when there is no case yet, e.g. a report's number. Never a name."),
    )
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    due_soon_notified_at = models.DateTimeField(_("due-soon warning sent"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue notice sent"), null=True, blank=True)
    escalated_to_coordinator_at = models.DateTimeField(_("escalated to the coordinator"), null=True, blank=True)
    escalated_to_supervisor_at = models.DateTimeField(_("escalated to the supervisors"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["due_at", "id"]
        indexes = [
            # check_deadlines: open rows by due date (its keyset is (due_at, id)).
            models.Index(fields=["due_at", "id"], condition=Q(done_at__isnull=True), name="deadline_open_due"),
            # The inbox: a user's open deadlines by due date, then task: "my tasks" in the list's order.
            models.Index(
                fields=["owner", "due_at", "task"], condition=Q(done_at__isnull=True), name="deadline_open_owner"
            ),
            # The team queue (``workflows.selectors.team_queue``): an authority's, or an organisation's, unowned open
            # items by due date — the queue is read from these, not from every open task of the installation.
            models.Index(
                fields=["municipality", "due_at", "task"],
                condition=Q(done_at__isnull=True, owner__isnull=True),
                name="deadline_queue_authority",
            ),
            models.Index(
                fields=["owner_organisation", "due_at", "task"],
                condition=Q(done_at__isnull=True, owner__isnull=True),
                name="deadline_queue_organisation",
            ),
            # The team queue filtered by one task type: that type's deadlines only, by due date (with the index
            # above, a filter that matches none of the authority's 20 000 waiting items read them all to say so).
            models.Index(
                fields=["municipality", "kind", "due_at", "task"],
                condition=Q(done_at__isnull=True, owner__isnull=True),
                name="deadline_queue_authority_kind",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DeadlineKind.values), name="deadline_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"deadline {self.pk} ({self.kind})"


# The report flow's process lives in its own module (the intake slice); imported here so that Django registers it.
from workflows.processes import CaseProcess, ReportProcess  # noqa: E402, F401
