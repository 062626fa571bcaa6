"""Thin views over the user's own notifications. Works without JavaScript; the socket only makes it live.

Every lookup is filtered by the logged-in user, so another user's id is "not found", exactly like an id that does not
exist. Opening a notification marks it read and goes to what it announces (the task, the conference, the plan
version, the report: ``settings.NOTIFICATIONS_TARGET_URL`` resolves the row's stored type and id), or else to the
case page; each target checks access itself, so a user who lost access gets the same not-found page as for anything
that does not exist.

The list shows the child's name and age beside each case reference, read through the gate when the page renders
(``settings.NOTIFICATIONS_CHILD_LABELS``, one batched read for the page) and only for viewers whose policy allows the
case basics; the rows themselves never carry it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from notifications import selectors, services
from notifications.models import Kind, Notification

#: The purpose the children's names on the list are read (and audited) with.
LIST_PURPOSE = "notification list"
#: The purpose the child's name beside a live notification is read (and audited) with.
LIVE_PURPOSE = "live notification"


@cache
def _hook(path: str) -> Callable[..., Any]:
    return import_string(path)


def _label_children(request: HttpRequest, rows: list[Notification]) -> None:
    """Set each row's ``child_label`` for this rendering (one gate read for the page's cases; nothing is saved)."""
    case_ids = {str(row.case_id) for row in rows if row.links_to_case}
    if not case_ids:
        return
    labels = _hook(settings.NOTIFICATIONS_CHILD_LABELS)(request.user, case_ids, LIST_PURPOSE)
    for row in rows:
        if row.links_to_case:
            row.child_label = labels.get(str(row.case_id), "")


def _user_id(request: HttpRequest) -> int:
    return int(request.user.pk)  # type: ignore[arg-type]


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the list the form was on (its filters and page), or to the plain list."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect("notification_list")


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", selectors.SHOW_ALL)
    if show not in (selectors.SHOW_ALL, selectors.SHOW_UNREAD):
        show = selectors.SHOW_ALL
    kind = request.GET.get("kind", "")
    if kind not in Kind.values:
        kind = ""
    after = request.GET.get("after", "")
    page = selectors.notification_page_for_user(user_id=_user_id(request), show=show, kind=kind, after=after)
    shown = page.rows
    _label_children(request, shown)
    return render(
        request,
        "notifications/list.html",
        {
            "next_after": page.next_after,
            "paged": bool(after),
            "notifications": shown,
            "show": show,
            "kind": kind,
            "kinds": Kind.choices,
            "digest": selectors.wants_digest(user_id=_user_id(request)),
            "here": request.get_full_path(),
        },
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    if not services.mark_read(user_id=_user_id(request), notification_id=notification_id):
        raise Http404
    return _back(request)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(user_id=_user_id(request))
    return _back(request)


@login_required
@require_POST
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """Turn the daily e-mail digest on or off (urgent notifications are e-mailed whatever this says)."""
    services.set_digest(user_id=_user_id(request), digest=request.POST.get("digest") == "on")
    messages.success(request, _("Your e-mail settings were saved."))
    return _back(request)


@login_required
@require_GET
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark read and go where the notification points: the thing it announces, else its case page, or the list
    when it points nowhere. Resolved now, from the row's stored type and id; the target checks access itself."""
    row = selectors.notification_get(user_id=_user_id(request), notification_id=notification_id)
    if row is None:
        raise Http404
    services.mark_read(user_id=_user_id(request), notification_id=row.pk)
    if not row.has_link:
        return redirect("notification_list")
    target = _hook(settings.NOTIFICATIONS_TARGET_URL)(
        kind=row.kind, case_id=row.case_id, object_type=row.object_type, object_id=row.object_id
    )
    if target:
        return redirect(target)
    if row.links_to_case:
        return redirect(reverse("case_detail", kwargs={"case_id": row.case_id}))
    return redirect("notification_list")


@login_required
@require_GET
@never_cache
def notification_child(request: HttpRequest, notification_id: int) -> HttpResponse:
    """The child's name and age for one of the user's own notifications, asked by the page when the row arrived live
    (the socket message never carries it). Empty when the viewer may not read the case basics; another user's row is
    "not found". Read through the gate and audited like the list; never cached."""
    row = selectors.notification_get(user_id=_user_id(request), notification_id=notification_id)
    if row is None:
        raise Http404
    label = ""
    if row.links_to_case:
        label = _hook(settings.NOTIFICATIONS_CHILD_LABELS)(request.user, [str(row.case_id)], LIVE_PURPOSE).get(
            str(row.case_id), ""
        )
    return JsonResponse({"child": label})
