"""The access matrix of the service network's directory: every URL of ``services.urls``, for every role.

The URL names come from the resolver, so a new directory URL without a row here fails
``test_every_service_network_url_has_a_row``. None of these pages holds child data; the matrix is about who may
change a card and who sees the lists meant for providers and supervisors.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from casework.models import Municipality, Organisation, Role, Sector, User
from services import urls as service_urls
from services.models import Service
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.services import provider, service

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "supervisor",
    "ospod_worker",
    "provider_user",
    "other_provider_user",
    "school",
    "health",
    "dpo",
    "administrator",
    "regional_office",
)
L = 302  # to the login page
OK = 200
F = 403

# GET status per URL name, in the order of ROLES.
EXPECTED: dict[str, tuple[int, ...]] = {
    "service_directory": (L, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "service_card": (L, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "service_card_print": (L, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    # Only a partner user of the provider's own organisation keeps its card current.
    "service_card_edit": (L, F, F, OK, F, F, F, F, F, F),
    # The provider's users (their own cards) and supervisors (the region's stale cards).
    "service_cards_to_confirm": (L, OK, F, OK, OK, F, F, F, F, F),
    # Counts only, for supervisors and the regional office (the region's network).
    "service_network": (L, OK, F, F, F, F, F, F, F, OK),
}


def _names() -> list[str]:
    return [p.name for p in service_urls.urlpatterns if isinstance(p, URLPattern) and p.name]


def test_every_service_network_url_has_a_row() -> None:
    assert sorted(_names()) == sorted(EXPECTED)


@pytest.fixture
def people(olomouc: Municipality, ospod: Organisation) -> dict[str, Any]:
    owner = provider(municipality=olomouc)
    other = provider(municipality=olomouc)
    office = OrganisationFactory.create(sector=Sector.OTHER, municipality=olomouc)
    return {
        "anonymous": None,
        "supervisor": UserFactory.create(role=Role.SUPERVISOR, organisation=ospod),
        "ospod_worker": UserFactory.create(role=Role.OSPOD_WORKER, organisation=ospod),
        "provider_user": UserFactory.create(role=Role.PARTNER, organisation=owner.organisation),
        "other_provider_user": UserFactory.create(role=Role.PARTNER, organisation=other.organisation),
        "school": UserFactory.create(
            role=Role.PARTNER, organisation=OrganisationFactory.create(sector=Sector.SCHOOL, municipality=olomouc)
        ),
        "health": UserFactory.create(
            role=Role.PARTNER, organisation=OrganisationFactory.create(sector=Sector.HEALTH, municipality=olomouc)
        ),
        "dpo": UserFactory.create(role=Role.DPO, organisation=office),
        "administrator": UserFactory.create(role=Role.ADMINISTRATOR, organisation=office),
        "regional_office": UserFactory.create(role=Role.REGIONAL_OFFICE, organisation=office),
        "card": service(of=owner, name="Karta matice", orps=(olomouc,), capacity_total=4, free_places=2),
    }


def _url(name: str, card: Service) -> str:
    return (
        reverse(name, args=[card.pk])
        if name.startswith("service_card") and name != "service_cards_to_confirm"
        else reverse(name)
    )


def test_service_network_access_matrix(people: dict[str, Any]) -> None:
    card = people["card"]
    problems = []
    for index, role in enumerate(ROLES):
        client = Client()
        user: User | None = people[role]
        if user is not None:
            client.force_login(user)
        for name, statuses in EXPECTED.items():
            url = _url(name, card)
            got = client.get(url).status_code
            if got != statuses[index]:
                problems.append(f"GET {name} as {role}: {got}, expected {statuses[index]}")
            if name == "service_card_edit" and statuses[index] != OK:
                posted = client.post(url, {"name": "Přepsáno", "free_places": "0"}).status_code
                if posted != statuses[index]:
                    problems.append(f"POST {name} as {role}: {posted}, expected {statuses[index]}")
    assert not problems, "\n".join(problems)
    card.refresh_from_db()
    assert (card.name, card.free_places) == ("Karta matice", 2)


def test_a_card_that_does_not_exist_is_not_found(people: dict[str, Any]) -> None:
    client = Client()
    client.force_login(people["provider_user"])
    for name in ("service_card", "service_card_print", "service_card_edit"):
        assert client.get(reverse(name, args=[999_999])).status_code == 404
