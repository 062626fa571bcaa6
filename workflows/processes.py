"""viewflow processes that carry a link to the domain row they are about.

``ReportProcess`` is the process of ``workflows.flows.ReportFlow``: one per report (oznámení), with a real foreign key
(a one-to-one) instead of viewflow's generic ``artifact``, so the inbox selectors join a task to its report, its
authority and its case in SQL. ``CaseProcess`` is the process of ``workflows.flows.CaseFlow``: one per case,
started when the case opens.

Registered through ``workflows.models`` (Django discovers models there).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from casework.models import Case, ClosureRequest, PlanAction, Report

#: viewflow's own columns of a process (its status, finish time, data…): what its nodes change after the start.
_PROCESS_COLUMNS = tuple(field.name for field in Process._meta.concrete_fields if not field.primary_key)


class _LinkedProcess(Process):
    """A process whose link to its domain row is set once, when it starts: a later ``save()`` without
    ``update_fields`` (viewflow's end node finishing the process) writes viewflow's table only, not the link's."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and not args and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = _PROCESS_COLUMNS
        super().save(*args, **kwargs)


class ReportProcess(_LinkedProcess):
    # No reverse accessor: ``casework`` knows nothing of flows.
    report: models.OneToOneField[Report, Report] = models.OneToOneField(
        Report, verbose_name=_("report"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("report process")
        verbose_name_plural = _("report processes")
        # viewflow adds "manage" to every flow's process at import time; saying so here keeps the migration stable.
        default_permissions = ("add", "change", "delete", "view", "manage")

    def __str__(self) -> str:
        return f"report process {self.pk}"


class CaseProcess(_LinkedProcess):
    # No reverse accessor: ``casework`` knows nothing of flows.
    case: models.OneToOneField[Case, Case] = models.OneToOneField(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("case process")
        verbose_name_plural = _("case processes")
        default_permissions = ("add", "change", "delete", "view", "manage")

    def __str__(self) -> str:
        return f"case process {self.pk}"


class ActionProcess(_LinkedProcess):
    """The process of ``workflows.flows.ActionFlow``: one per action of an approved plan version."""

    action: models.OneToOneField[PlanAction, PlanAction] = models.OneToOneField(
        PlanAction, verbose_name=_("plan action"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("plan action process")
        verbose_name_plural = _("plan action processes")
        default_permissions = ("add", "change", "delete", "view", "manage")

    def __str__(self) -> str:
        return f"action process {self.pk}"


class ClosureProcess(_LinkedProcess):
    """The process of ``workflows.flows.ClosureFlow``: one per closure request."""

    request: models.OneToOneField[ClosureRequest, ClosureRequest] = models.OneToOneField(
        ClosureRequest, verbose_name=_("closure request"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("closure process")
        verbose_name_plural = _("closure processes")
        default_permissions = ("add", "change", "delete", "view", "manage")

    def __str__(self) -> str:
        return f"closure process {self.pk}"
