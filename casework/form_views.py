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
from casework.models import Conference, DraftKind, Plan
from casework.services.drafts import (
    KEPT_WORK_COOKIE,
    KEPT_WORK_MINUTES,
    draft_save,
    form_fields,
    kept_work_store,
    kept_work_take,
)
from permissions.access import access_case_by_id


def _draft_object_of_case(kind: str, object_id: str, case_id: uuid.UUID) -> bool:
    """Whether the draft's object belongs to the case (the assessment's object is the case itself)."""
    if kind == DraftKind.ASSESSMENT:
        return object_id == str(case_id)
    try:
        parsed = uuid.UUID(object_id)
    except ValueError:
        return False
    if kind == DraftKind.MINUTES:
        return Conference.objects.filter(pk=parsed, case_id=case_id).exists()
    if kind == DraftKind.PLAN:
        return Plan.objects.filter(pk=parsed, case_id=case_id).exists()
    return False


@login_required
@require_http_methods(["POST"])
def draft_autosave(request: HttpRequest, case_id: uuid.UUID, kind: str, object_id: str) -> HttpResponse:
    """Save the posted form as the viewer's draft (JSON answer: when; never the text). A case the viewer may not see
    answers 404 like any case page."""
    user = viewer(request)
    accessed = access_case_by_id(user, case_id, purpose="save draft")
    if kind not in DraftKind.values or not _draft_object_of_case(kind, object_id, accessed.case.pk):
        raise Http404
    try:
        draft_save(user=user, case=accessed.case, kind=kind, object_id=object_id, fields=form_fields(request.POST))
    except ValidationError as exc:
        return JsonResponse({"saved": False, "errors": exc.messages}, status=400)
    return JsonResponse({"saved": True, "at": timezone.localtime().strftime("%H:%M:%S")})


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
