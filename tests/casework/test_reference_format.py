"""The case reference format is configurable per authority (e.g. ``Om 123/2026``); the default is unchanged."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from casework.models import DEFAULT_CASE_REFERENCE_FORMAT, Municipality, Organisation, User
from casework.models.organisations import validate_case_reference_format
from tests.factories.cases import open_case

pytestmark = pytest.mark.django_db

JUNE = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Europe/Prague"))


def test_default_format_gives_the_references_as_before(olomouc: Municipality, coordinator: User) -> None:
    assert olomouc.case_reference_format == DEFAULT_CASE_REFERENCE_FORMAT
    with time_machine.travel(JUNE, tick=False):
        first, second = open_case(coordinator=coordinator), open_case(coordinator=coordinator)
    assert (first.reference, second.reference) == ("OM 2026/0001", "OM 2026/0002")


def test_an_authority_numbers_its_files_in_its_registry_format(
    olomouc: Municipality, ospod: Organisation, coordinator: User
) -> None:
    olomouc.case_reference_format = "Om {number}/{year}"
    olomouc.full_clean()
    olomouc.save()
    with time_machine.travel(JUNE, tick=False):
        case = open_case(coordinator=coordinator)
    assert case.reference == "Om 1/2026"
    assert (case.year, case.number) == (2026, 1)


@pytest.mark.parametrize(
    "template",
    [
        "Om {number}",
        "Om {year}",
        "{code} {year}/{number:04d} {child}",
        "{code}-{year}-{number:q}",
        "{" + "x" * 60 + "}",
    ],
)
def test_bad_formats_are_refused(template: str) -> None:
    with pytest.raises(ValidationError):
        validate_case_reference_format(template)


@pytest.mark.parametrize(
    "template", [DEFAULT_CASE_REFERENCE_FORMAT, "Om {number}/{year}", "{code}/{year}/{number:05d}"]
)
def test_good_formats_pass(template: str) -> None:
    validate_case_reference_format(template)
