"""Task pages (the report's triage, the notifier's feedback; the case flow's pages are in ``case_tasks``), taking
and giving back tasks, and the report page.

Every page reads the report through the gate with its own purpose ("triage", "report feedback", "report page"), and
only the fields its work needs: the feedback page discloses the notifier's name and contact, not what they wrote.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.case_views.common import viewer
from casework.models import Report, User
from casework.selectors import child_find_by_birth_number
from casework.selectors.cases import open_case_of_child
from casework.selectors.competence import report_competence_view
from casework.selectors.identity import children_matching_identity
from casework.selectors.report_file import ReportContent, report_content, report_disclosed, report_header
from casework.services import report_feedback_record, report_triage
from casework.services.competence import child_registered_elsewhere
from permissions import gate
from permissions.access import access_report_by_id, load_case_access
from permissions.policy import Subject, holds_task
from workflows import graph, tasks
from workflows.flows import ReportFlow
from workflows.forms import FeedbackForm, TriageForm
from workflows.views.common import answer_text


def _first_message(error: ValidationError) -> str:
    return error.messages[0] if error.messages else _("The task could not be changed.")


@login_required
@require_POST
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    user = viewer(request)
    task = tasks.access_task_by_id(user, task_id, purpose="take task", for_work=False)
    try:
        tasks.task_claim(task=task, user=user)
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
        return redirect("inbox")
    messages.success(request, _("The task is yours now."))
    return redirect("task_detail", task_id=task.pk)


@login_required
@require_POST
def task_unassign(request: HttpRequest, task_id: int) -> HttpResponse:
    user = viewer(request)
    task = tasks.access_task_by_id(user, task_id, purpose="give task back", for_work=False)
    try:
        tasks.task_unassign(task=task, user=user)
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
    else:
        messages.success(request, _("The task is back in the team queue."))
    return redirect("inbox")


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    user = viewer(request)
    try:
        task = tasks.access_task_by_id(user, task_id, purpose="task page")
    except tasks.TaskAlreadyDone as done:
        return _already_done(request, user, done.task)
    # The page the task's node declares (``workflows.nodes.PolicyView``; access_task_by_id let only those through).
    return graph.task_page(task.flow_task)(request, user, task)


def _already_done(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    """The user completed this task themselves and came back to it (a retry after a lost response, an old tab): no
    refusal, no denial in the audit log; they go where the completed task led — a triage to the case it opened or
    joined when they may open it, every other task to the inbox."""
    messages.info(request, _("You have already completed this task."))
    if task.flow_task == ReportFlow.triage:
        case = ReportFlow.report_of(task).case
        if case is not None and load_case_access(user, case).visible:
            return redirect("case_detail", case_id=case.pk)
    return redirect("inbox")


def _common(task: Any, user: User, report: Report) -> dict[str, Any]:
    return {
        "task": {
            "id": task.pk,
            "title": task.flow_task.task_title,
            "mine": holds_task(Subject.from_user(user), owner_id=task.owner_id),
            "free": task.owner_id is None,
            "owner": task.owner.display_name() if task.owner is not None else "",
            "created": task.created,
            "queue": task.flow_task.queue,
        },
        "report": report_header(report),
    }


def _prefill(content: ReportContent) -> dict[str, Any]:
    return {
        "given_name": content.child_given_name,
        "family_name": content.child_family_name,
        "date_of_birth": content.child_date_of_birth,
        "birth_number": content.child_birth_number,
        "address": content.child_address,
    }


def _register_match(user: User, birth_number: str) -> dict[str, Any] | None:
    """Whether the authority's register already has a child with the birth number the notifier gave (and their open
    case): triage then attaches to it instead of registering the child again."""
    if not birth_number:
        return None
    try:
        child = child_find_by_birth_number(user=user, birth_number=birth_number)
    except ValidationError:
        return None
    if child is None:
        # The number is unique nationwide, the register is per ORP: a number registered in another ORP gets a
        # neutral answer and the offer to ask that ORP (which one is not said until it answers).
        organisation = user.organisation
        elsewhere = organisation is not None and (
            child_registered_elsewhere(municipality_id=organisation.municipality_id, birth_number=birth_number)
            is not None
        )
        return {"registered": False, "elsewhere": elsewhere}
    case = open_case_of_child(child=child)
    return {
        "registered": True,
        "child_id": child.pk,
        "case_reference": case.reference if case is not None else "",
    }


def _possible_duplicates(user: User, report: Report, given: str, family: str, born: Any) -> list[tuple[str, str]]:
    """Registered children of the authority with the same name and date of birth (blind index; OSPOD staff of the
    authority only), as choices for "the same child": registration date and open case, never a decrypted value."""
    if isinstance(born, str):
        try:
            born = datetime.date.fromisoformat(born)
        except ValueError:
            return []
    if not isinstance(born, datetime.date):
        return []
    rows = children_matching_identity(
        user=user, municipality_id=report.municipality_id, given_name=given, family_name=family, date_of_birth=born
    )
    choices = []
    for child in rows:
        case = open_case_of_child(child=child)
        label = _("registered %(date)s") % {"date": formats.date_format(child.created_at, "SHORT_DATE_FORMAT")}
        label += " · " + (_("open case %(reference)s") % {"reference": case.reference} if case else _("no open case"))
        choices.append((str(child.pk), label))
    return choices


def triage(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    report = ReportFlow.report_of(task)
    form = None
    if request.method == "POST":
        tasks.require_task_holder(user, task, purpose="triage report")
        same_as = _possible_duplicates(
            user,
            report,
            request.POST.get("given_name", ""),
            request.POST.get("family_name", ""),
            request.POST.get("date_of_birth", ""),
        )
        form = TriageForm(request.POST, municipality_id=report.municipality_id, same_as_choices=same_as)
        if form.is_valid():
            decision = form.decision()
            try:
                tasks.task_complete(
                    task=task,
                    user=user,
                    work=lambda: report_triage(report=report, decided_by=user, **decision),
                    purpose="triage report",
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                report.refresh_from_db()
                return _triaged(request, user, report)
    content = report_content(user, report, purpose="triage")
    if form is None:
        same_as = _possible_duplicates(
            user, report, content.child_given_name, content.child_family_name, content.child_date_of_birth
        )
        form = TriageForm(initial=_prefill(content), municipality_id=report.municipality_id, same_as_choices=same_as)
    return render(
        request,
        "workflows/triage.html",
        {
            **_common(task, user, report),
            "content": content,
            "form": form,
            "match": _register_match(user, content.child_birth_number),
            "competence": report_competence_view(report),
        },
    )


def _triaged(request: HttpRequest, user: User, report: Report) -> HttpResponse:
    """After triage: say what happened by numbers only, and go to the case when the viewer may open it."""
    if report.case_id is not None:
        case = report.case
        assert case is not None
        messages.success(
            request,
            _("Report %(report)s was triaged; it belongs to case %(case)s.")
            % {"report": report.reference, "case": case.reference},
        )
        if load_case_access(user, case).visible:
            return redirect("case_detail", case_id=case.pk)
    else:
        messages.success(
            request, _("Report %(report)s was triaged and closed without a case.") % {"report": report.reference}
        )
    return redirect("inbox")


def feedback(request: HttpRequest, user: User, task: Any) -> HttpResponse:
    report = ReportFlow.report_of(task)
    form = FeedbackForm(request.POST or None)
    if request.method == "POST":
        tasks.require_task_holder(user, task, purpose="send report feedback")
        if form.is_valid():
            try:
                tasks.task_complete(
                    task=task,
                    user=user,
                    work=lambda: report_feedback_record(report=report, by=user),
                    purpose="send report feedback",
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("The feedback on report %(report)s was recorded as sent.") % {"report": report.reference},
                )
                return redirect("inbox")
    # Only what sending the answer needs: where to send it. What the notifier wrote stays on the report page.
    notifier = gate.read(user, report, ["notifier_name", "notifier_contact"], purpose="report feedback")
    return render(
        request,
        "workflows/feedback.html",
        {
            **_common(task, user, report),
            "notifier_name": notifier.get("notifier_name") or "",
            "notifier_contact": notifier.get("notifier_contact") or "",
            "answer": answer_text(report),
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET"])
def report_detail(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    """The whole report, for its handlers (supervisors of the authority, the coordinator of its case)."""
    user = viewer(request)
    accessed = access_report_by_id(user, report_id, purpose="report page")
    view = report_disclosed(user=user, report=accessed, purpose="report page")
    report = accessed.report
    return render(
        request,
        "workflows/report_detail.html",
        {
            "report": view.header,
            "content": view.content,
            "case_visible": view.case_visible,
            "answer": answer_text(report) if report.feedback_sent_at else None,
            "competence": report_competence_view(report),
        },
    )
