"""The service directory: search and filters, stale cards, who keeps a card current, the network view."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import Municipality, Organisation, ResidenceMunicipality, Role, Sector, User
from permissions.models import AuditEvent
from services.models import Cost, Service
from services.selectors.directory import DirectoryFilters, service_search
from services.selectors.network import network_view
from services.services import service_card_update, service_search_text
from tests.factories import MunicipalityFactory, OrganisationFactory, UserFactory
from tests.factories.services import provider, service, service_type

pytestmark = pytest.mark.django_db


def names(filters: DirectoryFilters) -> set[str]:
    return {row.name for row in service_search(filters=filters).rows}


@pytest.fixture
def region(olomouc: Municipality) -> dict[str, Any]:
    prerov = MunicipalityFactory.create(code="PR", name="Přerov")
    hlubocky = ResidenceMunicipality.objects.get_or_create(name="Hlubočky", orp=olomouc)[0]
    kojetin = ResidenceMunicipality.objects.get_or_create(name="Kojetín", orp=prerov)[0]
    jablonka = provider(municipality=olomouc)
    sas_free = service(
        of=jablonka,
        name="SAS Jabloňka",
        description="Terénní práce s rodinou",
        orps=(olomouc,),
        age_min=0,
        age_max=18,
        capacity_total=10,
        free_places=2,
        waiting_days=7,
    )
    sas_full = service(
        name="SAS Modrý most", orps=(olomouc,), age_min=0, age_max=15, capacity_total=8, free_places=0, waiting_days=40
    )
    nzdm = service(type_code="nzdm", name="Klub Přístav", orps=(prerov,), age_min=11, age_max=20, free_places=5)
    early = service(
        type_code="early_care", name="Raná péče Krůček", municipalities=(hlubocky,), age_min=0, age_max=7, free_places=1
    )
    therapy = service(type_code="therapy", name="Rodinná terapie", municipalities=(kojetin,))
    return {
        "olomouc": olomouc,
        "prerov": prerov,
        "hlubocky": hlubocky,
        "jablonka": jablonka,
        "sas_free": sas_free,
        "sas_full": sas_full,
        "nzdm": nzdm,
        "early": early,
        "therapy": therapy,
    }


def test_full_text_finds_words_in_name_description_provider_and_type_without_diacritics(region: dict[str, Any]) -> None:
    assert names(DirectoryFilters(text="terénní")) == {"SAS Jabloňka"}
    assert names(DirectoryFilters(text="TERENNI rodinou")) == {"SAS Jabloňka"}
    assert names(DirectoryFilters(text="pece")) == {"Raná péče Krůček"}  # "péče" typed without diacritics
    # The type's names (Czech, English, abbreviation) and the provider's name are searched too.
    assert names(DirectoryFilters(text="aktivizační")) == {"SAS Jabloňka", "SAS Modrý most"}
    assert names(DirectoryFilters(text="low-threshold")) == {"Klub Přístav"}
    provider_name = region["jablonka"].organisation.name
    assert names(DirectoryFilters(text=provider_name)) == {"SAS Jabloňka"}
    assert names(DirectoryFilters(text="neexistující")) == set()


def test_filters_by_type_and_free_capacity(region: dict[str, Any]) -> None:
    assert names(DirectoryFilters(type_code="sas")) == {"SAS Jabloňka", "SAS Modrý most"}
    assert names(DirectoryFilters(type_code="sas", free_only=True)) == {"SAS Jabloňka"}
    # "Free places not stated" is not free capacity.
    assert "Rodinná terapie" not in names(DirectoryFilters(free_only=True))


def test_filters_by_child_age(region: dict[str, Any]) -> None:
    assert names(DirectoryFilters(age=17)) == {"SAS Jabloňka", "Klub Přístav", "Rodinná terapie"}
    assert names(DirectoryFilters(age=5)) == {"SAS Jabloňka", "SAS Modrý most", "Raná péče Krůček", "Rodinná terapie"}
    assert names(DirectoryFilters(age=16, type_code="sas")) == {"SAS Jabloňka"}


def test_filters_by_area_orp_covers_its_municipalities_and_a_municipality_its_whole_orp(region: dict[str, Any]) -> None:
    olomouc, prerov, hlubocky = region["olomouc"], region["prerov"], region["hlubocky"]
    # The ORP: services for the whole ORP and those for one of its municipalities.
    assert names(DirectoryFilters(orp_id=olomouc.pk)) == {"SAS Jabloňka", "SAS Modrý most", "Raná péče Krůček"}
    assert names(DirectoryFilters(orp_id=prerov.pk)) == {"Klub Přístav", "Rodinná terapie"}
    # A municipality: services for it, and those for its whole ORP.
    assert names(DirectoryFilters(municipality_id=hlubocky.pk)) == {
        "SAS Jabloňka",
        "SAS Modrý most",
        "Raná péče Krůček",
    }
    # The coordinator's question: an SAS with free capacity in the child's area, for a 9-year-old.
    assert names(DirectoryFilters(type_code="sas", orp_id=olomouc.pk, age=9, free_only=True)) == {"SAS Jabloňka"}


def test_inactive_services_are_not_listed(region: dict[str, Any]) -> None:
    Service.objects.filter(pk=region["sas_free"].pk).update(is_active=False)
    assert "SAS Jabloňka" not in names(DirectoryFilters())


def test_search_page_shows_results_and_filter_errors(region: dict[str, Any], coordinator: User) -> None:
    client = Client()
    client.force_login(coordinator)
    response = client.get(reverse("service_directory"), {"type": "sas", "free": "on"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "SAS Jabloňka" in body
    assert "SAS Modrý most" not in body
    bad = client.get(reverse("service_directory"), {"age": "-3"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["age"]


def _bulk_services(count: int, orp: Municipality) -> None:
    kind = service_type("sas")
    owner = provider(municipality=orp)
    now = timezone.now()
    rows = [
        Service(
            provider=owner,
            service_type=kind,
            name=f"Služba {n}",
            free_places=n % 3,
            capacity_total=5,
            age_min=0,
            age_max=18,
            card_updated_at=now - datetime.timedelta(minutes=n),
        )
        for n in range(count)
    ]
    made = Service.objects.bulk_create(rows)
    for row in made:
        row.search_text = service_search_text(row)
    Service.objects.bulk_update(made, ["search_text"])
    Service.area_orps.through.objects.bulk_create(
        [Service.area_orps.through(service_id=row.pk, municipality_id=orp.pk) for row in made]
    )


@pytest.mark.parametrize("count", [10, 1000])
def test_search_page_costs_the_same_statements_at_10_and_1000_services(
    count: int, olomouc: Municipality, coordinator: User, django_assert_num_queries: Any
) -> None:
    _bulk_services(count, olomouc)
    client = Client()
    client.force_login(coordinator)
    url = reverse("service_directory")
    params = {"q": "sluzba", "type": "sas", "orp": str(olomouc.pk), "age": "9", "free": "on"}
    client.get(url, params)  # warm the session and the translation caches
    # The shell's (session, user, organisation, menu rules), the form's lists, the provider check, and the page: its
    # rows and their two area lists. The same at both sizes.
    with django_assert_num_queries(12):
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(response.context["page"].rows) == min(50, len([n for n in range(count) if n % 3]))


def test_keyset_paging_walks_every_service_once(olomouc: Municipality) -> None:
    _bulk_services(120, olomouc)
    seen: list[int] = []
    cursor = ""
    while True:
        page = service_search(filters=DirectoryFilters(), after_cursor=cursor)
        seen.extend(row.id for row in page.rows)
        if not page.next_after:
            break
        cursor = page.next_after
    assert len(seen) == len(set(seen)) == 120


# --- Stale cards (frozen time) --------------------------------------------------------------------------------------


def test_a_card_not_confirmed_for_six_months_is_flagged_on_the_card_in_the_list_and_for_its_provider(
    olomouc: Municipality, supervisor: User
) -> None:
    with time_machine.travel(datetime.datetime(2026, 1, 10, 9, 0, tzinfo=datetime.UTC), tick=False):
        owner = provider(municipality=olomouc)
        card = service(of=owner, name="SAS Stara karta", orps=(olomouc,))
        provider_user = UserFactory.create(role=Role.PARTNER, organisation=owner.organisation)
    with time_machine.travel(datetime.datetime(2026, 7, 9, 9, 0, tzinfo=datetime.UTC), tick=False):
        assert not card.is_stale()
        assert service_search(filters=DirectoryFilters()).rows[0].is_stale is False
    with time_machine.travel(datetime.datetime(2026, 7, 11, 9, 0, tzinfo=datetime.UTC), tick=False):
        assert card.is_stale()
        assert service_search(filters=DirectoryFilters()).rows[0].is_stale is True
        client = Client()
        client.force_login(provider_user)
        assert b"data-stale-notice" in client.get(reverse("service_card", args=[card.pk])).content
        assert b"data-stale" in client.get(reverse("service_directory")).content
        own_list = client.get(reverse("service_cards_to_confirm"))
        assert own_list.status_code == 200
        assert b"SAS Stara karta" in own_list.content
        lead = Client()
        lead.force_login(supervisor)
        assert b"SAS Stara karta" in lead.get(reverse("service_cards_to_confirm")).content
        # Saving the card confirms it: the flag goes.
        service_card_update(service=card, data={"free_places": 1}, by=provider_user)
        assert not Service.objects.get(pk=card.pk).is_stale()
        assert b"SAS Stara karta" not in lead.get(reverse("service_cards_to_confirm")).content


@pytest.mark.parametrize(("months", "stale"), [(3, True), (12, False)])
def test_the_staleness_period_is_a_setting(olomouc: Municipality, settings: Any, months: int, stale: bool) -> None:
    settings.SERVICE_CARD_STALE_MONTHS = months
    with time_machine.travel(datetime.datetime(2026, 1, 31, 9, 0, tzinfo=datetime.UTC), tick=False):
        card = service(name="Karta")
    with time_machine.travel(datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.UTC), tick=False):
        assert card.is_stale() is stale


# --- Who keeps a card current ---------------------------------------------------------------------------------------


@pytest.fixture
def card_and_people(olomouc: Municipality, ospod: Organisation) -> dict[str, Any]:
    owner = provider(municipality=olomouc)
    card = service(of=owner, name="SAS Karta", orps=(olomouc,), capacity_total=10, free_places=3)
    other_provider = provider(municipality=olomouc)
    return {
        "card": card,
        "provider_user": UserFactory.create(role=Role.PARTNER, organisation=owner.organisation),
        "other_provider_user": UserFactory.create(role=Role.PARTNER, organisation=other_provider.organisation),
        "school_partner": UserFactory.create(
            role=Role.PARTNER, organisation=OrganisationFactory.create(sector=Sector.SCHOOL, municipality=olomouc)
        ),
        "coordinator": UserFactory.create(role=Role.OSPOD_WORKER, organisation=ospod),
        "supervisor": UserFactory.create(role=Role.SUPERVISOR, organisation=ospod),
    }


def _card_post(card: Service, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service_type": card.service_type_id,
        "name": card.name,
        "capacity_total": card.capacity_total or "",
        "free_places": card.free_places if card.free_places is not None else "",
        "waiting_days": "",
        "cost": Cost.FREE,
        "is_active": "on",
        "area_orps": [m.pk for m in card.area_orps.all()],
    }
    data.update(changes)
    return data


def test_the_providers_own_user_updates_the_card_audited_and_confirmed(card_and_people: dict[str, Any]) -> None:
    card, user = card_and_people["card"], card_and_people["provider_user"]
    client = Client()
    client.force_login(user)
    assert client.get(reverse("service_card_edit", args=[card.pk])).status_code == 200
    before = AuditEvent.objects.count()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=False):
        response = client.post(reverse("service_card_edit", args=[card.pk]), _card_post(card, free_places=0))
        assert response.status_code == 302
        assert response["Location"] == reverse("service_card", args=[card.pk])
        saved = Service.objects.get(pk=card.pk)
        assert saved.free_places == 0
        assert saved.card_updated_at == timezone.now()
        assert saved.card_updated_by == user
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert event is not None
    assert event.object_type == "services.service"
    assert event.object_id == str(card.pk)
    assert "free_places" in event.field_names
    assert "card_updated_at" in event.field_names


def test_a_bad_card_comes_back_with_field_errors_and_changes_nothing(card_and_people: dict[str, Any]) -> None:
    card, user = card_and_people["card"], card_and_people["provider_user"]
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("service_card_edit", args=[card.pk]),
        _card_post(card, free_places=11, age_min=12, age_max=6, email="not-an-address"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"free_places", "age_max", "email"}
    assert Service.objects.get(pk=card.pk).free_places == 3


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("provider_user", 200),
        ("other_provider_user", 403),
        ("school_partner", 403),
        ("coordinator", 403),
        ("supervisor", 403),
    ],
)
def test_only_the_providers_own_users_may_edit_its_card(card_and_people: dict[str, Any], who: str, status: int) -> None:
    card = card_and_people["card"]
    client = Client()
    client.force_login(card_and_people[who])
    assert client.get(reverse("service_card_edit", args=[card.pk])).status_code == status
    posted = client.post(reverse("service_card_edit", args=[card.pk]), _card_post(card, free_places=0))
    assert posted.status_code == (302 if status == 200 else status)
    if status != 200:
        assert Service.objects.get(pk=card.pk).free_places == 3
    # Everyone reads the card and its printable page.
    assert client.get(reverse("service_card", args=[card.pk])).status_code == 200
    assert client.get(reverse("service_card_print", args=[card.pk])).status_code == 200


def test_card_pages_speak_english_too(card_and_people: dict[str, Any]) -> None:
    client = Client()
    client.cookies.load({"django_language": "en"})
    client.force_login(card_and_people["coordinator"])
    body = client.get(reverse("service_card", args=[card_and_people["card"].pk])).content.decode()
    assert "Free places" in body
    assert "social activation services for families with children" in body
    czech = Client()
    czech.force_login(card_and_people["coordinator"])
    assert (
        "sociálně aktivizační služby pro rodiny s dětmi"
        in czech.get(reverse("service_card", args=[card_and_people["card"].pk])).content.decode()
    )


# --- The network view -----------------------------------------------------------------------------------------------


def test_network_view_counts_services_capacity_and_waiting_by_type_and_orp(region: dict[str, Any]) -> None:
    view = network_view()
    rows = {(row.type_code, row.orp_name): row for row in view.rows}
    sas = rows[("sas", "Olomouc")]
    assert (sas.services, sas.capacity_total, sas.free_places, sas.without_free_places) == (2, 18, 2, 1)
    assert (sas.waiting_avg_days, sas.waiting_max_days) == (23.5, 40)
    assert rows[("early_care", "Olomouc")].services == 1  # served through one municipality of the ORP
    assert rows[("therapy", "Přerov")].services == 1
    assert view.totals is not None
    assert view.totals.services == 5
    assert not view.has_referrals


def test_network_page_is_for_supervisors_and_shows_no_person(region: dict[str, Any], supervisor: User) -> None:
    client = Client()
    client.force_login(supervisor)
    response = client.get(reverse("service_network"))
    assert response.status_code == 200
    assert b"data-network-row" in response.content
    partner = UserFactory.create(role=Role.PARTNER, organisation=region["jablonka"].organisation)
    client.force_login(partner)
    assert client.get(reverse("service_network")).status_code == 403


@pytest.mark.postgres
def test_on_postgresql_a_trigram_index_serves_the_search(olomouc: Municipality) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'service_search_text_trgm'")
        row = cursor.fetchone()
    assert row is not None
    assert "gin_trgm_ops" in row[0]
    assert "upper" in row[0].lower()
