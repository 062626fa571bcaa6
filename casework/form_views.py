"""Endpoints that keep a form's work: the autosave of a draft, kept work before a language switch, and the return
of kept work to its page (``casework.services.drafts``). Their answers never carry the text back except to the
page it was written on, for the person who wrote it."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from casework.case_views.common import viewer
from casework.models import Conference, DraftKind, FormDraft, Plan
from casework.services.drafts import (
    KEPT_WORK_COOKIE,
    KEPT_WORK_MINUTES,
    draft_save,
    form_fields,
    kept_work_store,
    kept_work_take,
)
from permissions.access import access_case_by_id


def _draft(request: HttpRequest, case_id: uuid.UUID, kind: str, object_id: str) -> HttpResponse:
    """GET: whether the viewer has a draft here and when it was saved; POST: save the posted form as the viewer's
    draft. Answers are JSON with times only, never the text. A case the viewer may not see answers 404 like any case
    page; so does an object of another case."""
    user = viewer(request)
    accessed = access_case_by_id(user, case_id, purpose="save draft")
    if kind == DraftKind.MINUTES:
        found = Conference.objects.filter(pk=object_id, case_id=accessed.case.pk).exists()
    elif kind == DraftKind.PLAN:
        found = Plan.objects.filter(pk=object_id, case_id=accessed.case.pk).exists()
    else:
        found = object_id == str(accessed.case.pk)
    if not found:
        raise Http404
    if request.method == "GET":
        draft = FormDraft.objects.filter(user=user, kind=kind, object_id=object_id).only("updated_at").first()
        at = timezone.localtime(draft.updated_at).strftime("%H:%M:%S") if draft is not None else None
        return JsonResponse({"draft": draft is not None, "at": at})
    try:
        draft_save(user=user, case=accessed.case, kind=kind, object_id=object_id, fields=form_fields(request.POST))
    except ValidationError as exc:
        return JsonResponse({"saved": False, "errors": exc.messages}, status=400)
    return JsonResponse({"saved": True, "at": timezone.localtime().strftime("%H:%M:%S")})


@login_required
@require_http_methods(["GET", "POST"])
def draft_assessment(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The viewer's draft of the case's assessment (its object is the case itself)."""
    return _draft(request, case_id, DraftKind.ASSESSMENT, str(case_id))


@login_required
@require_http_methods(["GET", "POST"])
def draft_minutes(request: HttpRequest, case_id: uuid.UUID, conference_id: uuid.UUID) -> HttpResponse:
    """The viewer's draft of a conference's record."""
    return _draft(request, case_id, DraftKind.MINUTES, str(conference_id))


@login_required
@require_http_methods(["GET", "POST"])
def draft_plan(request: HttpRequest, case_id: uuid.UUID, plan_id: uuid.UUID) -> HttpResponse:
    """The viewer's draft of a plan version in work."""
    return _draft(request, case_id, DraftKind.PLAN, str(plan_id))


def _same_site_path(value: str) -> str | None:
    """A path of this site (``/…``, no scheme or host), or ``None``."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return None
    return value


def set_kept_work_cookie(response: HttpResponse, cookie: str) -> None:
    response.set_cookie(
        KEPT_WORK_COOKIE,
        cookie,
        max_age=KEPT_WORK_MINUTES * 60,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


@login_required
@require_http_methods(["POST"])
def keep_work(request: HttpRequest) -> HttpResponse:
    """Keep a half-filled form before the page is left on purpose (the language switch): sealed under a key the
    browser keeps, for this user and page only. The form's page takes it back when it loads again."""
    path = _same_site_path(request.POST.get("_keep_path", ""))
    if path is None:
        return JsonResponse({"kept": False}, status=400)
    fields = form_fields(request.POST)
    fields.pop("_keep_path", None)
    try:
        cookie = kept_work_store(path=path, fields=fields, user=viewer(request))
    except ValidationError:
        return JsonResponse({"kept": False}, status=400)
    response = JsonResponse({"kept": True})
    set_kept_work_cookie(response, cookie)
    return response


@login_required
@require_http_methods(["POST"])
def kept_work_restore(request: HttpRequest) -> HttpResponse:
    """The kept fields for the page that asks (``path``), once; ``{}`` when there are none. A POST (with the CSRF
    token) so no other site can read them, and the cookie goes once they are taken."""
    path = _same_site_path(request.POST.get("path", ""))
    cookie = request.COOKIES.get(KEPT_WORK_COOKIE, "")
    fields = kept_work_take(cookie=cookie, path=path, user=viewer(request)) if path and cookie else None
    response = JsonResponse({"fields": fields or {}})
    if fields is not None:
        response.delete_cookie(KEPT_WORK_COOKIE, samesite="Lax")
    return response
