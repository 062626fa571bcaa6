"""``Idempotency-Key`` on the POSTs that create things (a report, a report on a plan action).

The first request with a key reserves it (a row committed before the work); its answer is stored when it succeeds.
The same key and the same body later get the stored answer again (header ``Idempotent-Replayed: true``) and nothing
is created twice; the same key with a different body, or while the first request is still running, gets 409. An
answer that was an error is not kept (the key is free again): fixing the request and sending it again works.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.exceptions import error_response
from api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_MAX = 200


def _digest(request: Request, route: str) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(f"{route}\n{body}".encode()).hexdigest()


def idempotent(request: Request, route: str, make: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return make()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        return error_response(
            400,
            "invalid",
            _("The request is not valid."),
            {HEADER: [_("At most %(max)d printable characters.") % {"max": KEY_MAX}]},
        )
    digest = _digest(request, route)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(user=request.user, key=key, route=route, body_digest=digest)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is None:
            return error_response(409, "idempotency_in_progress", _("A request with this key is still running."))
        if existing.route != route or existing.body_digest != digest:
            return error_response(
                409, "idempotency_conflict", _("This Idempotency-Key was used with a different request.")
            )
        if existing.status_code is None:
            return error_response(409, "idempotency_in_progress", _("A request with this key is still running."))
        replay = Response(existing.response, status=existing.status_code)
        replay["Idempotent-Replayed"] = "true"
        return replay
    try:
        response = make()
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    if 200 <= response.status_code < 300:
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code, response=json.loads(json.dumps(response.data, cls=JSONEncoder))
        )
    else:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
    return response
