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
from django.utils.translation import ngettext

from casework.models import (
    HELD_STATUSES,
    ClosureRequest,
    Conference,
    DraftKind,
    Plan,
    TeamMembership,
    User,
)
from casework.selectors.assessments import assessment_disclosed
from casework.selectors.case_file import SECTION_LIMIT
from casework.selectors.drafts import draft_for
from casework.selectors.plans import PlanView, plan_disclosed
from casework.services.drafts import draft_discard
from casework.services.lifecycle import closure_approve, closure_return
from casework.services.plan_actions import ACTIONS_PREFIX, plan_decisions_import
from casework.services.plans import (
    plan_approve,
    plan_draft_start,
    plan_in_work,
    plan_return,
    plan_save,
    plan_submit,
)
from permissions import gate
from permissions.policy import Subject, holds_task
from workflows import tasks
from workflows.deadlines import prague_date, review_due
from workflows.flows import CaseFlow, ClosureFlow
from workflows.forms import (
    ActionFormSet,
    ConferenceImportForm,
    DecisionForm,
    PlanForm,
    owner_choices,
    owner_value,
    split_goal_lines,
)
from workflows.models import AuthoritySettings
from workflows.views.case_tasks import _common, _done


def _action_initial(plan: PlanView) -> list[dict[str, Any]]:
    """The editor's rows for the draft's actions (their texts as the gate disclosed them)."""
    return [
        {
            "what": action.what or "",
            "owner": owner_value(action.owner_user_id, action.owner_organisation_id),
            "due_on": action.due_on,
            "success_measure": action.success_measure or "",
            "goal": str(action.goal_number) if action.goal_number is not None else "",
            "decision_id": action.decision_id,
            "carried_from_id": action.carried_from_id,
        }
        for action in plan.actions
    ]


def _import_decisions(request: HttpRequest, user: User, task: Any, plan: Plan, form: ConferenceImportForm) -> bool:
    """Take over the chosen conference's decisions as the draft's actions; ``True`` when done (errors on ``form``)."""
    tasks.require_task_holder(user, task, purpose="import conference decisions")
    if not form.is_valid():
        return False
    try:
        created = plan_decisions_import(plan=plan, by=user, conference=form.chosen())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return False
    if created:
        text = ngettext(
            "%(count)d decision was taken over as an action.",
            "%(count)d decisions were taken over as actions.",
            len(created),
        ) % {"count": len(created)}
        messages.success(request, text)
    else:
        messages.info(request, _("No new decision to take over: each was taken over already."))
    return True


def draft_plan(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """The draft of the next version: goals, texts and actions saved together as often as needed (one POST, one
    ``plan_save``), then submitted for approval (completes the task). A held conference's decisions can be taken
    over as actions (a separate button: ``import_conference``)."""
    case = CaseFlow.case_of(task)
    plan = plan_in_work(case)
    if plan is None:  # a draft is made when the task is created; a returned or revised one is kept in work
        plan = plan_draft_start(case=case, by=user)
    conferences = list(Conference.objects.filter(case=case, status__in=HELD_STATUSES).order_by("-starts_at", "id"))
    importing = request.method == "POST" and "import_conference" in request.POST
    import_form = ConferenceImportForm(request.POST if importing else None, conferences=conferences)
    # The import button belongs to the plan's form (``form="plan-form"``): what was typed is saved first, so taking
    # over the decisions never throws away unsaved edits. A post with the import alone (no plan fields) imports.
    import_only = importing and "goals" not in request.POST
    if import_only and _import_decisions(request, user, task, plan, import_form):
        return redirect("task_detail", task_id=task.pk)
    content = plan_disclosed(
        user=user, case=case, plan=plan, purpose="draft plan", latest_reports=False, return_comment=True
    )
    values = content.values
    initial = {
        "goals": "\n".join(content.goal_texts),
        "support_offered": values.get("support_offered") or "",
        "child_views": values.get("child_views") or "",
        "parents_views": values.get("parents_views") or "",
        "next_review_on": plan.next_review_on,
    }
    editing = request.method == "POST" and not import_only
    data = request.POST if editing else None
    form = PlanForm(data, initial=initial)
    # The goal numbers of the actions count the goal lines as they are posted (as they will be saved).
    goals = split_goal_lines(request.POST.get("goals", "")) if editing else content.goal_texts
    members = (
        TeamMembership.objects.current()
        .filter(case=case)
        .select_related("user__organisation", "team_role")
        .order_by("user__last_name", "user__first_name", "user_id")
    )
    former = [(owner_value(a.owner_user_id, a.owner_organisation_id), a.owner) for a in content.actions]
    origins = {
        origin
        for action in content.actions
        for origin in (action.decision_id, action.carried_from_id)
        if origin is not None
    }
    # A post without the action rows (no management form) keeps the draft's actions, as ``actions=None`` does.
    with_actions = editing and f"{ACTIONS_PREFIX}-TOTAL_FORMS" in request.POST
    formset = ActionFormSet(
        data if with_actions else None,
        initial=_action_initial(content),
        prefix=ACTIONS_PREFIX,
        form_kwargs={"owners": owner_choices(members, former), "goals": goals, "origins": origins},
    )
    draft_saved = False
    task_holder = holds_task(Subject.from_user(user), owner_id=task.owner_id)
    if editing:
        tasks.require_task_holder(user, task, purpose="draft plan")
        if form.is_valid() & (formset.is_valid() or not with_actions):
            cleaned = form.cleaned_data
            submit = "submit" in request.POST
            try:
                plan_save(
                    plan=plan,
                    by=user,
                    goals=form.goal_lines(),
                    support_offered=cleaned["support_offered"],
                    child_views=cleaned["child_views"],
                    parents_views=cleaned["parents_views"],
                    next_review_on=cleaned["next_review_on"],
                    actions=formset.actions() if with_actions else None,
                )
                draft_saved = True  # a refused submit below keeps what was saved: the page says so
                draft_discard(user=user, kind=DraftKind.PLAN, object_id=plan.pk)
                if importing:
                    if _import_decisions(request, user, task, plan, import_form):
                        messages.success(request, _("The draft was saved."))
                        return redirect("task_detail", task_id=task.pk)
                    submit = False
                if submit:
                    tasks.task_complete(
                        task=task,
                        user=user,
                        work=lambda: plan_submit(plan=plan, by=user),
                        purpose="submit plan",
                    )
            except ValidationError as exc:
                rest = formset.apply_service_errors(exc)
                if rest is not None:
                    form.apply_service_errors(rest)
            else:
                if submit:
                    return _done(
                        request,
                        _("Case %(case)s: the plan was sent to a supervisor for approval.") % {"case": case.reference},
                    )
                if not importing:  # a refused import shows its errors beside the saved draft
                    messages.success(request, _("The draft was saved."))
                    return redirect("task_detail", task_id=task.pk)
    plan_draft = (
        {}
        if request.method == "POST" or not task_holder
        else draft_for(user=user, case=case, kind=DraftKind.PLAN, object_id=plan.pk)
    )
    return render(
        request,
        "workflows/draft_plan.html",
        {
            **_common(task, user, case),
            "form": form,
            "formset": formset,
            "import_form": import_form,
            "plan": content,
            "returned": plan.returned_at,
            "draft_saved": draft_saved,
            "assessment": assessment_disclosed(user=user, case=case, purpose="draft plan", limit=SECTION_LIMIT),
            "plan_draft": plan_draft,
        },
    )


def approve_plan(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """A supervisor who did not draft the version approves it (it becomes current) or returns it with a comment."""
    case = CaseFlow.case_of(task)
    plan = plan_in_work(case)
    form = DecisionForm(
        request.POST or None,
        confirm_label=_("I confirm the approval: this version becomes the case's current plan and cannot be changed."),
    )
    if request.method == "POST" and plan is not None:
        tasks.require_task_holder(user, task, purpose="decide plan")
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
    content = (
        plan_disclosed(
            user=user, case=case, plan=plan, purpose="approve plan", latest_reports=False, return_comment=True
        )
        if plan is not None
        else None
    )
    # The supervisor approves the plan knowing the assessment it rests on.
    assessment = assessment_disclosed(user=user, case=case, purpose="approve plan", limit=SECTION_LIMIT)
    return render(
        request,
        "workflows/approve_plan.html",
        {**_common(task, user, case), "form": form, "plan": content, "assessment": assessment},
    )


def review(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """The regular review: the coordinator starts the next version of the plan from the current one."""
    case = CaseFlow.case_of(task)
    if request.method == "POST":
        tasks.require_task_holder(user, task, purpose="review plan")
        tasks.task_complete(task=task, user=user, work=lambda: None, purpose="review plan")
        return _done(request, _("Case %(case)s: a new version of the plan was started.") % {"case": case.reference})
    current = Plan.objects.filter(case=case, status="current").select_related("drafted_by", "approved_by").first()
    content = (
        plan_disclosed(
            user=user, case=case, plan=current, purpose="review plan", latest_reports=False, return_comment=True
        )
        if current is not None
        else None
    )
    return render(request, "workflows/review_plan.html", {**_common(task, user, case), "plan": content})


def approve_closure(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """A supervisor who did not propose it approves the closure (the case closes, team access ends) or returns it."""
    closure: ClosureRequest = ClosureFlow.request_of(task)
    case = closure.case
    form = DecisionForm(
        request.POST or None,
        confirm_label=_("I confirm the approval: the case closes and the team's access ends; this cannot be undone."),
    )
    if request.method == "POST":
        tasks.require_task_holder(user, task, purpose="decide closure")
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
