"""The case's protection plan (IPOD): the plan board, each version read-only, and the version as a PDF.

Who sees what is the gate's answer, field by field (``permissions.policy``): the case's lead reads the whole plan; a
team member reads the goals (case basics), the actions they own (a plan action is readable by its owner — the person,
or a member of the owning organisation), their own sector's reports and whatever is shared with them. An action the
viewer may not read is left out altogether (only how many were left out is said); a plan text they may not read is
named as hidden, as on the other case pages.

Versions: the lead sees every version (drafts too, and the plan board shows the version in work when nothing is
approved yet); a member sees the approved ones (current and superseded). An old version stays readable with who
approved it and when.

The PDF is an export: the gate's read rows are written as for the page (purpose ``export plan pdf``), then one
``export`` audit row per file, committed before the file is handed out. The file name carries the case reference
and the version only — never a name.

A fixed number of queries whatever the size of the plan: goals, actions (with their report counts), the latest
reports and the versions are one query each, and each gate read is one audit write.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.case_views.common import header, viewer
from casework.models import (
    APPROVED_STATUSES,
    ActionReport,
    ActionStatus,
    Case,
    Plan,
    PlanAction,
    PlanGoal,
    PlanStatus,
    User,
)
from casework.services.plans import ACTION_TEXT_FIELDS, PLAN_OBJECT, PLAN_TEXT_FIELDS
from permissions import audit, gate
from permissions.access import AccessedCase, access_case_by_id, access_case_object, refuse
from permissions.policy import CaseAccess

BOARD_PURPOSE = "case plan"
VERSION_PURPOSE = "case plan version"
EXPORT_PURPOSE = "export plan pdf"


# --- The view-model -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow:
    """One action as the viewer may see it (only actions whose texts the gate disclosed become rows)."""

    id: uuid.UUID
    what: str
    success_measure: str
    owner: str
    due_on: datetime.date
    status: str
    status_label: str
    overdue: bool
    report_count: int
    last_report_at: datetime.datetime | None
    #: The latest report's text: the lead's board only (None otherwise, or when there is no report).
    last_report: str | None = None
    last_report_withheld: bool = False


@dataclass
class GoalGroup:
    """A goal and its actions; the "other actions" group has no goal text."""

    text: str | None
    withheld: bool = False
    actions: list[ActionRow] = field(default_factory=list)

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
    next_review_on: datetime.date | None
    values: Mapping[str, str | None]
    withheld: tuple[str, ...]
    goals: list[GoalGroup]
    other_actions: GoalGroup
    #: Actions of the version the viewer may not read (left out; only their number is shown).
    hidden_actions: int
    is_lead: bool

    @property
    def all_actions(self) -> list[ActionRow]:
        return [a for g in [*self.goals, self.other_actions] for a in g.actions]

    @property
    def exported_fields(self) -> list[str]:
        """Names of what a copy of this view holds, for the export's audit row (names, never values)."""
        names = [name for name in PLAN_TEXT_FIELDS if name in self.values]
        if any(g.text is not None for g in self.goals):
            names.append("goals")
        if self.all_actions:
            names.append("actions")
        return names or ["version"]


@dataclass(frozen=True)
class VersionRow:
    id: uuid.UUID
    version: int
    status_label: str
    approved_by: str
    approved_at: datetime.datetime | None
    shown: bool


def _latest_reports(plan: Plan, action_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ActionReport]:
    """The newest report of each action, one query whatever the number of actions or reports."""
    if not action_ids:
        return {}
    newest = ActionReport.objects.filter(action=OuterRef("action")).order_by("-created_at", "-id").values("pk")[:1]
    rows = ActionReport.objects.filter(action__plan=plan, action_id__in=action_ids, pk=Subquery(newest))
    return {row.action_id: row for row in rows}


def plan_view(user: User, case: Case, plan: Plan, access: CaseAccess, *, purpose: str) -> PlanView:
    """The version's texts, goals and actions as far as the gate lets ``user`` read them, audited with ``purpose``.

    ``plan`` must be an object of ``case`` (``access_case_object``), loaded with ``drafted_by`` and ``approved_by``.
    """
    today = timezone.localdate()
    accessed = AccessedCase(case, access)
    goals = list(PlanGoal.objects.filter(plan=plan).order_by("position", "id"))
    actions = list(
        PlanAction.objects.filter(plan=plan)
        .select_related("owner_user", "owner_organisation")
        .annotate(report_count=Count("reports"), last_report_at=Max("reports__created_at"))
        .order_by("position", "due_on", "id")
    )
    disclosure = gate.read_case(user, accessed, [plan], PLAN_TEXT_FIELDS, purpose=purpose)[0]
    goal_texts = gate.read_case(user, accessed, goals, ["text"], purpose=purpose) if goals else []
    action_texts = gate.read_case(user, accessed, actions, ACTION_TEXT_FIELDS, purpose=purpose) if actions else []
    readable = [(a, d) for a, d in zip(actions, action_texts, strict=True) if d.shows("what")]
    reports: dict[uuid.UUID, gate.Disclosure] = {}
    if access.is_lead:
        latest = _latest_reports(plan, [a.pk for a, _d in readable])
        rows = list(latest.values())
        texts = gate.read_case(user, accessed, rows, ["text"], purpose=purpose) if rows else []
        reports = {row.action_id: text for row, text in zip(rows, texts, strict=True)}

    groups = {
        goal.pk: GoalGroup(text=d.get("text"), withheld=not d.shows("text"))
        for goal, d in zip(goals, goal_texts, strict=True)
    }
    other = GoalGroup(text=None)
    for action, d in readable:
        report = reports.get(action.pk)
        row = ActionRow(
            id=action.pk,
            what=d.get("what") or "",
            success_measure=d.get("success_measure") or "",
            owner=action.owner_name(),
            due_on=action.due_on,
            status=action.status,
            status_label=action.get_status_display(),
            overdue=action.is_overdue(today),
            report_count=getattr(action, "report_count", 0),
            last_report_at=getattr(action, "last_report_at", None),
            last_report=report.get("text") if report is not None else None,
            last_report_withheld=report is not None and not report.shows("text"),
        )
        group = groups.get(action.goal_id, other) if action.goal_id is not None else other
        group.actions.append(row)
    return PlanView(
        id=plan.pk,
        version=plan.version,
        status=plan.status,
        status_label=plan.get_status_display(),
        drafted_by=plan.drafted_by.display_name(),
        approved_by=plan.approved_by.display_name() if plan.approved_by is not None else "",
        approved_at=plan.approved_at,
        next_review_on=plan.next_review_on,
        values=disclosure.values,
        withheld=disclosure.withheld,
        goals=list(groups.values()),
        other_actions=other,
        hidden_actions=len(actions) - len(readable),
        is_lead=access.is_lead,
    )


# --- Versions -----------------------------------------------------------------------------------------------------


def _may_see_version(access: CaseAccess, plan: Plan) -> bool:
    """The lead sees every version; a member the approved ones (a draft is the lead's work in progress)."""
    return access.is_lead or plan.status in APPROVED_STATUSES


def _versions(case: Case, access: CaseAccess) -> list[Plan]:
    plans = Plan.objects.filter(case=case).select_related("drafted_by", "approved_by").order_by("-version")
    return [p for p in plans if _may_see_version(access, p)]


def _version_rows(plans: Sequence[Plan], shown: Plan | None) -> list[VersionRow]:
    return [
        VersionRow(
            id=p.pk,
            version=p.version,
            status_label=p.get_status_display(),
            approved_by=p.approved_by.display_name() if p.approved_by is not None else "",
            approved_at=p.approved_at,
            shown=shown is not None and p.pk == shown.pk,
        )
        for p in plans
    ]


def _board_plan(plans: Sequence[Plan], access: CaseAccess) -> Plan | None:
    """The current version; for the lead, when there is none, the version in work."""
    current = next((p for p in plans if p.status == PlanStatus.CURRENT), None)
    if current is None and access.is_lead:
        return next((p for p in plans if p.is_in_work), None)
    return current


def _version(user: User, case_id: uuid.UUID, plan_id: uuid.UUID, purpose: str) -> tuple[Case, Plan, CaseAccess]:
    """The version named in the URL: 404 for whoever may not see the case and for another case's version; an
    audited 403 for a member asking for a version that was never approved."""
    plan = Plan.objects.select_related("drafted_by", "approved_by").filter(pk=plan_id).first()
    case, access = access_case_object(user, case_id, plan, purpose=purpose)
    assert plan is not None
    plan.case = case
    if not _may_see_version(access, plan):
        raise refuse(user, case, purpose=purpose)
    return case, plan, access


# --- Pages --------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_plan(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The plan board: the current version (or the version in work, for the lead) and the list of versions. POST is
    refused only after the access check, so the page answers 404 to whoever may not see the case."""
    user = viewer(request)
    case, access = access_case_by_id(user, case_id, purpose=BOARD_PURPOSE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    plans = _versions(case, access)
    shown = _board_plan(plans, access)
    return render(
        request,
        "casework/plan_board.html",
        {
            "case": header(case, access),
            "plan": plan_view(user, case, shown, access, purpose=BOARD_PURPOSE) if shown is not None else None,
            "versions": _version_rows(plans, shown),
            "is_lead": access.is_lead,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_plan_version(request: HttpRequest, case_id: uuid.UUID, plan_id: uuid.UUID) -> HttpResponse:
    """One version, read-only, with who drafted and who approved it and when."""
    user = viewer(request)
    case, plan, access = _version(user, case_id, plan_id, VERSION_PURPOSE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return render(
        request,
        "casework/plan_version.html",
        {
            "case": header(case, access),
            "plan": plan_view(user, case, plan, access, purpose=VERSION_PURPOSE),
            "is_lead": access.is_lead,
        },
    )


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal safe inside a ``<style>`` element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("<", "\\3C ")
    return f'"{escaped}"'


def page_counter_css() -> SafeString:
    """The CSS ``content`` of the page footer, "page X of Y" in the active language, from the catalogue's
    ``Page %(number)s of %(total)s`` (the counters are CSS, the words around them translated text)."""
    text = _("Page %(number)s of %(total)s")
    parts: list[str] = []
    rest = text
    for placeholder, counter in (("%(number)s", "counter(page)"), ("%(total)s", "counter(pages)")):
        before, found, after = rest.partition(placeholder)
        if not found:  # a translation without the placeholder: fall back to the bare counters
            return mark_safe('counter(page) " / " counter(pages)')
        parts += [_css_string(before), counter]
        rest = after
    parts.append(_css_string(rest))
    return mark_safe(" ".join(parts))  # noqa: S308 - built from escaped CSS strings and constant counters


def render_plan_pdf(context: dict[str, Any]) -> bytes:
    """The PDF of ``casework/plan_pdf.html`` in Czech (the plan is a document of the Czech file), with Czech
    hyphenation. Nothing is fetched: the template carries its own styles, and every URL is refused."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    with translation.override("cs"):
        html = render_to_string("casework/plan_pdf.html", {**context, "page_counter": page_counter_css()})
    pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


@login_required
@require_http_methods(["GET", "POST"])
def case_plan_pdf(request: HttpRequest, case_id: uuid.UUID, plan_id: uuid.UUID) -> HttpResponse:
    """The version as a PDF, holding only what the viewer may read; audited as an export."""
    user = viewer(request)
    case, plan, access = _version(user, case_id, plan_id, EXPORT_PURPOSE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    content = plan_view(user, case, plan, access, purpose=EXPORT_PURPOSE)
    pdf = render_plan_pdf(
        {
            "case": header(case, access),
            "plan": content,
            "printed_at": timezone.localtime(),
            "printed_by": user.display_name(),
        }
    )
    # Fail closed: no committed export row, no file.
    audit.record_committed(
        actor=user,
        action=audit.AuditAction.EXPORT,
        object_type=PLAN_OBJECT,
        object_id=plan.pk,
        fields=content.exported_fields,
        purpose=EXPORT_PURPOSE,
        outcome=audit.AuditOutcome.ALLOWED,
        case_id=case.pk,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ipod-{slugify(case.reference)}-v{plan.version}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
