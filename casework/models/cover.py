"""Supervisor cover (zastupování vedoucího): a supervisor's deputy for a period.

One row: the supervisor who is away, the deputy who stands in, the authority covered, ``starts_at`` ≤ t <
``ends_at``. While a row is in force the deputy is one of the authority's *acting supervisors*
(``casework.selectors.accounts.supervisor_ids``) and supervises its cases, reports and approvals as its own
supervisors do (``permissions.policy.Subject.supervises``). Ending a cover early moves ``ends_at`` to now and
records who ended it; rows are never deleted (they are the record of who stood in when).

Overlaps (the same supervisor away twice at once, a deputy who is away, a supervisor away while standing in for
someone else) are refused by ``casework.services.cover.supervisor_cover_add`` under a lock of both users' rows: a
constraint spanning rows is not portable to SQLite. No protected content here: ids, times and a short note.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .organisations import Municipality


class SupervisorCoverQuerySet(models.QuerySet["SupervisorCover"]):
    def in_force(self, at: datetime.datetime | None = None) -> SupervisorCoverQuerySet:
        """Covers in force at ``at`` (now): started, not yet ended."""
        moment = at or timezone.now()
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)

    def covered_authority_ids(self, *, deputy_id: int, at: datetime.datetime | None = None) -> frozenset[int]:
        """The authorities ``deputy_id`` stands in for at ``at`` (now). One query."""
        return frozenset(self.in_force(at).filter(deputy_id=deputy_id).values_list("municipality_id", flat=True))

    def overlapping(self, starts_at: datetime.datetime, ends_at: datetime.datetime) -> SupervisorCoverQuerySet:
        """Covers sharing a moment with [``starts_at``, ``ends_at``); a cover cancelled before it began (an empty
        period, ``ends_at == starts_at``) shares none."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).exclude(ends_at=models.F("starts_at"))


class SupervisorCover(models.Model):
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisor away"),
        on_delete=models.PROTECT,
        related_name="covers_given",
    )
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("deputy"), on_delete=models.PROTECT, related_name="covers_taken"
    )
    #: The authority covered: the supervisor's when the cover was named (a deputy may come from another ORP).
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="supervisor_covers"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    ended_early_at = models.DateTimeField(_("ended early"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = SupervisorCoverQuerySet.as_manager()

    class Meta:
        verbose_name = _("supervisor cover")
        verbose_name_plural = _("supervisor covers")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="supervisor_cover_ends_after"
            ),
            models.CheckConstraint(
                condition=~models.Q(supervisor=models.F("deputy")), name="supervisor_cover_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["deputy", "ends_at"], name="supervisor_cover_deputy"),
            models.Index(fields=["municipality", "ends_at"], name="supervisor_cover_authority"),
        ]

    def __str__(self) -> str:
        return f"cover {self.supervisor_id}→{self.deputy_id} {self.starts_at:%Y-%m-%d}"
