"""Every error of the API in one JSON shape (documented in the schema as ``Error``)::

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"text": ["…"], "__all__": ["…"]}}}

``fields`` holds the field-level messages (a service's ``ValidationError``, or the request's own checks); it is empty
for errors that concern no field. Messages are in the request's language and never carry protected values: the
services' messages name fields and rules, not what was typed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from workflows.tasks import TaskAlreadyDone

_DEFAULT_MESSAGES = {
    400: gettext_lazy("The request is not valid."),
    401: gettext_lazy("Authentication is needed."),
    403: gettext_lazy("You may not do this."),
    404: gettext_lazy("Not found."),
    405: gettext_lazy("Method not allowed."),
    406: gettext_lazy("Not acceptable."),
    409: gettext_lazy("Conflict."),
    415: gettext_lazy("Unsupported media type."),
    429: gettext_lazy("Too many requests."),
}


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text=gettext_lazy("The HTTP status code."))
    code = serializers.CharField(
        help_text=gettext_lazy("A stable code: invalid, not_authenticated, permission_denied, not_found, conflict…")
    )
    message = serializers.CharField(help_text=gettext_lazy("A sentence for people, in the request's language."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=gettext_lazy("Messages per field; '__all__' for the request as a whole."),
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "__all__" if key in ("non_field_errors", "__all__") else str(key)
            for sub, messages in _flatten(value, f"{prefix}{name}" if not prefix else f"{prefix}.{name}").items():
                out.setdefault(sub, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "__all__"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                for sub, messages in _flatten(item, f"{prefix}.{index}" if prefix else str(index)).items():
                    out.setdefault(sub, []).extend(messages)
    else:
        out[prefix or "__all__"] = [str(detail)]
    return out


def error_response(status_code: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> Response:
    body = {"error": {"status": status_code, "code": code, "message": message, "fields": fields or {}}}
    return Response(body, status=status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        given = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": list(exc.messages)}
        return error_response(400, "invalid", _("The request is not valid."), _flatten(given))
    if isinstance(exc, TaskAlreadyDone):
        return error_response(409, "task_done", _("This task is already done."))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a 500: Django's handler (and its log line, which names no values)
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    fields = {}
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        code, message = "invalid", _("The request is not valid.")
    else:
        detail = getattr(exc, "detail", "")
        message = str(detail) if isinstance(detail, str) else str(_DEFAULT_MESSAGES.get(response.status_code, ""))
        if not isinstance(code, str):
            code = "error"
    body = error_response(response.status_code, code, message, fields)
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            body[header] = response[header]
    return body


__all__ = ["ErrorSerializer", "error_response", "exception_handler", "status"]
