"""The task pages of the case flow (``workflows.flows.CaseFlow``): asking the team for inputs, a member's input, the
assessment, and the plan task.

Each page is reached through ``workflows.tasks.access_task_by_id`` (the task's policy decides; refusals audited) and
completes through ``workflows.tasks.task_complete`` with the step's ``casework`` service. The inputs the coordinator
reads on the assessment page pass the gate (``gate.read_case``), field by field, with the purpose "write assessment".
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from casework.compartments import Compartment
from casework.models import (
    Assessment,
    AssessmentInput,
    AssessmentOutcome,
    Case,
    DraftKind,
    InputStatus,
    TeamMembership,
    User,
)
from casework.selectors.child_labels import child_labels_of
from casework.selectors.drafts import draft_for
from casework.services.assessments import (
    ASSESSMENT_FIELDS,
    assessment_input_provide,
    assessment_inputs_request,
    assessment_reassess,
    assessment_write,
    in_force_assessment,
)
from casework.services.drafts import draft_discard
from permissions import gate
from permissions.policy import Subject, holds_task
from workflows import tasks
from workflows.flows import CaseFlow
from workflows.forms import AssessmentForm, InputRequestForm, ProvideInputForm, ReassessmentForm
from workflows.models import Deadline

#: The purpose the child's name on a task page is read (and audited) with.
TASK_PAGE_PURPOSE = "task page"


def _common(task: Any, user: User, case: Case) -> dict[str, Any]:
    deadline = Deadline.objects.filter(task=task, done_at__isnull=True).values_list("due_at", flat=True).first()
    return {
        "task": {
            "id": task.pk,
            "title": task.flow_task.task_title,
            "mine": holds_task(Subject.from_user(user), owner_id=task.owner_id),
            "free": task.owner_id is None,
            "owner": task.owner.display_name() if task.owner is not None else "",
            "created": task.created,
            "due_at": deadline,
        },
        # The child beside the reference, through the gate, for those whose policy allows the case basics.
        "case": {
            "id": case.pk,
            "reference": case.reference,
            "child": child_labels_of(user=user, cases=[case], purpose=TASK_PAGE_PURPOSE).get(case.pk),
        },
    }


def _done(request: HttpRequest, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("inbox")


def request_inputs(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    case = CaseFlow.case_of(task)
    memberships = (
        TeamMembership.objects.current()
        .filter(case=case)
        .select_related("user", "team_role")
        .order_by("user__last_name", "user__first_name", "user_id")
    )
    members = [(m.user, str(m.team_role)) for m in memberships]
    reassessing = Assessment.objects.filter(case=case).exists()
    # Bound on every POST: a re-assessment's form with nobody ticked posts nothing but the token.
    form = InputRequestForm(request.POST if request.method == "POST" else None, members=members, allow_none=reassessing)
    if request.method == "POST":
        tasks.require_task_holder(user, task, purpose="request assessment inputs")
        if form.is_valid():
            requests = form.requests()
            try:
                tasks.task_complete(
                    task=task,
                    user=user,
                    work=lambda: assessment_inputs_request(case=case, by=user, requests=requests),
                    purpose="request assessment inputs",
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                return _done(
                    request,
                    _("Case %(case)s: %(count)d team members were asked for their input.")
                    % {"case": case.reference, "count": len(requests)},
                )
    return render(
        request,
        "workflows/request_inputs.html",
        {**_common(task, user, case), "form": form, "reassessing": reassessing},
    )


def provide_input(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    case = CaseFlow.case_of(task)
    item = CaseFlow.input_of(task)
    form = ProvideInputForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tasks.task_complete(
                task=task,
                user=user,
                work=lambda: assessment_input_provide(
                    assessment_input=item,
                    by=user,
                    text=form.cleaned_data["text"],
                    kept_apart=form.cleaned_data["kept_apart"],
                ),
                purpose="provide assessment input",
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            return _done(request, _("Case %(case)s: your input was sent.") % {"case": case.reference})
    return render(
        request,
        "workflows/provide_input.html",
        {
            **_common(task, user, case),
            "form": form,
            "compartment": Compartment(item.compartment).label,
        },
    )


def _received_inputs(user: User, case: Case) -> list[dict[str, Any]]:
    rows = list(
        AssessmentInput.objects.filter(case=case, status=InputStatus.PROVIDED, assessment__isnull=True)
        .select_related("member")
        .order_by("provided_at", "id")
    )
    disclosures = gate.read_case(user, case, rows, ["text"], purpose="write assessment")
    return [
        {
            "member": row.member.display_name(),
            "compartment": Compartment(row.compartment).label,
            "provided_at": row.provided_at,
            "text": disclosure.get("text"),
            "withheld": not disclosure.shows("text"),
        }
        for row, disclosure in zip(rows, disclosures, strict=True)
    ]


def _assessment_draft(user: User, case: Case) -> dict[str, str]:
    """The holder's own unsent assessment (``casework.selectors.drafts``) as the form's initial values."""
    fields = draft_for(user=user, case=case, kind=DraftKind.ASSESSMENT, object_id=case.pk)
    return {name: values[0] for name, values in fields.items() if name in AssessmentForm.base_fields and values}


def write_assessment(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    case = CaseFlow.case_of(task)
    draft = (
        {}
        if request.method == "POST" or not holds_task(Subject.from_user(user), owner_id=task.owner_id)
        else _assessment_draft(user, case)
    )
    form = AssessmentForm(request.POST or None, initial=draft)
    if request.method == "POST":
        tasks.require_task_holder(user, task, purpose="write assessment")
        if form.is_valid():
            try:
                tasks.task_complete(
                    task=task,
                    user=user,
                    work=lambda: assessment_write(case=case, by=user, **form.cleaned_data),
                    purpose="write assessment",
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                draft_discard(user=user, kind=DraftKind.ASSESSMENT, object_id=case.pk)
                return _done(request, _("Case %(case)s: the assessment was saved.") % {"case": case.reference})
    withdrawn = AssessmentInput.objects.filter(case=case, status=InputStatus.WITHDRAWN, assessment__isnull=True).count()
    return render(
        request,
        "workflows/write_assessment.html",
        {
            **_common(task, user, case),
            "form": form,
            "inputs": _received_inputs(user, case),
            "withdrawn": withdrawn,
            "draft_restored": bool(draft),
        },
    )


def _assessment_in_force(user: User, case: Case) -> dict[str, Any] | None:
    """The version the re-assessment starts from (the newest with texts), through the gate."""
    current = in_force_assessment(case)
    if current is None:
        return None
    disclosure = gate.read_case(user, case, [current], list(ASSESSMENT_FIELDS), purpose="re-assess")[0]
    return {
        "version": current.version,
        "created_at": current.created_at,
        "fields": [
            {
                "label": AssessmentForm.base_fields[name].label,
                "text": disclosure.get(name),
                "withheld": not disclosure.shows(name),
            }
            for name in ASSESSMENT_FIELDS
        ],
    }


def reassess(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """The re-assessment after a review: a revised version, or "no change" with its reason; then the next plan."""
    case = CaseFlow.case_of(task)
    form = ReassessmentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        tasks.require_task_holder(user, task, purpose="re-assess")
        if form.is_valid():
            arguments = form.service_arguments()
            try:
                tasks.task_complete(
                    task=task,
                    user=user,
                    work=lambda: assessment_reassess(case=case, by=user, **arguments),
                    purpose="re-assess",
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                text = (
                    _("Case %(case)s: recorded that the assessment has not changed.")
                    if arguments["unchanged"]
                    else _("Case %(case)s: the revised assessment was saved.")
                )
                return _done(request, text % {"case": case.reference})
    versions = list(
        Assessment.objects.filter(case=case).order_by("version").values_list("version", "outcome", "created_at")
    )
    withdrawn = AssessmentInput.objects.filter(case=case, status=InputStatus.WITHDRAWN, assessment__isnull=True).count()
    return render(
        request,
        "workflows/reassess.html",
        {
            **_common(task, user, case),
            "form": form,
            "inputs": _received_inputs(user, case),
            "withdrawn": withdrawn,
            "in_force": _assessment_in_force(user, case),
            "versions": [
                {"version": v, "outcome": AssessmentOutcome(o).label, "created_at": at} for v, o, at in versions
            ],
        },
    )
