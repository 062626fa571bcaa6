"""Thin views over the user's own notifications. Works without JavaScript; the socket only makes it live.

Every lookup is filtered by the logged-in user, so another user's id is "not found", exactly like an id that does not
exist. Opening a notification marks it read and goes to the case page, which checks access itself
(``access_case_by_id``): a user whose membership ended gets the same not-found page as for any other case.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from notifications import selectors, services
from notifications.models import Kind

PAGE_SIZE = 50


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
    rows = selectors.notification_list_for_user(user_id=_user_id(request), show=show, kind=kind)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "notifications": list(page.object_list),
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
    """Mark read and go where the notification points: its case page, or the list when it points nowhere."""
    row = selectors.notification_get(user_id=_user_id(request), notification_id=notification_id)
    if row is None:
        raise Http404
    services.mark_read(user_id=_user_id(request), notification_id=row.pk)
    if row.links_to_case:
        return redirect(reverse("case_detail", kwargs={"case_id": row.case_id}))
    return redirect("notification_list")
