"""The child register's page (issue 17): one's recent registrations are listed by the child's name and date of birth,
read through the gate (one audited batch), not as identical "Registered on …" links; a duplicate birth number on the
register form links to the record already there — only for a user who may open it; anyone else gets the neutral
error alone.

Every name and number is fictional.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casework.models import Municipality, Sector, User
from permissions.models import AuditEvent
from tests.factories.cases import organisation, ospod_staff
from tests.factories.children import register_child, synthetic_birth_number

pytestmark = pytest.mark.django_db

BORN = datetime.date(2013, 6, 21)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(birth_number: str) -> dict[str, str]:
    return {
        "given_name": "Květoslava",
        "family_name": "Dvořáková",
        "date_of_birth": BORN.isoformat(),
        "birth_number": birth_number,
        "address": "Dolní náměstí 5, 779 00 Olomouc",
        "representatives-TOTAL_FORMS": "1",
        "representatives-INITIAL_FORMS": "0",
        "representatives-MIN_NUM_FORMS": "0",
        "representatives-MAX_NUM_FORMS": "4",
        "representatives-0-relation": "",
        "representatives-0-full_name": "",
        "representatives-0-contact": "",
    }


def _recent(page: str) -> str:
    return page.split('id="recent-heading"', 1)[1].split("</section>", 1)[0]


def test_recent_registrations_are_listed_by_name_and_audited(coordinator: User) -> None:
    first = register_child(by=coordinator, given_name="Ema", family_name="Zelená", born=datetime.date(2015, 2, 3))
    second = register_child(
        by=coordinator, given_name="Jakub", family_name="Černý", born=datetime.date(2017, 8, 9), female=False
    )
    client = _client(coordinator)  # logging in is audited too: count from after it
    before = AuditEvent.objects.count()
    page = client.get(reverse("child_search")).content.decode()
    recent = _recent(page)
    assert "Ema Zelená" in recent
    assert "3. 2. 2015" in recent
    assert "Jakub Černý" in recent
    assert reverse("child_detail", args=[first.pk]) in recent
    assert reverse("child_detail", args=[second.pk]) in recent
    reads = AuditEvent.objects.filter(actor=coordinator, purpose="child register", action="read")
    assert {event.object_id for event in reads} == {str(first.pk), str(second.pk)}
    assert AuditEvent.objects.count() - before == 2


@pytest.mark.parametrize("count", [1, 4])
def test_the_register_page_runs_the_same_number_of_queries_whatever_the_registrations(
    count: int, coordinator: User, django_assert_num_queries: Callable[..., Any]
) -> None:
    for day in range(count):
        register_child(by=coordinator, born=BORN + datetime.timedelta(days=day))
    client = _client(coordinator)
    with django_assert_num_queries(REGISTER_PAGE_QUERIES):
        assert client.get(reverse("child_search")).status_code == 200


#: Session, user (and organisation), the registrations, one gate read (its audit write and key loads), the badge.
REGISTER_PAGE_QUERIES = 11


def test_a_duplicate_birth_number_links_to_the_existing_record(coordinator: User) -> None:
    number = synthetic_birth_number(BORN, female=True)
    existing = register_child(by=coordinator, born=BORN, birth_number=number)
    response = _client(coordinator).post(reverse("child_register"), _form(number))
    assert response.status_code == 200
    assert "birth_number" in response.context["form"].errors
    assert reverse("child_detail", args=[existing.pk]) in response.content.decode()


def test_a_duplicate_from_another_authority_gets_the_neutral_error_only(
    coordinator: User, prostejov: Municipality
) -> None:
    number = synthetic_birth_number(BORN, female=True)
    existing = register_child(by=coordinator, born=BORN, birth_number=number)
    elsewhere = ospod_staff(organisation(Sector.OSPOD, prostejov))
    response = _client(elsewhere).post(reverse("child_register"), _form(number))
    assert response.status_code == 200
    assert "birth_number" in response.context["form"].errors
    page = response.content.decode()
    assert str(existing.pk) not in page
    assert "data-existing-child" not in page
