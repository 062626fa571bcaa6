"""The plan's read model (DESIGN invariant 11): one version of the protection plan as the gate lets a viewer read it.

Every page that shows a plan builds it here — the plan board, a version, its PDF, and the workflow's draft editor,
approval and review pages — so what a role sees of a plan is decided once. The editor adds its form's values on top
(the owner choices, the formset's initial rows) from the plain values of :class:`ActionRow`.

Who sees what is the gate's answer, field by field (``permissions.policy``): the case's lead reads the whole plan; a
team member reads the goals (case basics), the actions they own, their own sector's reports and whatever is shared
with them. Every action is kept in :attr:`PlanView.actions` with its withheld texts named (the workflow pages list
them, marked hidden); the board's goal groups hold only the actions whose ``what`` the viewer may read, and
:attr:`PlanView.hidden_actions` counts the rest.

Versions: the lead sees every version (drafts too); a member sees the approved ones (current and superseded).

A fixed number of queries whatever the size of the plan: goals, actions (with their report counts) and, when asked
for, the latest reports are one query each, and each gate read is one audit write. This module imports
``permissions``, so it is imported from its own path, never from ``casework.selectors``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone

from casework.case_forms import person_label
from casework.models import (
    APPROVED_STATUSES,
    ActionReport,
    ActionStatus,
    Case,
    Plan,
    PlanAcquaintance,
    PlanAction,
    PlanGoal,
    PlanStatus,
    User,
)
from casework.services.plans import ACTION_TEXT_FIELDS, PLAN_TEXT_FIELDS
from permissions import gate
from permissions.access import AccessedCase, accessed_case
from permissions.policy import CaseAccess

#: The comment a supervisor left when returning a version: read only by the pages that show it to the drafter.
RETURN_COMMENT = "return_comment"


@dataclass(frozen=True)
class ActionRow:
    """One action as the viewer may see it; a withheld text is ``None`` and named by its ``*_withheld`` flag."""

    id: uuid.UUID
    what: str | None
    what_withheld: bool
    success_measure: str | None
    success_measure_withheld: bool
    #: The owner's name (a person or an organisation).
    owner: str
    #: The owner as the editor and the approver list them: a person with their organisation.
    owner_label: str
    owner_user_id: int | None
    owner_organisation_id: int | None
    due_on: datetime.date
    status: str
    status_label: str
    overdue: bool
    report_count: int
    last_report_at: datetime.datetime | None
    #: The number of the action's goal in the version's goal list (1-based), if it has one.
    goal_number: int | None
    decision_id: uuid.UUID | None
    carried_from_id: uuid.UUID | None
    #: The latest report's text: the lead's board only (None otherwise, or when there is no report).
    last_report: str | None = None
    last_report_withheld: bool = False


@dataclass(frozen=True)
class GoalGroup:
    """A goal and the actions of it the viewer may read; the "other actions" group has no goal text."""

    text: str | None
    withheld: bool = False
    actions: tuple[ActionRow, ...] = field(default=())

    @property
    def open_count(self) -> int:
        return sum(1 for a in self.actions if a.status == ActionStatus.OPEN)

    @property
    def done_count(self) -> int:
        return sum(1 for a in self.actions if a.status == ActionStatus.DONE)

    @property
    def overdue_count(self) -> int:
        return sum(1 for a in self.actions if a.overdue)


@dataclass(frozen=True)
class PlanView:
    """One version of the plan as far as the gate let the viewer read it."""

    id: uuid.UUID
    version: int
    status: str
    status_label: str
    drafted_by: str
    approved_by: str
    approved_at: datetime.datetime | None
    returned_at: datetime.datetime | None
    next_review_on: datetime.date | None
    values: Mapping[str, str | None]
    withheld: tuple[str, ...]
    goals: tuple[GoalGroup, ...]
    other_actions: GoalGroup
    #: Every action of the version in order, readable or not (their withheld texts named on each row).
    actions: tuple[ActionRow, ...]
    #: Actions of the version the viewer may not read (left out of the goal groups; only their number is shown).
    hidden_actions: int
    is_lead: bool

    @property
    def all_actions(self) -> list[ActionRow]:
        """The actions the viewer may read, goal by goal, then the others."""
        return [a for g in [*self.goals, self.other_actions] for a in g.actions]

    @property
    def goal_texts(self) -> list[str]:
        """The goals' texts the viewer may read, in order (the editor's goal lines)."""
        return [g.text or "" for g in self.goals if not g.withheld]

    @property
    def goals_withheld(self) -> bool:
        return any(g.withheld for g in self.goals)

    @property
    def exported_fields(self) -> list[str]:
        """Names of what a copy of this view holds, for the export's audit row (names, never values)."""
        names = [name for name in PLAN_TEXT_FIELDS if name in self.values]
        if any(g.text is not None for g in self.goals):
            names.append("goals")
        if self.all_actions:
            names.append("actions")
        return names or ["version"]


def _latest_reports(plan: Plan, action_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ActionReport]:
    """The newest report of each action, one query whatever the number of actions or reports."""
    if not action_ids:
        return {}
    newest = ActionReport.objects.filter(action=OuterRef("action")).order_by("-created_at", "-id").values("pk")[:1]
    rows = ActionReport.objects.filter(action__plan=plan, action_id__in=action_ids, pk=Subquery(newest))
    return {row.action_id: row for row in rows}


def plan_disclosed(
    *,
    user: User,
    case: AccessedCase | Case,
    plan: Plan,
    purpose: str,
    latest_reports: bool = True,
    return_comment: bool = False,
) -> PlanView:
    """The version's texts, goals and actions as far as the gate lets ``user`` read them, audited with ``purpose``.

    ``plan`` must be an object of ``case`` the caller has checked (``access_case_object``, or the task's own case),
    loaded with ``drafted_by`` and ``approved_by``. ``latest_reports``: the lead also reads each readable action's
    newest report (the board, a version, the PDF; the workflow pages don't show reports). ``return_comment``: the
    supervisor's comment is read as well (the draft editor shows it to the drafter).
    """
    accessed = accessed_case(user, case)  # the decision the gate reads below reuse
    access: CaseAccess = accessed.access
    today = timezone.localdate()
    goals = list(PlanGoal.objects.filter(plan=plan).order_by("position", "id"))
    actions = list(
        PlanAction.objects.filter(plan=plan)
        .select_related("owner_user__organisation", "owner_organisation")
        .annotate(report_count=Count("reports"), last_report_at=Max("reports__created_at"))
        .order_by("position", "due_on", "id")
    )
    fields = [*PLAN_TEXT_FIELDS, RETURN_COMMENT] if return_comment else PLAN_TEXT_FIELDS
    disclosure = gate.read_case(user, accessed, [plan], fields, purpose=purpose)[0]
    goal_texts = gate.read_case(user, accessed, goals, ["text"], purpose=purpose) if goals else []
    action_texts = gate.read_case(user, accessed, actions, ACTION_TEXT_FIELDS, purpose=purpose) if actions else []
    reports: dict[uuid.UUID, gate.Disclosure] = {}
    if latest_reports and access.is_lead:
        latest = _latest_reports(plan, [a.pk for a, d in zip(actions, action_texts, strict=True) if d.shows("what")])
        report_rows = list(latest.values())
        texts = gate.read_case(user, accessed, report_rows, ["text"], purpose=purpose) if report_rows else []
        reports = {row.action_id: text for row, text in zip(report_rows, texts, strict=True)}

    goal_numbers = {goal.pk: number for number, goal in enumerate(goals, start=1)}
    rows = [
        _action_row(action, d, reports.get(action.pk), goal_numbers, today)
        for action, d in zip(actions, action_texts, strict=True)
    ]
    readable = {action.pk: d.shows("what") for action, d in zip(actions, action_texts, strict=True)}
    grouped: dict[uuid.UUID | None, list[ActionRow]] = {}
    for action, row in zip(actions, rows, strict=True):
        if readable[action.pk]:
            key = action.goal_id if action.goal_id in goal_numbers else None
            grouped.setdefault(key, []).append(row)
    return PlanView(
        id=plan.pk,
        version=plan.version,
        status=plan.status,
        status_label=plan.get_status_display(),
        drafted_by=plan.drafted_by.display_name(),
        approved_by=plan.approved_by.display_name() if plan.approved_by is not None else "",
        approved_at=plan.approved_at,
        returned_at=plan.returned_at,
        next_review_on=plan.next_review_on,
        values=disclosure.values,
        withheld=disclosure.withheld,
        goals=tuple(
            GoalGroup(text=d.get("text"), withheld=not d.shows("text"), actions=tuple(grouped.get(goal.pk, ())))
            for goal, d in zip(goals, goal_texts, strict=True)
        ),
        other_actions=GoalGroup(text=None, actions=tuple(grouped.get(None, ()))),
        actions=tuple(rows),
        hidden_actions=sum(1 for shown in readable.values() if not shown),
        is_lead=access.is_lead,
    )


def _action_row(
    action: PlanAction,
    texts: gate.Disclosure,
    report: gate.Disclosure | None,
    goal_numbers: Mapping[uuid.UUID, int],
    today: datetime.date,
) -> ActionRow:
    return ActionRow(
        id=action.pk,
        what=texts.get("what"),
        what_withheld=not texts.shows("what"),
        success_measure=texts.get("success_measure"),
        success_measure_withheld=not texts.shows("success_measure"),
        owner=action.owner_name(),
        owner_label=person_label(action.owner_user) if action.owner_user is not None else action.owner_name(),
        owner_user_id=action.owner_user_id,
        owner_organisation_id=action.owner_organisation_id,
        due_on=action.due_on,
        status=action.status,
        status_label=action.get_status_display(),
        overdue=action.is_overdue(today),
        report_count=getattr(action, "report_count", 0),
        last_report_at=getattr(action, "last_report_at", None),
        goal_number=goal_numbers.get(action.goal_id) if action.goal_id is not None else None,
        decision_id=action.decision_id,
        carried_from_id=action.carried_from_id,
        last_report=report.get("text") if report is not None else None,
        last_report_withheld=report is not None and not report.shows("text"),
    )


# --- Versions -----------------------------------------------------------------------------------------------------


def plan_version_visible(access: CaseAccess, plan: Plan) -> bool:
    """The lead sees every version; a member the approved ones (a draft is the lead's work in progress)."""
    return access.is_lead or plan.status in APPROVED_STATUSES


def plan_versions_visible(*, case: Case, access: CaseAccess) -> list[Plan]:
    """The case's versions the viewer may see, newest first (one query)."""
    plans = Plan.objects.filter(case=case).select_related("drafted_by", "approved_by").order_by("-version")
    return [p for p in plans if plan_version_visible(access, p)]


def plan_on_board(plans: Sequence[Plan], access: CaseAccess) -> Plan | None:
    """The current version; for the lead, when there is none, the version in work."""
    current = next((p for p in plans if p.status == PlanStatus.CURRENT), None)
    if current is None and access.is_lead:
        return next((p for p in plans if p.is_in_work), None)
    return current


# --- Acquaintance with a version --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcquaintanceRow:
    """Who (a relation, no name) was acquainted with the version, when and how; who recorded it."""

    person: str
    on: datetime.date
    way: str
    recorded_by: str


def plan_acquaintances(*, plan: Plan) -> list[AcquaintanceRow]:
    """The version's record of acquaintance and participation, by day (one query; content-free, no gate read)."""
    rows = PlanAcquaintance.objects.filter(plan=plan).select_related("recorded_by").order_by("on", "id")
    return [
        AcquaintanceRow(
            person=row.get_person_display(),
            on=row.on,
            way=row.get_way_display(),
            recorded_by=row.recorded_by.display_name(),
        )
        for row in rows
    ]
