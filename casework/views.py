"""Thin views: parse input, call one service or selector, render."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 only when the database and the channel layer both answer; 503 names the part that did not."""
    checks = {"database": _database_ok(), "channel_layer": _channel_layer_ok()}
    status = 200 if all(checks.values()) else 503
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", "checks": checks}, status=status)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("healthz: database check failed", exc_info=False)
        return False


def _channel_layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.send)(channel, {"type": "healthz.ping"})
        message = async_to_sync(layer.receive)(channel)
        return message.get("type") == "healthz.ping"
    except Exception:
        logger.warning("healthz: channel layer check failed", exc_info=False)
        return False


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("inbox")


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "casework/inbox.html")


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    return render(request, "casework/case_list.html")


@login_required
def child_list(request: HttpRequest) -> HttpResponse:
    return render(request, "casework/child_list.html")


@login_required
def oversight(request: HttpRequest) -> HttpResponse:
    return render(request, "casework/oversight.html")
