"""Case selectors: rows with envelopes, never plaintext. Who may see them is decided in ``permissions``."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber

from casework.models import Case, CaseNote, CaseStatus, Child, CoordinatorAssignment, TeamMembership


def case_get(*, case_id: uuid.UUID | str) -> Case | None:
    try:
        return (
            Case.objects.select_related("child", "municipality", "coordinator__organisation").filter(pk=case_id).first()
        )
    except ValidationError:
        return None  # a malformed UUID is just "not found"


def open_case_of_child(*, child: Child) -> Case | None:
    return Case.objects.filter(child=child, status=CaseStatus.OPEN).first()


def case_memberships(*, case: Case, include_ended: bool = True) -> list[TeamMembership]:
    """The team, current members first, with everything a team table shows in one query."""
    rows = TeamMembership.objects.filter(case=case).select_related(
        "user__organisation", "team_role", "added_by", "ended_by"
    )
    if not include_ended:
        rows = rows.filter(ended_at__isnull=True)
    return list(rows.order_by(F("ended_at").asc(nulls_first=True), "added_at"))


def case_notes(
    *, case: Case, limit_per_compartment: int | None = None, unlimited: Collection[str] = ()
) -> list[CaseNote]:
    """Every note of the case (envelopes), newest first; the gate decides which the viewer reads.

    ``limit_per_compartment``: only the newest ``limit + 1`` notes of each compartment (the case file shows ``limit``
    and knows there are more), except in the ``unlimited`` compartments; still one query (a window function)."""
    rows = CaseNote.objects.filter(case=case).select_related("author", "author_organisation")
    if limit_per_compartment is not None:
        rows = rows.annotate(
            rank=Window(RowNumber(), partition_by=[F("compartment")], order_by=[F("created_at").desc(), F("id")])
        ).filter(Q(rank__lte=limit_per_compartment + 1) | Q(compartment__in=list(unlimited)))
    return list(rows.order_by("-created_at", "id"))


def coordinator_history(*, case: Case) -> list[CoordinatorAssignment]:
    return list(
        CoordinatorAssignment.objects.filter(case=case)
        .select_related("coordinator", "assigned_by")
        .order_by("assigned_at")
    )
