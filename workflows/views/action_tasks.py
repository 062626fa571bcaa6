"""The task page of a plan action (``workflows.flows.ActionFlow``): what was agreed, by when, and the owner's
reports — progress, or that it is done.

The action and the reports pass the gate with the purpose "plan action": the owner reads the action (it is assigned
to them) and the reports of their own sector; the case's lead reads everything. Reporting goes through
``casework.services.plan_actions.action_report``: a "done" report completes the task in the same transaction
(the ``plan_action_done`` hook).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from casework.models import ActionReport, PlanAction, PlanGoal, User
from casework.services.plan_actions import action_report
from permissions import gate
from workflows import tasks
from workflows.action_forms import ActionReportForm
from workflows.flows import ActionFlow
from workflows.views.case_tasks import _common, _done

PURPOSE = "plan action"


def _action_content(user: User, action: PlanAction) -> dict[str, Any]:
    case = action.plan.case
    disclosure = gate.read_case(user, case, [action], ["what", "success_measure"], purpose=PURPOSE)[0]
    goal_text = None
    if action.goal_id is not None:
        goal = PlanGoal.objects.get(pk=action.goal_id)
        goal_text = gate.read_case(user, case, [goal], ["text"], purpose=PURPOSE)[0].get("text")
    reports = list(ActionReport.objects.filter(action=action).select_related("author").order_by("created_at", "id"))
    report_texts = gate.read_case(user, case, reports, ["text"], purpose=PURPOSE) if reports else []
    return {
        "what": disclosure.get("what"),
        "success_measure": disclosure.get("success_measure"),
        "withheld": disclosure.withheld,
        "goal": goal_text,
        "owner": action.owner_name(),
        "due_on": action.due_on,
        "overdue": action.is_overdue(),
        "status": action.get_status_display(),
        "reports": [
            {
                "author": report.author.display_name(),
                "created_at": report.created_at,
                "completes": report.completes,
                "text": texts.get("text"),
                "withheld": not texts.shows("text"),
            }
            for report, texts in zip(reports, report_texts, strict=True)
        ],
    }


def do_action(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """The owner reports progress (the task stays) or that the action is done (the task completes)."""
    action = ActionFlow.action_of(task)
    case = action.plan.case
    form = ActionReportForm(request.POST or None)
    if request.method == "POST":
        tasks.require_task_holder(user, task, purpose="report on plan action")
        if form.is_valid():
            completes = form.cleaned_data["completes"]
            try:
                action_report(action=action, by=user, text=form.cleaned_data["text"], completes=completes)
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                if completes:
                    return _done(
                        request,
                        _("Case %(case)s: the action is done and the coordinator was told.") % {"case": case.reference},
                    )
                messages.success(request, _("Your report was saved and the coordinator was told."))
                return redirect("task_detail", task_id=task.pk)
    return render(
        request,
        "workflows/do_action.html",
        {**_common(task, user, case), "form": form, "action": _action_content(user, action)},
    )
