"""The case's process page: where the case flow (``workflows.flows.CaseFlow``) stands, for the case's leads.

Reached through ``permissions.access.access_case_as_lead`` (the same 404 as for a case that does not exist); only the
coordinator and the authority's supervisors (``is_lead``, also on a closed case) see it, anyone else who sees the case
gets an audited 403. It shows the steps in order with their state, the finished tasks (which step, who, when) and
viewflow's chart of the graph with this process's state, rendered here from ``viewflow.workflow.chart`` — viewflow's
own ``FlowChartView`` checks flow-level permission only and is not mounted (STACK.md). No protected text: step
names, people's names and dates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.template.defaultfilters import title
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from viewflow.workflow import chart, nodes
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from casework.case_views.common import viewer
from casework.selectors.assessments import assessment_disclosed
from casework.selectors.case_file import SECTION_LIMIT
from permissions.access import access_case_as_lead
from workflows.flows import CaseFlow
from workflows.graph import process_steps
from workflows.nodes import OPEN_STATUSES
from workflows.processes import CaseProcess

PURPOSE = "case process"

#: The steps in the flow's order, read from the graph: the start, each human task (labelled as the node declares;
#: the inputs are done when the join fired — every input provided or withdrawn), the end. Gateways are not shown.
STEPS = process_steps(CaseFlow)
#: The nodes whose finished tasks the history lists: every step but the end.
_HISTORY = frozenset(step.node for step in STEPS if not isinstance(step.node, nodes.End))

DONE, CURRENT, WAITING, CANCELLED = "done", "current", "waiting", "cancelled"
STATE_LABELS: dict[str, Promise] = {
    DONE: _("done"),
    CURRENT: _("in progress"),
    WAITING: _("waiting"),
    CANCELLED: _("cancelled"),
}


@dataclass(frozen=True)
class Step:
    label: Promise
    state: str
    state_label: Promise


@dataclass(frozen=True)
class HistoryRow:
    label: Promise
    who: str
    finished: Any
    cancelled: bool


def _steps(tasks: list[Any], process_cancelled: bool) -> list[Step]:
    """Each step's state in the process's *current round*. The flow loops (a returned plan goes back to the draft,
    a review starts a new version), so a step done in an earlier round is not done again yet: every step after the
    last one in progress waits, whatever its earlier tasks say. Without this the approval of a re-drafted plan
    showed as done before it was asked for, and "Now" skipped it."""
    by_node: dict[Any, list[Any]] = {}
    for task in tasks:
        by_node.setdefault(task.flow_task, []).append(task)
    current = [
        index for index, step in enumerate(STEPS) if any(t.status in OPEN_STATUSES for t in by_node.get(step.node, []))
    ]
    last_current = max(current) if current else None
    steps = []
    for index, step in enumerate(STEPS):
        if index in current:
            state = CURRENT
        elif last_current is not None and index > last_current:
            state = WAITING
        elif any(t.status == STATUS.DONE for t in by_node.get(step.done_by, [])):
            state = DONE
        elif process_cancelled:
            state = CANCELLED
        else:
            state = WAITING
        steps.append(Step(label=step.label, state=state, state_label=STATE_LABELS[state]))
    return steps


def _history(tasks: list[Any]) -> list[HistoryRow]:
    finished = [
        t
        for t in tasks
        if t.finished is not None and t.status in (STATUS.DONE, STATUS.CANCELED) and t.flow_task in _HISTORY
    ]
    finished.sort(key=lambda t: (t.finished, t.pk))
    return [
        HistoryRow(
            label=t.flow_task.task_title,
            who=t.owner.display_name() if t.owner is not None else "",
            finished=t.finished,
            cancelled=t.status == STATUS.CANCELED,
        )
        for t in finished
    ]


def _chart(process: CaseProcess, *, nonce: str) -> SafeString:
    """viewflow's SVG chart of the case flow with this process's task states. The SVG comes from viewflow's own
    (autoescaping) template and the flow's fixed node titles: nothing of the case is in it.

    Under the Content-Security-Policy its inline ``<style>`` block carries the request's nonce, and its one style
    attribute becomes the equivalent SVG presentation attribute (style attributes cannot take a nonce)."""
    grid = chart.calc_layout_data(CaseFlow)
    chart.calc_cell_status(CaseFlow, grid, process.pk)
    words = _yes_no()
    for edge in grid.edges:
        edge.label = words.get(edge.label, edge.label)
    svg = chart.grid_to_svg(grid).replace('style="pointer-events: none"', 'pointer-events="none"')
    svg = _sentence_case(svg, grid)
    svg = svg.replace("<style ", f'<style nonce="{nonce}" ', 1)
    return mark_safe(svg)  # noqa: S308 - viewflow's template, fixed titles only; the nonce is base64


def _yes_no() -> dict[str, str]:
    """The chart's edge labels of an ``If`` (viewflow's ``IfNode`` writes English "yes"/"no") in the page's language,
    from Django's own catalogue (the ``yesno`` filter's words)."""
    yes, no, _maybe = gettext("yes,no,maybe").split(",")
    return {"yes": yes, "no": no}


def _sentence_case(svg: str, grid: Any) -> str:
    """viewflow's SVG template title-cases the first line of each node's label ("Schválit Plán"); the node titles are
    written in sentence case and translated (``gettext_lazy``), so each first line is put back as written."""
    for cell in grid.cells:
        if not cell.shape.text:
            continue
        first = str(cell.shape.text[0][0])
        titled = escape(title(first))
        if titled != escape(first):
            svg = svg.replace(f">{titled}</text>", f">{escape(first)}</text>")
    return svg


@login_required
@require_http_methods(["GET", "POST"])
def case_process(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The case flow's steps, history and chart. POST is refused only after the access checks, so whoever may not
    see the page gets the same answer whatever the method."""
    user = viewer(request)
    accessed = access_case_as_lead(user, case_id, purpose=PURPOSE)
    case = accessed.case
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    process = CaseProcess.objects.filter(case_id=case.pk).first()
    context: dict[str, Any] = {
        "case": {"id": case.pk, "reference": case.reference},
        "process": None,
        # What the next steps rest on: the assessment and the team's inputs, read through the gate.
        "assessment": assessment_disclosed(user=user, case=accessed, purpose=PURPOSE, limit=SECTION_LIMIT),
    }
    if process is not None:
        tasks = list(Task.objects.filter(process_id=process.pk).select_related("owner").order_by("created", "id"))
        steps = _steps(tasks, process.status == PROCESS.CANCELED)
        context.update(
            {
                "process": {"status": process.status, "finished": process.finished},
                "steps": steps,
                "current": [s.label for s in steps if s.state == CURRENT],
                "history": _history(tasks),
                "chart": _chart(process, nonce=str(request.csp_nonce)),  # type: ignore[attr-defined]
            }
        )
    return render(request, "workflows/case_process.html", context)
