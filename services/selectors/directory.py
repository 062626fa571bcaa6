"""Read models of the service directory: the search page, one card, the provider's list of cards to confirm.

Nothing here is protected: a card is a provider's public description. The search filters in SQL and pages by key
(``casework.paging``): the page's rows in one statement, their areas in two more — three statements whatever the
directory's size (pinned in tests/services/test_directory.py).

Full text: every word of the query must occur in the card's ``search_text`` (name, description, target group,
provider, type names, languages; folded to lower case without diacritics, so "pece" finds "péče"). Django writes
that as ``UPPER(search_text) LIKE UPPER('%word%')``; on PostgreSQL a trigram index (pg_trgm,
``services/0002``) serves it, on SQLite it scans (fine for a demo's data). See docs/adr/0028-service-network-app.md.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.models import User
from casework.paging import PAGE_SIZE, after, cursor_for, parse_cursor
from permissions.policy import may_edit_service_card
from services.models import Cost, Provider, Service, ServiceType, stale_before
from services.services import fold

_KEY = (("card_updated_at", True), ("id", True))


@dataclass(frozen=True)
class DirectoryFilters:
    """What the directory is searched by. Empty values do not filter."""

    text: str = ""
    type_code: str = ""
    orp_id: int | None = None
    municipality_id: int | None = None
    age: int | None = None
    free_only: bool = False


@dataclass(frozen=True)
class ServiceRow:
    id: int
    name: str
    provider: str
    type_name: str
    type_code: str
    age_min: int | None
    age_max: int | None
    capacity_total: int | None
    free_places: int | None
    waiting_days: int | None
    areas: tuple[str, ...]
    card_updated_at: datetime.datetime
    is_stale: bool
    is_active: bool = True


@dataclass(frozen=True)
class DirectoryPage:
    rows: list[ServiceRow]
    #: The cursor of the last row when there is a next page, else "".
    next_after: str = ""
    stale_count_on_page: int = 0


@dataclass(frozen=True)
class ServiceCard:
    """Everything the card page (and its printable version) shows."""

    id: int
    name: str
    provider: str
    provider_registration_number: str
    provider_web: str
    type_name: str
    type_code: str
    description: str
    target_group: str
    age_min: int | None
    age_max: int | None
    orps: tuple[str, ...]
    municipalities: tuple[str, ...]
    address: str
    phone: str
    email: str
    web: str
    opening_hours: str
    how_to_refer: str
    capacity_total: int | None
    free_places: int | None
    waiting_days: int | None
    languages: tuple[str, ...]
    cost: str
    cost_label: str
    cost_note: str
    card_updated_at: datetime.datetime
    card_updated_by: str
    is_stale: bool
    is_active: bool
    may_edit: bool
    stale_months: int = 6
    extra: dict[str, object] = field(default_factory=dict)


def _serving(orp_id: int | None, municipality_id: int | None) -> Q:
    """Services whose area covers the ORP (as a whole or in one of its municipalities) or the municipality (itself
    or its whole ORP). ``EXISTS`` subqueries: no join that would repeat a service."""
    area_orps = Service.area_orps.through.objects.filter(service_id=OuterRef("pk"))
    area_municipalities = Service.area_municipalities.through.objects.filter(service_id=OuterRef("pk"))
    condition = Q()
    if orp_id is not None:
        condition &= Q(Exists(area_orps.filter(municipality_id=orp_id))) | Q(
            Exists(area_municipalities.filter(residencemunicipality__orp_id=orp_id))
        )
    if municipality_id is not None:
        condition &= Q(Exists(area_municipalities.filter(residencemunicipality_id=municipality_id))) | Q(
            Exists(area_orps.filter(municipality__residence_municipalities__id=municipality_id))
        )
    return condition


def service_queryset(filters: DirectoryFilters) -> QuerySet[Service]:
    """The active services matching ``filters`` (the network selector and sn-ref's referral form reuse it)."""
    services = Service.objects.filter(is_active=True, provider__is_active=True)
    for word in fold(filters.text).split()[:8]:
        services = services.filter(search_text__icontains=word)
    if filters.type_code:
        services = services.filter(service_type__code=filters.type_code)
    if filters.orp_id is not None or filters.municipality_id is not None:
        services = services.filter(_serving(filters.orp_id, filters.municipality_id))
    if filters.age is not None:
        services = services.filter(Q(age_min__isnull=True) | Q(age_min__lte=filters.age)).filter(
            Q(age_max__isnull=True) | Q(age_max__gte=filters.age)
        )
    if filters.free_only:
        services = services.filter(free_places__gt=0)
    return services


def _areas(service: Service) -> tuple[str, ...]:
    return tuple([m.name for m in service.area_orps.all()] + [m.name for m in service.area_municipalities.all()])


def _row(service: Service, threshold: datetime.datetime) -> ServiceRow:
    return ServiceRow(
        id=service.pk,
        name=service.name,
        provider=service.provider.organisation.name,
        type_name=service.service_type.name,
        type_code=service.service_type.code,
        age_min=service.age_min,
        age_max=service.age_max,
        capacity_total=service.capacity_total,
        free_places=service.free_places,
        waiting_days=service.waiting_days,
        areas=_areas(service),
        card_updated_at=service.card_updated_at,
        is_stale=service.card_updated_at < threshold,
        is_active=service.is_active,
    )


def _page(services: QuerySet[Service], cursor: str) -> DirectoryPage:
    key = parse_cursor(cursor, (datetime.datetime, int))
    if key is not None:
        services = services.filter(after(_KEY, key))
    found = list(
        services.select_related("provider__organisation", "service_type")
        .prefetch_related("area_orps", "area_municipalities")
        .order_by("-card_updated_at", "-id")[: PAGE_SIZE + 1]
    )
    threshold = stale_before()
    rows = [_row(service, threshold) for service in found[:PAGE_SIZE]]
    next_after = cursor_for((rows[-1].card_updated_at, rows[-1].id)) if len(found) > PAGE_SIZE else ""
    return DirectoryPage(rows=rows, next_after=next_after, stale_count_on_page=sum(r.is_stale for r in rows))


def service_search(*, filters: DirectoryFilters, after_cursor: str = "") -> DirectoryPage:
    """One page of the directory for ``filters``, freshest cards first. Three statements."""
    return _page(service_queryset(filters), after_cursor)


def active_service_types() -> list[ServiceType]:
    """The kinds of service offered in the region, in the list's order (one statement): the directory's type filter
    takes their ``code``."""
    return list(ServiceType.objects.filter(is_active=True).order_by("position", "name_cs"))


def cards_to_confirm(*, user: User, after_cursor: str = "") -> DirectoryPage:
    """The cards a person should confirm: for a provider's partner user, every card of their organisation (active
    or not; the stale are flagged); for a supervisor, every stale active card of the region."""
    if user.organisation_id is not None and user.role == "partner":
        services = Service.objects.filter(provider__organisation_id=user.organisation_id)
    else:
        services = Service.objects.filter(is_active=True, card_updated_at__lt=stale_before())
    return _page(services, after_cursor)


def card_editor_ids(organisation_ids: Iterable[int]) -> dict[int, list[int]]:
    """Who may edit the cards of each provider organisation, as the policy says (``may_edit_service_card``):
    organisation id → user ids, ascending. One statement; the organisations' users are asked one by one."""
    wanted = set(organisation_ids)
    if not wanted:
        return {}
    editors: dict[int, list[int]] = {}
    for user in User.objects.filter(organisation_id__in=wanted).select_related("organisation").order_by("pk"):
        if user.organisation_id is not None and may_edit_service_card(
            user, provider_organisation_id=user.organisation_id
        ):
            editors.setdefault(user.organisation_id, []).append(user.pk)
    return editors


def is_provider_user(user: User) -> bool:
    """Whether the user's organisation is a registered provider (one statement)."""
    return user.organisation_id is not None and Provider.objects.filter(organisation_id=user.organisation_id).exists()


def service_card(*, user: User, service_id: int, include_inactive: bool = False) -> ServiceCard:
    """One card, or 404. An inactive card is shown only to those who may edit it."""
    service = (
        Service.objects.select_related("provider__organisation", "service_type", "card_updated_by")
        .prefetch_related("area_orps", "area_municipalities")
        .filter(pk=service_id)
        .first()
    )
    if service is None:
        raise Http404
    may_edit = may_edit_service_card(user, provider_organisation_id=service.provider.organisation_id)
    if not (service.is_active and service.provider.is_active) and not may_edit:
        raise Http404
    return ServiceCard(
        id=service.pk,
        name=service.name,
        provider=service.provider.organisation.name,
        provider_registration_number=service.provider.registration_number,
        provider_web=service.provider.web,
        type_name=service.service_type.name,
        type_code=service.service_type.code,
        description=service.description,
        target_group=service.target_group,
        age_min=service.age_min,
        age_max=service.age_max,
        orps=tuple(m.name for m in service.area_orps.all()),
        municipalities=tuple(m.name for m in service.area_municipalities.all()),
        address=service.address,
        phone=service.phone,
        email=service.email,
        web=service.web,
        opening_hours=service.opening_hours,
        how_to_refer=service.how_to_refer,
        capacity_total=service.capacity_total,
        free_places=service.free_places,
        waiting_days=service.waiting_days,
        languages=tuple(part.strip() for part in service.languages.split(",") if part.strip()),
        cost=service.cost,
        cost_label=str(Cost(service.cost).label),
        cost_note=service.cost_note,
        card_updated_at=service.card_updated_at,
        card_updated_by=service.card_updated_by.display_name() if service.card_updated_by else "",
        is_stale=service.is_stale(timezone.now()),
        is_active=service.is_active,
        may_edit=may_edit,
        stale_months=int(getattr(settings, "SERVICE_CARD_STALE_MONTHS", 6)),
    )


def service_for_edit(*, user: User, service_id: int) -> Service:
    """The card's row for its editor; 404 if it does not exist, ``PermissionDenied`` for anyone else."""
    service = Service.objects.select_related("provider__organisation", "service_type").filter(pk=service_id).first()
    if service is None:
        raise Http404
    if not may_edit_service_card(user, provider_organisation_id=service.provider.organisation_id):
        raise PermissionDenied
    return service
