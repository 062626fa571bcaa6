"""Where a notification leads: the thing it announces (the task, the conference, the plan version, the report, a
merge of register entries, a service card), resolved when it is opened from the non-content reference its row stores
(``object_type`` + ``object_id``).

``notifications`` imports neither ``casework`` nor ``workflows``; it reaches this function by its dotted path,
``settings.NOTIFICATIONS_TARGET_URL``. Nothing is decided about access here: every target page checks it itself
(``access_task_by_id``, ``access_case_by_id``, ``access_report_by_id``), so a user who lost access since the
notification was written gets the same 404 as for a thing that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import NoReverseMatch, reverse

from casework.models import ChildMerge, ChildMergeStatus
from workflows.models import Deadline


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _task_url(object_id: str) -> str | None:
    return reverse("task_detail", kwargs={"task_id": int(object_id)}) if object_id.isdigit() else None


def _deadline_url(object_id: str) -> str | None:
    """A deadline's notice (due soon, overdue, escalated) leads to its task; a plan action's to the plan."""
    if not object_id.isdigit():
        return None
    row = Deadline.objects.filter(pk=int(object_id)).values("task_id", "case_id").first()
    if row is None:
        return None
    if row["task_id"] is not None:
        return reverse("task_detail", kwargs={"task_id": row["task_id"]})
    if row["case_id"] is not None:
        return reverse("case_plan", kwargs={"case_id": row["case_id"]})
    return None


def _child_merge_url(object_id: str) -> str | None:
    """A merge of register entries leads to the entry page where it is decided (the source's, at its merges
    section) while it waits; once decided, to the entry that remains (the target if approved, else the source)."""
    if not object_id.isdigit():
        return None
    row = ChildMerge.objects.filter(pk=int(object_id)).values("status", "source_id", "target_id").first()
    if row is None:
        return None
    if row["status"] == ChildMergeStatus.PENDING:
        return reverse("child_detail", kwargs={"child_id": row["source_id"]}) + "#duplicates-heading"
    child_id = row["target_id"] if row["status"] == ChildMergeStatus.APPROVED else row["source_id"]
    return reverse("child_detail", kwargs={"child_id": child_id})


def notification_target_url(*, kind: str, case_id: Any, object_type: str, object_id: str) -> str | None:
    """The page a notification opens, or None when its target has no page of its own (then the notifications app
    falls back to the case page, or to the list)."""
    object_id = str(object_id or "")
    case = _uuid(str(case_id)) if case_id else None
    try:
        if object_type == "viewflow.task":
            return _task_url(object_id)
        if object_type == "workflows.deadline":
            return _deadline_url(object_id)
        # Account changes (issue 19): the list to confirm them; a changed account's page in access oversight.
        if object_type == "casework.accountchangerequest":
            return reverse("account_changes") if object_id.isdigit() else None
        if object_type == "casework.user":
            return reverse("oversight_person", kwargs={"user_id": int(object_id)}) if object_id.isdigit() else None
        # Referrals: their own page, which decides whether the reader leads the case or answers for the provider.
        if object_type == "services.referral":
            return reverse("referral_detail", kwargs={"referral_id": object_id}) if _uuid(object_id) else None
        if object_type == "casework.supervisorcover":
            return reverse("supervisor_cover")
        if object_type == "casework.childmerge":
            return _child_merge_url(object_id)
        # A stale service card: its edit page, where saving confirms it (the page checks the editor itself).
        if object_type == "services.service":
            return reverse("service_card_edit", kwargs={"service_id": int(object_id)}) if object_id.isdigit() else None
        target = _uuid(object_id)
        if target is None:
            return None
        if object_type == "casework.report":
            return reverse("report_detail", kwargs={"report_id": target})
        if case is None:
            return None
        if object_type == "casework.conference":
            return reverse("conference_detail", kwargs={"case_id": case, "conference_id": target})
        if object_type == "casework.plan":
            return reverse("case_plan_version", kwargs={"case_id": case, "plan_id": target})
        if object_type == "casework.planaction":
            return reverse("case_plan", kwargs={"case_id": case})
    except NoReverseMatch:
        return None
    return None
