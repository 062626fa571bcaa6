"""The service directory through the API (``/api/v1/services/``, ``/api/v1/services/{id}/``,
``/api/v1/service-types/``): the directory page's filters over the same selector, keyset pages, the card, the list
of types, field-level errors for malformed filters, and a list that costs the same statements whatever its size."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from casework.models import Municipality, ResidenceMunicipality, Role, User
from services.models import Service
from services.services import service_search_text
from tests.api.helpers import client_with, token_for
from tests.factories import MunicipalityFactory, UserFactory
from tests.factories.services import provider, service, service_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def region(olomouc: Municipality) -> dict[str, Any]:
    prerov = MunicipalityFactory.create(code="PR", name="Přerov")
    hlubocky = ResidenceMunicipality.objects.get_or_create(name="Hlubočky", orp=olomouc)[0]
    jablonka = provider(municipality=olomouc)
    return {
        "olomouc": olomouc,
        "prerov": prerov,
        "hlubocky": hlubocky,
        "jablonka": jablonka,
        "sas_free": service(
            of=jablonka,
            name="SAS Jabloňka",
            description="Terénní práce s rodinou",
            orps=(olomouc,),
            age_min=0,
            age_max=18,
            capacity_total=10,
            free_places=2,
            waiting_days=7,
        ),
        "sas_full": service(name="SAS Modrý most", orps=(olomouc,), age_min=0, age_max=15, free_places=0),
        "nzdm": service(type_code="nzdm", name="Klub Přístav", orps=(prerov,), age_min=11, age_max=20, free_places=5),
        "early": service(
            type_code="early_care", name="Raná péče Krůček", municipalities=(hlubocky,), age_min=0, age_max=7
        ),
    }


def _names(client: Any, **params: Any) -> set[str]:
    response = client.get("/api/v1/services/", params)
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def test_the_service_list_filters_as_the_directory_page_does(region: dict[str, Any], teacher: User) -> None:
    client = client_with(token_for(teacher, scope="read"))
    assert _names(client) == {"SAS Jabloňka", "SAS Modrý most", "Klub Přístav", "Raná péče Krůček"}
    assert _names(client, q="TERENNI rodinou") == {"SAS Jabloňka"}
    assert _names(client, type="sas") == {"SAS Jabloňka", "SAS Modrý most"}
    assert _names(client, type="no-such-type") == set()
    assert _names(client, orp=region["prerov"].pk) == {"Klub Přístav"}
    # A municipality is served by a service of its whole ORP and by one of its own.
    assert _names(client, municipality=region["hlubocky"].pk) == {
        "SAS Jabloňka",
        "SAS Modrý most",
        "Raná péče Krůček",
    }
    assert _names(client, age=16) == {"SAS Jabloňka", "Klub Přístav"}
    assert _names(client, free="true") == {"SAS Jabloňka", "Klub Přístav"}
    assert _names(client, type="sas", free="true", age=9, orp=region["olomouc"].pk) == {"SAS Jabloňka"}
    row = next(r for r in client.get("/api/v1/services/", {"q": "jablonka"}).json()["results"])
    assert row["type_code"] == "sas"
    assert row["free_places"] == 2
    assert row["areas"] == [region["olomouc"].name]


def test_malformed_filters_are_field_level_errors(region: dict[str, Any], teacher: User) -> None:
    client = client_with(token_for(teacher, scope="read"))
    response = client.get("/api/v1/services/", {"age": "-3", "orp": "x", "q": "a" * 201})
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error["fields"]) == {"age", "orp", "q"}
    assert client.get("/api/v1/services/", {"municipality": str(2**40)}).status_code == 400


def test_an_inactive_card_is_the_providers_own_and_a_missing_one_is_404(region: dict[str, Any], teacher: User) -> None:
    card: Service = region["sas_free"]
    client = client_with(token_for(teacher, scope="read"))
    answer = client.get(f"/api/v1/services/{card.pk}/")
    assert answer.status_code == 200
    data = answer.json()
    assert data["name"] == "SAS Jabloňka"
    assert data["orps"] == [region["olomouc"].name]
    assert data["may_edit"] is False
    assert client.get(f"/api/v1/services/{card.pk}/", HTTP_IF_NONE_MATCH=answer["ETag"]).status_code == 304
    Service.objects.filter(pk=card.pk).update(is_active=False)
    assert client.get(f"/api/v1/services/{card.pk}/").status_code == 404
    assert "SAS Jabloňka" not in _names(client)
    own = UserFactory.create(role=Role.PARTNER, organisation=region["jablonka"].organisation)
    own_answer = client_with(token_for(own, scope="read")).get(f"/api/v1/services/{card.pk}/")
    assert own_answer.status_code == 200
    assert own_answer.json()["is_active"] is False
    assert own_answer.json()["may_edit"] is True
    assert client.get("/api/v1/services/999999/").status_code == 404
    assert client.get(f"/api/v1/services/{2**40}/").status_code == 404


def test_the_service_types_in_both_languages(region: dict[str, Any], teacher: User) -> None:
    client = client_with(token_for(teacher, scope="read"))
    czech = client.get("/api/v1/service-types/").json()["results"]
    english = client.get("/api/v1/service-types/", {"lang": "en"}).json()["results"]
    assert {"code": "sas", "name": "sociálně aktivizační služby pro rodiny s dětmi", "abbreviation": "SAS"} in czech
    assert {"code": "sas", "name": "social activation services for families with children", "abbreviation": "SAS"} in (
        english
    )
    assert [row["code"] for row in czech] == [row["code"] for row in english]
    listed = client.get("/api/v1/services/", {"type": "nzdm", "lang": "en"}).json()["results"]
    assert listed[0]["type_name"] == "low-threshold facility for children and youth"


def test_the_list_pages_by_cursor_and_walks_every_service_once(olomouc: Municipality, teacher: User) -> None:
    _bulk_services(60, olomouc)
    client = client_with(token_for(teacher, scope="read"))
    first = client.get("/api/v1/services/").json()
    assert len(first["results"]) == 50
    assert first["next_cursor"]
    second = client.get("/api/v1/services/", {"cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 60


def test_the_schema_describes_the_directory_routes_in_english_too(teacher: User) -> None:
    client = Client()
    client.force_login(teacher)
    english = client.get("/api/schema/?format=json&lang=en").json()
    for path in ("/api/v1/services/", "/api/v1/services/{service_id}/", "/api/v1/service-types/"):
        assert path in english["paths"]
    parameters = {p["name"]: p for p in english["paths"]["/api/v1/services/"]["get"]["parameters"]}
    assert {"q", "type", "orp", "municipality", "age", "free", "cursor", "lang"} <= set(parameters)
    assert parameters["age"]["schema"]["maximum"] == 120
    assert "free places" in parameters["free"]["description"]


def _bulk_services(count: int, orp: Municipality) -> None:
    kind = service_type("sas")
    owner = provider(municipality=orp)
    now = timezone.now()
    made = Service.objects.bulk_create(
        [
            Service(
                provider=owner,
                service_type=kind,
                name=f"Služba {n}",
                free_places=1 + n % 3,
                capacity_total=5,
                age_min=0,
                age_max=18,
                card_updated_at=now - datetime.timedelta(minutes=n),
            )
            for n in range(count)
        ]
    )
    for row in made:
        row.search_text = service_search_text(row)
    Service.objects.bulk_update(made, ["search_text"])
    Service.area_orps.through.objects.bulk_create(
        [Service.area_orps.through(service_id=row.pk, municipality_id=orp.pk) for row in made]
    )


@pytest.mark.parametrize("count", [3, 30])
def test_the_service_list_costs_the_same_statements_at_3_and_30_services(
    count: int, olomouc: Municipality, teacher: User, django_assert_num_queries: Any
) -> None:
    _bulk_services(count, olomouc)
    client = client_with(token_for(teacher, scope="read"))
    params = {"q": "sluzba", "type": "sas", "orp": str(olomouc.pk), "age": "9", "free": "true"}
    client.get("/api/v1/services/", params)  # warm: the token's last use is written at most once a minute
    # The token and its owner, the owner's second factor; the page's rows, then their ORPs and municipalities.
    with django_assert_num_queries(5):
        response = client.get("/api/v1/services/", params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == count
