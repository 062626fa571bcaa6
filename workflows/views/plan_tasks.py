"""The task pages of the plan stage (``CaseFlow``: draft, approval, review) and of a closure's approval
(``ClosureFlow``).

Four eyes: the approval tasks sit in the supervisors' queue and their policy (``CaseFlow.may_approve_plan``,
``ClosureFlow.may_decide``) leaves out whoever drafted the version or proposed the closure; the services check it
again (``casework.services.plans``, ``casework.services.lifecycle``) and the database refuses an approver who drafted.
Every protected value shown passes the gate with the page's purpose.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import Case, ClosureRequest, Plan, PlanGoal, User
from casework.services.lifecycle import closure_approve, closure_return
from casework.services.plans import plan_approve, plan_draft_start, plan_in_work, plan_return, plan_save, plan_submit
from permissions import gate
from workflows import tasks
from workflows.deadlines import prague_date, review_due
from workflows.flows import CaseFlow, ClosureFlow
from workflows.forms import DecisionForm, PlanForm
from workflows.models import AuthoritySettings
from workflows.views.case_tasks import _common, _done

PLAN_FIELDS = ["support_offered", "child_views", "parents_views", "return_comment"]


def _plan_content(user: User, case: Case, plan: Plan, purpose: str) -> dict[str, Any]:
    """The version's texts and goals as far as the gate lets ``user`` read them."""
    goals = list(PlanGoal.objects.filter(plan=plan).order_by("position", "id"))
    disclosure = gate.read_case(user, case, [plan], PLAN_FIELDS, purpose=purpose)[0]
    goal_texts = gate.read_case(user, case, goals, ["text"], purpose=purpose) if goals else []
    return {
        "version": plan.version,
        "status": plan.get_status_display(),
        "drafted_by": plan.drafted_by.display_name(),
        "next_review_on": plan.next_review_on,
        "values": disclosure.values,
        "withheld": disclosure.withheld,
        "goals": [d.get("text") for d in goal_texts if d.shows("text")],
        "goals_withheld": any(not d.shows("text") for d in goal_texts),
    }


def draft_plan(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """The draft of the next version: save as often as needed, then submit it for approval (completes the task)."""
    case = CaseFlow.case_of(task)
    plan = plan_in_work(case)
    if plan is None:  # a draft is made when the task is created; a returned or revised one is kept in work
        plan = plan_draft_start(case=case, by=user)
    content = _plan_content(user, case, plan, "draft plan")
    values = content["values"]
    initial = {
        "goals": "\n".join(content["goals"]),
        "support_offered": values.get("support_offered") or "",
        "child_views": values.get("child_views") or "",
        "parents_views": values.get("parents_views") or "",
        "next_review_on": plan.next_review_on,
    }
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if task.owner_id != user.pk:
            raise tasks.refuse_task(user, task, "draft plan")
        if form.is_valid():
            data = form.cleaned_data
            submit = "submit" in request.POST
            try:
                plan_save(
                    plan=plan,
                    by=user,
                    goals=form.goal_lines(),
                    support_offered=data["support_offered"],
                    child_views=data["child_views"],
                    parents_views=data["parents_views"],
                    next_review_on=data["next_review_on"],
                )
                if submit:
                    tasks.task_complete(
                        task=task,
                        user=user,
                        work=lambda: plan_submit(plan=plan, by=user),
                        purpose="submit plan",
                    )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                if submit:
                    return _done(
                        request,
                        _("Case %(case)s: the plan was sent to a supervisor for approval.") % {"case": case.reference},
                    )
                messages.success(request, _("The draft was saved."))
                return redirect("task_detail", task_id=task.pk)
    return render(
        request,
        "workflows/draft_plan.html",
        {**_common(task, user, case), "form": form, "plan": content, "returned": plan.returned_at},
    )


def approve_plan(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """A supervisor who did not draft the version approves it (it becomes current) or returns it with a comment."""
    case = CaseFlow.case_of(task)
    plan = plan_in_work(case)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and plan is not None:
        if task.owner_id != user.pk:
            raise tasks.refuse_task(user, task, "decide plan")
        if form.is_valid():
            approve = form.cleaned_data["decision"] == DecisionForm.APPROVE
            months = AuthoritySettings.for_municipality(case.municipality_id).review_months
            default_review = prague_date(review_due(timezone.localdate(), months))

            def work() -> Plan:
                if approve:
                    return plan_approve(plan=plan, by=user, next_review_on=default_review)
                return plan_return(plan=plan, by=user, comment=form.cleaned_data["comment"])

            try:
                tasks.task_complete(task=task, user=user, work=work, purpose="decide plan")
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                text = (
                    _("Case %(case)s: the plan was approved.")
                    if approve
                    else _("Case %(case)s: the plan was returned to its drafter.")
                )
                return _done(request, text % {"case": case.reference})
    content = _plan_content(user, case, plan, "approve plan") if plan is not None else None
    return render(request, "workflows/approve_plan.html", {**_common(task, user, case), "form": form, "plan": content})


def review(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """The regular review: the coordinator starts the next version of the plan from the current one."""
    case = CaseFlow.case_of(task)
    if request.method == "POST":
        if task.owner_id != user.pk:
            raise tasks.refuse_task(user, task, "review plan")
        tasks.task_complete(task=task, user=user, work=lambda: None, purpose="review plan")
        return _done(request, _("Case %(case)s: a new version of the plan was started.") % {"case": case.reference})
    current = Plan.objects.filter(case=case, status="current").select_related("drafted_by").first()
    content = _plan_content(user, case, current, "review plan") if current is not None else None
    return render(request, "workflows/review_plan.html", {**_common(task, user, case), "plan": content})


def approve_closure(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """A supervisor who did not propose it approves the closure (the case closes, team access ends) or returns it."""
    closure: ClosureRequest = ClosureFlow.request_of(task)
    case = closure.case
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if task.owner_id != user.pk:
            raise tasks.refuse_task(user, task, "decide closure")
        if form.is_valid():
            approve = form.cleaned_data["decision"] == DecisionForm.APPROVE

            def work() -> ClosureRequest:
                if approve:
                    return closure_approve(request=closure, by=user)
                return closure_return(request=closure, by=user, comment=form.cleaned_data["comment"])

            try:
                tasks.task_complete(task=task, user=user, work=work, purpose="decide closure")
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                text = (
                    _("Case %(case)s is closed.") if approve else _("Case %(case)s: the closure proposal was returned.")
                )
                return _done(request, text % {"case": case.reference})
    disclosure = gate.read_case(user, case, [closure], ["final_evaluation"], purpose="approve closure")[0]
    return render(
        request,
        "workflows/approve_closure.html",
        {
            **_common(task, user, case),
            "form": form,
            "closure": {
                "reason": closure.get_reason_display(),
                "requested_by": closure.requested_by.display_name(),
                "requested_at": closure.requested_at,
                "final_evaluation": disclosure.get("final_evaluation"),
                "withheld": not disclosure.shows("final_evaluation"),
            },
        },
    )


CASE_PAGES = {"draft_plan": draft_plan, "approve_plan": approve_plan, "review": review}
CLOSURE_PAGES = {"approve_closure": approve_closure}
