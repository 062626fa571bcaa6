"""Case selectors: rows with envelopes, never plaintext. Who may see them is decided in ``permissions``."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db.models import F

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


def case_notes(*, case: Case) -> list[CaseNote]:
    """Every note of the case (envelopes), newest first; the gate decides which the viewer reads."""
    return list(
        CaseNote.objects.filter(case=case).select_related("author", "author_organisation").order_by("-created_at")
    )


def coordinator_history(*, case: Case) -> list[CoordinatorAssignment]:
    return list(
        CoordinatorAssignment.objects.filter(case=case)
        .select_related("coordinator", "assigned_by")
        .order_by("assigned_at")
    )
