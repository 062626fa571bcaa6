"""The child register in the browser's terms: register, find by birth number, view through the gate."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.test import Client
from django.urls import reverse

from casework.models import Child, DataKey, LegalRepresentative
from permissions.models import AuditEvent
from tests.factories.children import register_child, synthetic_birth_number

BORN = datetime.date(2013, 6, 21)


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "given_name": "Květoslava",
        "family_name": "Dvořáková",
        "date_of_birth": BORN.isoformat(),
        "birth_number": synthetic_birth_number(BORN, female=True),
        "address": "Dolní náměstí 5, 779 00 Olomouc",
        "representatives-TOTAL_FORMS": "2",
        "representatives-INITIAL_FORMS": "0",
        "representatives-MIN_NUM_FORMS": "0",
        "representatives-MAX_NUM_FORMS": "4",
        "representatives-0-relation": "mother",
        "representatives-0-full_name": "Marie Dvořáková",
        "representatives-0-contact": "marie@example.org",
        "representatives-1-relation": "",
        "representatives-1-full_name": "",
        "representatives-1-contact": "",
    }
    data.update(overrides)
    return data


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_ospod_worker_registers_a_child_and_sees_it(coordinator) -> None:
    client = _client(coordinator)
    response = client.post(reverse("child_register"), _form())
    child = Child.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("child_detail", args=[child.pk])
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "Květoslava Dvořáková" in body
    assert "Dolní náměstí 5" in body
    assert "Marie Dvořáková" in body
    assert LegalRepresentative.objects.filter(child=child).count() == 1


def test_every_view_of_the_child_page_adds_audit_rows(coordinator) -> None:
    child = register_child(by=coordinator)
    client = _client(coordinator)
    before = AuditEvent.objects.filter(object_id=str(child.pk), action="read").count()
    client.get(reverse("child_detail", args=[child.pk]))
    client.get(reverse("child_detail", args=[child.pk]))
    # Two reads per view: the child's identity and the representatives.
    assert AuditEvent.objects.filter(object_id=str(child.pk), action="read").count() == before + 4


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("birth_number", "1306210001", "check digit"),
        ("birth_number", "13062/1000", "Enter the birth number"),
        ("birth_number", "abc", "Enter the birth number"),
        ("date_of_birth", "2013-02-30", "Enter a valid date"),
        ("date_of_birth", "2012-06-21", "does not match"),
        ("given_name", "x" * 101, "at most 100"),
    ],
)
def test_bad_input_gives_a_field_error_and_saves_nothing(coordinator, field: str, value: str, fragment: str) -> None:
    client = _client(coordinator)
    client.cookies.load({"django_language": "en"})
    response = client.post(reverse("child_register"), _form(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert fragment.lower() in " ".join(errors[field]).lower()
    assert Child.objects.count() == 0
    assert DataKey.objects.count() == 0
    assert LegalRepresentative.objects.count() == 0


def test_representative_without_relation_is_refused(coordinator) -> None:
    client = _client(coordinator)
    response = client.post(reverse("child_register"), _form(**{"representatives-0-relation": ""}))
    assert response.status_code == 200
    assert "relation" in response.context["formset"].forms[0].errors
    assert Child.objects.count() == 0


def test_second_registration_of_a_birth_number_is_refused(coordinator) -> None:
    client = _client(coordinator)
    data = _form()
    client.post(reverse("child_register"), data)
    response = client.post(reverse("child_register"), data)
    assert response.status_code == 200
    assert "birth_number" in response.context["form"].errors
    assert Child.objects.count() == 1


def test_search_by_birth_number_with_or_without_slash_finds_the_child(coordinator) -> None:
    number = synthetic_birth_number(BORN, female=True)
    child = register_child(by=coordinator, born=BORN, birth_number=number)
    client = _client(coordinator)
    for typed in (number, number.replace("/", ""), f"  {number} "):
        response = client.post(reverse("child_search"), {"birth_number": typed})
        assert response.status_code == 302
        assert response["Location"] == reverse("child_detail", args=[child.pk])
    # The birth number never goes into a URL.
    assert number.replace("/", "") not in response["Location"]


def test_search_for_an_unknown_or_invalid_birth_number(coordinator) -> None:
    client = _client(coordinator)
    client.cookies.load({"django_language": "en"})
    missing = client.post(reverse("child_search"), {"birth_number": synthetic_birth_number(BORN)})
    assert missing.status_code == 200
    assert "No child with this birth number" in missing.content.decode()
    invalid = client.post(reverse("child_search"), {"birth_number": "123"})
    assert "birth_number" in invalid.context["form"].errors


def test_search_does_not_cross_orp_boundaries(coordinator, foreign_worker) -> None:
    number = synthetic_birth_number(BORN, female=True)
    register_child(by=coordinator, born=BORN, birth_number=number)
    response = _client(foreign_worker).post(reverse("child_search"), {"birth_number": number})
    assert response.status_code == 200
    assert response.context["not_found"] is True


@pytest.mark.parametrize("who", ["teacher", "dpo", "administrator", "foreign_worker"])
def test_others_get_not_found_on_the_child_page_and_the_attempt_is_audited(request, coordinator, who: str) -> None:
    user = request.getfixturevalue(who)
    child = register_child(by=coordinator, given_name="Kryštof", female=False)
    response = _client(user).get(reverse("child_detail", args=[child.pk]))
    assert response.status_code == 404
    assert "Kryštof" not in response.content.decode()
    assert AuditEvent.objects.filter(actor=user, action="deny", object_id=str(child.pk)).exists()


def test_missing_child_gets_the_same_not_found(coordinator) -> None:
    import uuid

    response = _client(coordinator).get(reverse("child_detail", args=[uuid.uuid4()]))
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["teacher", "dpo", "administrator"])
def test_register_pages_do_not_exist_for_non_ospod_users(request, who: str) -> None:
    client = _client(request.getfixturevalue(who))
    assert client.get(reverse("child_search")).status_code == 403  # the shell's page table: no menu entry
    assert client.get(reverse("child_register")).status_code == 404
    assert client.post(reverse("child_register"), _form()).status_code == 404
    assert Child.objects.count() == 0


def test_a_tampered_value_shows_an_error_page_and_logs_ids_only(coordinator, caplog) -> None:
    first = register_child(by=coordinator, given_name="Amálie")
    second = register_child(by=coordinator, given_name="Bohdana")
    Child.objects.filter(pk=second.pk).update(family_name=Child.objects.get(pk=first.pk).family_name)
    with caplog.at_level(logging.INFO):
        response = _client(coordinator).get(reverse("child_detail", args=[second.pk]))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Bohdana" not in body
    assert "Nováková" not in body
    assert "Traceback" not in caplog.text
    for text in ("Amálie", "Bohdana", "Nováková"):
        assert text not in caplog.text
    assert "could not be opened" in caplog.text
