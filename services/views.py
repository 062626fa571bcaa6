"""Pages of the service network's directory: search, a card, its printable page, the provider's edit form, the list
of cards to confirm and the network view. Thin: the policy (``permissions.policy``) decides, the selectors read,
``services.services`` writes. No child data anywhere here."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.models import Municipality, User
from permissions.policy import (
    may_search_service_directory,
    may_see_cards_to_confirm,
    may_see_service_network,
)
from services.forms import DirectorySearchForm, ServiceCardForm
from services.models import ServiceType
from services.selectors.directory import (
    DirectoryFilters,
    cards_to_confirm,
    is_provider_user,
    service_card,
    service_for_edit,
    service_search,
)
from services.selectors.network import network_view
from services.services import AREA_FIELDS, CARD_FIELDS, service_card_update


def _reader(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not may_search_service_directory(user):
        raise PermissionDenied
    return user


@login_required
@require_http_methods(["GET"])
def service_directory(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    form = DirectorySearchForm(request.GET or None)
    filters = form.filters() if request.GET else DirectoryFilters()
    page = service_search(filters=filters, after_cursor=request.GET.get("after", ""))
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "services/directory.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "stale_months": settings.SERVICE_CARD_STALE_MONTHS,
            "show_cards": may_see_cards_to_confirm(user, is_provider_user=is_provider_user(user)),
            "show_network": may_see_service_network(user),
        },
    )


@login_required
@require_http_methods(["GET"])
def service_card_detail(request: HttpRequest, service_id: int) -> HttpResponse:
    user = _reader(request)
    card = service_card(user=user, service_id=service_id)
    return render(request, "services/card.html", {"card": card})


@login_required
@require_http_methods(["GET"])
def service_card_print(request: HttpRequest, service_id: int) -> HttpResponse:
    user = _reader(request)
    card = service_card(user=user, service_id=service_id)
    return render(request, "services/card_print.html", {"card": card})


@login_required
@require_http_methods(["GET", "POST"])
def service_card_edit(request: HttpRequest, service_id: int) -> HttpResponse:
    """The provider's user keeps the card current; every save confirms it and is audited."""
    user = _reader(request)
    service = service_for_edit(user=user, service_id=service_id)
    form = ServiceCardForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in CARD_FIELDS}
        areas = {name: list(form.cleaned_data[name]) for name in AREA_FIELDS}
        try:
            service_card_update(
                service=service_for_edit(user=user, service_id=service_id),
                data=data,
                area_orps=areas["area_orps"],
                area_municipalities=areas["area_municipalities"],
                by=user,
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("The card is saved and confirmed as current."))
            return redirect("service_card", service_id=service_id)
    return render(request, "services/card_edit.html", {"form": form, "service": service}, status=200)


@login_required
@require_http_methods(["GET"])
def service_cards_to_confirm(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    provider_user = is_provider_user(user)
    if not may_see_cards_to_confirm(user, is_provider_user=provider_user):
        raise PermissionDenied
    page = cards_to_confirm(user=user, after_cursor=request.GET.get("after", ""))
    return render(
        request,
        "services/cards_to_confirm.html",
        {"page": page, "provider_user": provider_user, "stale_months": settings.SERVICE_CARD_STALE_MONTHS},
    )


@login_required
@require_http_methods(["GET"])
def service_network(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    if not may_see_service_network(user):
        raise PermissionDenied
    orp_id: int | None = None
    raw = request.GET.get("orp", "")
    if raw.isdigit():
        orp_id = int(raw)
    type_code = request.GET.get("type", "")
    view = network_view(orp_id=orp_id, type_code=type_code)
    return render(
        request,
        "services/network.html",
        {
            "view": view,
            "orps": Municipality.objects.order_by("name"),
            "types": ServiceType.objects.filter(is_active=True),
            "orp_id": orp_id,
            "type_code": type_code,
        },
    )
