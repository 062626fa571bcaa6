"""A service card that goes stale is reminded to its provider's users once (``manage.py remind_stale_cards``), and again
only after it was confirmed and went stale once more. Frozen time: the card is stale after SERVICE_CARD_STALE_MONTHS."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from casework.models import Municipality, Role, User
from notifications.models import Kind, Notification
from services.models import Provider, Service
from services.services import service_card_update
from services.stale_cards import service_cards_remind_stale
from tests.factories import UserFactory
from tests.factories.services import provider, service

pytestmark = pytest.mark.django_db

CREATED = datetime.datetime(2026, 1, 10, 9, 0, tzinfo=datetime.UTC)
NOT_YET = datetime.datetime(2026, 7, 9, 9, 0, tzinfo=datetime.UTC)  # six months less a day
STALE = datetime.datetime(2026, 7, 11, 9, 0, tzinfo=datetime.UTC)


def _run(at: datetime.datetime) -> str:
    out = StringIO()
    with time_machine.travel(at, tick=False):
        call_command("remind_stale_cards", stdout=out)
    return out.getvalue()


def _told() -> list[int]:
    return sorted(Notification.objects.filter(kind=Kind.SERVICE_CARD_STALE).values_list("recipient_id", flat=True))


@pytest.fixture
def owner(olomouc: Municipality) -> Provider:
    with time_machine.travel(CREATED, tick=False):
        return provider(municipality=olomouc)


@pytest.fixture
def card(owner: Provider) -> Service:
    with time_machine.travel(CREATED, tick=False):
        return service(of=owner, name="SAS Stará karta")


@pytest.fixture
def editors(owner: Provider) -> list[User]:
    return [UserFactory.create(role=Role.PARTNER, organisation=owner.organisation) for _ in range(2)]


def test_the_periodic_job_is_scheduled() -> None:
    assert ("remind_stale_cards", 3600) in settings.PERIODIC_COMMANDS


def test_a_card_going_stale_tells_its_providers_editors_once_and_nobody_else(
    owner: Provider, card: Service, editors: list[User], supervisor: User
) -> None:
    UserFactory.create(role=Role.PARTNER, organisation=owner.organisation, is_active=False)
    other = provider()
    UserFactory.create(role=Role.PARTNER, organisation=other.organisation)

    assert _run(NOT_YET) == "Reminded 0 stale card(s).\n"
    assert _told() == []

    assert _run(STALE) == "Reminded 1 stale card(s).\n"
    assert _told() == sorted(u.pk for u in editors)  # not the inactive user, another provider's or the supervisor
    for row in Notification.objects.filter(kind=Kind.SERVICE_CARD_STALE):
        assert (row.case_id, row.case_reference, row.object_type, row.object_id) == (
            None,
            "",
            "services.service",
            str(card.pk),
        )
    assert Service.objects.get(pk=card.pk).stale_reminded_at == STALE

    # Still stale, but already told: neither a rerun nor a later run tells anyone again.
    _run(STALE)
    _run(STALE + datetime.timedelta(days=40))
    assert len(_told()) == 2


def test_confirming_the_card_rearms_the_reminder_for_its_next_stale_spell(card: Service, editors: list[User]) -> None:
    _run(STALE)
    confirmed = STALE + datetime.timedelta(days=20)  # 31 July 2026
    with time_machine.travel(confirmed, tick=False):
        service_card_update(service=card, data={"free_places": 1}, by=editors[0])
    _run(confirmed + datetime.timedelta(days=30))  # confirmed and current: nothing
    assert len(_told()) == 2

    assert _run(datetime.datetime(2027, 2, 1, 9, 0, tzinfo=datetime.UTC)) == "Reminded 1 stale card(s).\n"
    assert len(_told()) == 4
    _run(datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC))
    assert len(_told()) == 4


def test_an_inactive_card_is_not_reminded(card: Service, editors: list[User]) -> None:
    Service.objects.filter(pk=card.pk).update(is_active=False)
    assert _run(STALE) == "Reminded 0 stale card(s).\n"
    assert _told() == []


def test_a_provider_with_nobody_to_tell_is_reminded_once_someone_may_edit_its_card(
    owner: Provider, card: Service
) -> None:
    assert _run(STALE) == "Reminded 0 stale card(s).\n"
    assert Service.objects.get(pk=card.pk).stale_reminded_at is None
    later = UserFactory.create(role=Role.PARTNER, organisation=owner.organisation)
    _run(STALE + datetime.timedelta(days=1))
    assert _told() == [later.pk]


def test_a_card_confirmed_since_it_was_read_is_not_stamped_or_told(card: Service, editors: list[User]) -> None:
    """The stamp is conditional on the card as read: a confirmation in between wins and nobody is told."""
    real_filter = Service.objects.filter

    def confirmed_meanwhile(*args: Any, **kwargs: Any) -> Any:
        if "card_updated_at" in kwargs and "stale_reminded_at" in kwargs:  # the stamp's own filter
            real_filter(pk=card.pk).update(card_updated_at=STALE)
        return real_filter(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch, time_machine.travel(STALE, tick=False):
        patch.setattr(Service.objects, "filter", confirmed_meanwhile)
        assert service_cards_remind_stale() == 0
    assert _told() == []


def test_the_notification_opens_the_cards_edit_page(card: Service, editors: list[User]) -> None:
    _run(STALE)
    row = Notification.objects.get(kind=Kind.SERVICE_CARD_STALE, recipient=editors[0])
    client = Client()
    client.force_login(editors[0])
    with time_machine.travel(STALE, tick=False):
        opened = client.get(reverse("notification_open", kwargs={"notification_id": row.pk}))
        assert (opened.status_code, opened["Location"]) == (302, reverse("service_card_edit", args=[card.pk]))
        assert client.get(opened["Location"]).status_code == 200
