"""The cover page (*Zastupování*): a supervisor names a deputy for a period, sees the authority's covers (current,
future, past) and ends one early. Thin: the policy decides (``permissions.policy.may_name_cover`` …), the services
write (``casework.services.cover``), the read model reads (``casework.selectors.cover``). No case content here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.case_views.common import viewer
from casework.cover_forms import SupervisorCoverForm
from casework.models import SupervisorCover
from casework.selectors.cover import cover_page, visible_covers
from casework.services.cover import OBJECT_TYPE, supervisor_cover_add, supervisor_cover_end
from casework.views import shell_page
from permissions.access import record_denial


@shell_page("supervisor_cover")
@require_http_methods(["GET", "POST"])
def supervisor_cover(request: HttpRequest) -> HttpResponse:
    user = viewer(request)
    if user.organisation is None:
        raise Http404
    page = cover_page(user=user, before=request.GET.get("before", ""))
    form = SupervisorCoverForm(
        request.POST if request.method == "POST" else None,
        municipality_id=user.organisation.municipality_id,
        viewer=user,
    )
    if request.method == "POST":
        if not page.may_name:
            record_denial(user, OBJECT_TYPE, "-", "name supervisor cover")
            raise PermissionDenied
        if form.is_valid():
            try:
                supervisor_cover_add(by=user, **form.cover())
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                messages.success(request, _("The deputy was named; they have been notified."))
                return redirect("supervisor_cover")
    return render(
        request,
        "casework/supervisor_cover.html",
        {"page": page, "form": form if page.may_name else None},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def supervisor_cover_end_view(request: HttpRequest, cover_id: int) -> HttpResponse:
    """End a cover early. A cover the user does not see is not found (the same answer as one that does not exist)."""
    user = viewer(request)
    if not SupervisorCover.objects.filter(visible_covers(user), pk=cover_id).exists():
        raise Http404
    try:
        supervisor_cover_end(cover_id=cover_id, by=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The cover was ended."))
    return redirect("supervisor_cover")
