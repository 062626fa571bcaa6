"""The API's routes (``/api/v1/``): the same rules as the pages (docs/adr/0031-rest-api-and-tokens.md).

Objects come through ``permissions.access`` / ``workflows.tasks`` (the same 404 for a missing object and one that is
not the caller's, refusals audited); protected values come from the read models and the gate with the purpose
"api"; writes go through the same services as the forms, whose ``ValidationError``\\ s become field-level errors
(``api.exceptions``). Views are thin: nothing here decides who may see what.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.exceptions import ErrorSerializer
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import idempotent
from api.permissions import AuthorityStaff, DirectoryReader, HasScope, credential_scope
from casework.case_views.common import CHILD_BASICS
from casework.models import ActionReport, Report, User
from casework.selectors import report_get
from casework.selectors.case_file import case_disclosed, child_basics, member_rows, relation
from casework.selectors.cases import case_memberships
from casework.selectors.lists import CaseFilters, Scope, case_page_for_user
from casework.selectors.plans import plan_versions_visible
from notifications import selectors as notification_selectors
from notifications import services as notification_services
from permissions import gate
from permissions.access import access_case_by_id, accessed_cases, record_denial
from permissions.policy import may_file_report
from services.selectors.directory import DirectoryFilters, active_service_types, service_card, service_search
from workflows import selectors as task_selectors
from workflows import tasks
from workflows.flows import ActionFlow, report_receive
from workflows.views.common import filer_status, report_answer

PURPOSE = "api"
PAGE_SIZE = 50

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description=_("Field-level errors.")),
    401: OpenApiResponse(ErrorSerializer, description=_("No valid token.")),
    403: OpenApiResponse(ErrorSerializer, description=_("The token's scope or your role does not allow this.")),
    404: OpenApiResponse(ErrorSerializer, description=_("Not found, or not yours: the same answer.")),
    409: OpenApiResponse(ErrorSerializer, description=_("A conflict (an Idempotency-Key reused, a task done).")),
    429: OpenApiResponse(ErrorSerializer, description=_("Too many requests for this token.")),
}
READ_ERRORS = {code: ERRORS[code] for code in (401, 403, 404, 429)}
CURSOR = OpenApiParameter("cursor", str, description=_("The next_cursor of the previous page."))
LANG = OpenApiParameter("lang", str, enum=["cs", "en"], description=_("Language of messages (default Czech)."))
IDEMPOTENCY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    location=OpenApiParameter.HEADER,
    description=_("Send the same key again to get the same answer without creating anything twice."),
)


def _user(request: Request) -> User:
    return request.user


def _bounded(object_id: int) -> int:
    """An integer id from the path that the database can hold; a larger one names nothing (404)."""
    if object_id > 2**31 - 1:
        raise Http404
    return object_id


def _with_etag(request: Request, response: Response) -> Response:
    """A strong ETag of the answer's JSON; ``If-None-Match`` with it answers 304 (the read is still audited)."""
    body = json.dumps(response.data, sort_keys=True, default=str).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response["ETag"] = etag
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        not_modified = Response(status=304)
        not_modified["ETag"] = etag
        return not_modified
    return response


class ApiView(APIView):
    permission_classes = [HasScope]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        language = request.query_params.get("lang")
        if language in ("cs", "en"):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        super().initial(request, *args, **kwargs)


# --- Me ------------------------------------------------------------------------------------------------------------


class MeView(ApiView):
    @extend_schema(
        operation_id="me",
        summary=_("Who the token acts as"),
        parameters=[LANG],
        responses={200: s.MeSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        organisation = user.organisation
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "role": user.role,
                "organisation": organisation.name if organisation else "",
                "sector": organisation.sector if organisation else "",
                "scope": credential_scope(request.auth),
            }
        )


# --- Tasks ---------------------------------------------------------------------------------------------------------


def _task_rows(found: task_selectors.InboxList) -> dict[str, Any]:
    return {
        "results": [
            {
                "task_id": row.task_id,
                "task_type": row.task_type,
                "title": str(row.title),
                "status": row.status,
                "created": row.created,
                "due_at": row.due_at,
                "overdue": row.overdue,
                "urgent": row.urgent,
                "case_id": row.case_id,
                "case_reference": row.case_reference,
                "report_reference": row.report_reference,
                "child": {"name": row.child.name, "age": row.child.age} if row.child is not None else None,
            }
            for row in found.rows
        ],
        "next_cursor": found.next_after,
    }


TASK_TYPE = OpenApiParameter(
    "type", str, enum=sorted(task_selectors.TASK_TYPES), description=_("Only tasks of this kind.")
)


def _task_type(request: Request) -> str:
    value = request.query_params.get("type", "")
    return value if value in task_selectors.TASK_TYPES else ""


class MyTasksView(ApiView):
    @extend_schema(
        operation_id="tasks_mine",
        summary=_("My open tasks"),
        description=_("Tasks assigned to you, soonest due first. A member's tasks only while the membership lasts."),
        parameters=[TASK_TYPE, CURSOR, LANG],
        responses={200: s.TaskPageSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        found = task_selectors.my_tasks(
            user=user, task_type=_task_type(request), after=request.query_params.get("cursor", ""), limit=PAGE_SIZE
        )
        labelled = task_selectors.with_child_labels(user=user, lists=[found], purpose=PURPOSE)[0]
        return Response(s.TaskPageSerializer(_task_rows(labelled)).data)


class TeamQueueView(ApiView):
    @extend_schema(
        operation_id="tasks_queue",
        summary=_("The team queue"),
        description=_("Unassigned tasks you may take (empty when you have no queue)."),
        parameters=[TASK_TYPE, CURSOR, LANG],
        responses={200: s.TaskPageSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        if not task_selectors.has_team_queue(user):
            return Response({"results": [], "next_cursor": None})
        found = task_selectors.team_queue(
            user=user, task_type=_task_type(request), after=request.query_params.get("cursor", ""), limit=PAGE_SIZE
        )
        labelled = task_selectors.with_child_labels(user=user, lists=[found], purpose=PURPOSE)[0]
        return Response(s.TaskPageSerializer(_task_rows(labelled)).data)


class TaskClaimView(ApiView):
    @extend_schema(
        operation_id="task_claim",
        summary=_("Take a task from the team queue"),
        request=None,
        parameters=[LANG],
        responses={200: s.TaskClaimedSerializer, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        user = _user(request)
        task = tasks.access_task_by_id(user, _bounded(task_id), purpose="take task", for_work=False)
        task = tasks.task_claim(task=task, user=user)
        return Response({"id": task.pk, "status": task.status})


class ActionReportView(ApiView):
    @extend_schema(
        operation_id="action_report_create",
        summary=_("Report on a plan action"),
        description=_(
            "Progress on a plan action you hold (completes=false), or that it is done (completes=true: the task "
            "completes and the case's coordinator is told). Take a queued action first (claim)."
        ),
        request=s.ActionReportInSerializer,
        parameters=[IDEMPOTENCY, LANG],
        responses={201: s.ActionReportOutSerializer, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        return idempotent(request, f"action-report:{task_id}", lambda: self._create(request, task_id))

    def _create(self, request: Request, task_id: int) -> Response:
        from casework.services.plan_actions import action_report

        user = _user(request)
        purpose = "report on plan action"
        task = tasks.access_task_by_id(user, _bounded(task_id), purpose=purpose)
        if task.flow_task is not ActionFlow.do_action:
            raise Http404
        tasks.require_task_holder(user, task, purpose=purpose)
        data = s.ActionReportInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = ActionFlow.action_of(task)
        report: ActionReport = action_report(
            action=action, by=user, text=data.validated_data["text"], completes=data.validated_data["completes"]
        )
        action.refresh_from_db(fields=["status"])
        task.refresh_from_db(fields=["status"])
        out = {
            "id": report.pk,
            "action_id": action.pk,
            "completes": report.completes,
            "action_status": action.status,
            "task_status": task.status,
            "created_at": report.created_at,
        }
        return Response(s.ActionReportOutSerializer(out).data, status=201)


# --- Cases ---------------------------------------------------------------------------------------------------------

STATUS = OpenApiParameter("status", str, enum=["open", "closed", "all"], description=_("Default: open."))
REFERENCE = OpenApiParameter("reference", str, description=_("Part of a case reference, e.g. 0042."))
SCOPE = OpenApiParameter("scope", str, enum=[scope.value for scope in Scope], description=_("Which of your cases."))


class CaseListView(ApiView):
    @extend_schema(
        operation_id="cases_list",
        summary=_("My cases"),
        description=_("The cases you may see, newest first, with the child's basics as far as you may read them."),
        parameters=[STATUS, REFERENCE, SCOPE, CURSOR, LANG],
        responses={200: s.CasePageSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        status = request.query_params.get("status", "open")
        status = status if status in ("open", "closed", "all") else "open"
        scope_value = request.query_params.get("scope", "")
        scope = next((item for item in Scope if item.value == scope_value), Scope.ALL)
        reference = " ".join(request.query_params.get("reference", "").split())[:40]
        filters = CaseFilters(scope=scope, status="" if status == "all" else status, reference=reference)
        page = case_page_for_user(
            user=user, filters=filters, after=request.query_params.get("cursor", ""), size=PAGE_SIZE
        )
        cases = accessed_cases(user, page.cases)
        children = gate.read_case_children(user, cases, CHILD_BASICS, purpose=PURPOSE) if cases else []
        rows = [
            {
                "id": case.pk,
                "reference": case.reference,
                "is_open": case.is_open,
                "status": case.status,
                "opened_at": case.opened_at,
                "coordinator": case.coordinator.display_name(),
                "relation": str(relation(access)),
                "child": child_basics(disclosure).__dict__,
            }
            for (case, access), disclosure in zip(cases, children, strict=True)
        ]
        return Response(s.CasePageSerializer({"results": rows, "next_cursor": page.next_after}).data)


def _member(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "organisation": row.organisation,
        "sector": row.sector,
        "role": row.role,
        "valid_from": row.valid_from,
        "valid_until": row.valid_until,
        "ended_at": row.ended_at,
        "ongoing": row.ongoing,
    }


class CaseDetailView(ApiView):
    @extend_schema(
        operation_id="case_retrieve",
        summary=_("A case, with the parts you may read"),
        description=_("Read through the gate (audited, purpose 'api'). Sends an ETag; If-None-Match may answer 304."),
        parameters=[LANG],
        responses={200: s.CaseDetailSerializer, 304: OpenApiResponse(description=_("Not modified.")), **READ_ERRORS},
    )
    def get(self, request: Request, case_pk: uuid.UUID) -> Response:
        user = _user(request)
        accessed = access_case_by_id(user, case_pk, purpose=PURPOSE)
        view = case_disclosed(user=user, case=accessed, purpose=PURPOSE)
        header = view.header
        data = {
            "case": {
                "id": header.id,
                "reference": header.reference,
                "is_open": header.is_open,
                "status": accessed.case.status,
                "opened_at": header.opened_at,
                "closed_at": header.closed_at,
                "coordinator": header.coordinator,
                "authority": header.authority,
                "relation": str(header.relation),
            },
            "child": view.child.__dict__,
            "members": [_member(row) for row in view.members],
            "notes": [
                {
                    "compartment": section.compartment,
                    "label": section.label,
                    "whole": section.whole,
                    "more": section.more,
                    "notes": [note.__dict__ for note in section.notes],
                }
                for section in view.sections
            ],
            "may_write": view.may_write,
            "read_only": view.read_only,
        }
        return _with_etag(request, Response(s.CaseDetailSerializer(data).data))


class CaseMembershipsView(ApiView):
    permission_classes = [HasScope, AuthorityStaff]

    @extend_schema(
        operation_id="case_memberships",
        summary=_("A case's team memberships (OSPOD)"),
        parameters=[LANG],
        responses={200: s.MembershipsSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, case_pk: uuid.UUID) -> Response:
        user = _user(request)
        case, access = access_case_by_id(user, case_pk, purpose=PURPOSE)
        current, past = member_rows(case_memberships(case=case))
        data = {"current": [_member(r) for r in current], "past": [_member(r) for r in past] if access.is_lead else []}
        return _with_etag(request, Response(s.MembershipsSerializer(data).data))


class CasePlanVersionsView(ApiView):
    permission_classes = [HasScope, AuthorityStaff]

    @extend_schema(
        operation_id="case_plan_versions",
        summary=_("A case's plan versions (OSPOD)"),
        description=_("The versions you may see (the lead: all; a member: the approved ones), newest first."),
        parameters=[LANG],
        responses={200: s.PlanVersionsSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, case_pk: uuid.UUID) -> Response:
        user = _user(request)
        case, access = access_case_by_id(user, case_pk, purpose=PURPOSE)
        rows = [
            {
                "id": plan.pk,
                "version": plan.version,
                "status": plan.status,
                "created_at": plan.created_at,
                "submitted_at": plan.submitted_at,
                "approved_at": plan.approved_at,
                "next_review_on": plan.next_review_on,
            }
            for plan in plan_versions_visible(case=case, access=access)
        ]
        return _with_etag(request, Response(s.PlanVersionsSerializer({"results": rows}).data))


# --- Reports (§ 10(4)) -----------------------------------------------------------------------------------------------


def _report_out(report: Report) -> dict[str, Any]:
    return {
        "id": report.pk,
        "reference": report.reference,
        "received_at": report.received_at,
        "status": str(filer_status(report)),
        "feedback_requested": report.feedback_requested,
        "answer": report_answer(report),
    }


class ReportCreateView(ApiView):
    @extend_schema(
        operation_id="report_create",
        summary=_("File a report (§ 10(4))"),
        description=_(
            "Files a report with the competent authority; answers its number and status, never what it said."
        ),
        request=s.ReportInSerializer,
        parameters=[IDEMPOTENCY, LANG],
        responses={201: s.ReportOutSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        return idempotent(request, "report", lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        from casework.services.reports import ReportDetails, report_filing_refused

        if not may_file_report(_user(request)):
            raise report_filing_refused(_user(request))  # audited, before anything is read of the body
        data = s.ReportInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["urgency_hints"] = tuple(values.get("urgency_hints") or ())
        report = report_receive(filed_by=_user(request), details=ReportDetails(**values))
        report.refresh_from_db()
        return Response(s.ReportOutSerializer(_report_out(report)).data, status=201)


class ReportStatusView(ApiView):
    @extend_schema(
        operation_id="report_retrieve",
        summary=_("A report you filed: its number and status"),
        parameters=[LANG],
        responses={200: s.ReportOutSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, report_id: uuid.UUID) -> Response:
        user = _user(request)
        report = report_get(report_id=report_id)
        if report is None:
            raise Http404
        if report.recorded_by_id != user.pk:
            record_denial(user, "casework.report", report.pk, PURPOSE, case_id=report.case_id)
            raise Http404
        return _with_etag(request, Response(s.ReportOutSerializer(_report_out(report)).data))


# --- Notifications ---------------------------------------------------------------------------------------------------

UNREAD = OpenApiParameter("unread", OpenApiTypes.BOOL, description=_("Only unread notifications."))


class NotificationListView(ApiView):
    @extend_schema(
        operation_id="notifications_list",
        summary=_("My notifications"),
        description=_("Newest first. Notifications carry ids and references only."),
        parameters=[UNREAD, CURSOR, LANG],
        responses={200: s.NotificationPageSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        show = (
            notification_selectors.SHOW_UNREAD
            if request.query_params.get("unread", "").lower() in ("1", "true", "yes")
            else notification_selectors.SHOW_ALL
        )
        rows = notification_selectors.notification_list_for_user(user_id=user.pk, show=show)
        cursor = request.query_params.get("cursor", "")
        if cursor.isdigit() and len(cursor) < 19:
            rows = rows.filter(pk__lt=int(cursor))
        found = list(
            rows.values(
                "id", "kind", "case_id", "case_reference", "object_type", "object_id", "urgent", "created_at", "read_at"
            )[: PAGE_SIZE + 1]
        )
        shown = found[:PAGE_SIZE]
        more = len(found) > PAGE_SIZE
        data = {"results": shown, "next_cursor": str(shown[-1]["id"]) if more and shown else None}
        return Response(s.NotificationPageSerializer(data).data)


class NotificationReadView(ApiView):
    @extend_schema(
        operation_id="notification_read",
        summary=_("Mark a notification read"),
        request=None,
        parameters=[LANG],
        responses={200: s.MarkedReadSerializer, **ERRORS},
    )
    def post(self, request: Request, notification_id: int) -> Response:
        if notification_id > 2**62 or not notification_services.mark_read(
            user_id=_user(request).pk, notification_id=notification_id
        ):
            raise Http404
        return Response({"marked": 1})


class NotificationReadAllView(ApiView):
    @extend_schema(
        operation_id="notifications_read_all",
        summary=_("Mark all my notifications read"),
        request=None,
        parameters=[LANG],
        responses={200: s.MarkedReadSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": notification_services.mark_all_read(user_id=_user(request).pk)})


# --- The service directory (no child data; the same selectors as the directory's pages) ----------------------------


class ServiceListView(ApiView):
    permission_classes = [HasScope, DirectoryReader]

    @extend_schema(
        operation_id="services_list",
        summary=_("Search the service directory"),
        description=_(
            "Active services matching the filters, the most recently confirmed cards first (as the directory page)."
        ),
        parameters=[s.ServiceFilterSerializer, CURSOR, LANG],
        responses={200: s.ServicePageSerializer, 400: ERRORS[400], **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = s.ServiceFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = DirectoryFilters(
            text=data.get("q", ""),
            type_code=data.get("type", ""),
            orp_id=data.get("orp"),
            municipality_id=data.get("municipality"),
            age=data.get("age"),
            free_only=data.get("free", False),
        )
        page = service_search(filters=filters, after_cursor=request.query_params.get("cursor", ""))
        return Response(s.ServicePageSerializer({"results": page.rows, "next_cursor": page.next_after or None}).data)


class ServiceDetailView(ApiView):
    permission_classes = [HasScope, DirectoryReader]

    @extend_schema(
        operation_id="service_retrieve",
        summary=_("A service's card"),
        description=_("The card as the directory shows it. Sends an ETag; If-None-Match may answer 304."),
        parameters=[LANG],
        responses={200: s.ServiceCardSerializer, 304: OpenApiResponse(description=_("Not modified.")), **READ_ERRORS},
    )
    def get(self, request: Request, service_id: int) -> Response:
        card = service_card(user=_user(request), service_id=_bounded(service_id))
        return _with_etag(request, Response(s.ServiceCardSerializer(card).data))


class ServiceTypeListView(ApiView):
    permission_classes = [HasScope, DirectoryReader]

    @extend_schema(
        operation_id="service_types_list",
        summary=_("The kinds of service"),
        description=_("The service types offered in the region, in the directory's order; filter services by code."),
        parameters=[LANG],
        responses={200: s.ServiceTypesSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(s.ServiceTypesSerializer({"results": active_service_types()}).data)
