"""The demo's service directory, and a card saved in the administration."""

from __future__ import annotations

import pytest

from casework.models import Municipality, Organisation, Role
from permissions.models import AuditEvent
from services.demo import DEMO_SAS_ORGANISATION, seed_service_directory
from services.models import Service
from services.selectors.directory import DirectoryFilters, service_search
from services.services import service_card_saved_in_admin
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_dozen_services_with_a_free_sas_in_olomouc_once(olomouc: Municipality) -> None:
    made = seed_service_directory()
    assert len(made) >= 12
    again = seed_service_directory()
    assert Service.objects.count() == len(made) == len(again)
    found = service_search(filters=DirectoryFilters(type_code="sas", orp_id=olomouc.pk, age=9, free_only=True)).rows
    assert [row.provider for row in found] == [DEMO_SAS_ORGANISATION]
    assert sum(row.is_stale for row in service_search(filters=DirectoryFilters()).rows) == 2


def test_a_card_saved_in_the_admin_is_confirmed_searchable_and_audited(olomouc: Municipality) -> None:
    seed_service_directory()
    card = Service.objects.get(name="Rodinná mediace Modrý most")
    assert card.is_stale()
    card.name = "Rodinná mediace Duha"
    card.save()  # what the admin's form does before its related fields
    admin = UserFactory.create(
        role=Role.ADMINISTRATOR, organisation=Organisation.objects.get(name=DEMO_SAS_ORGANISATION)
    )
    service_card_saved_in_admin(service=card, by=admin)
    card.refresh_from_db()
    assert not card.is_stale()
    assert "duha" in card.search_text
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert (event.object_type, event.object_id, event.actor_id) == ("services.service", str(card.pk), admin.pk)
