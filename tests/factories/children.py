"""Fictional children, registered through the real service so every value is sealed as in production."""

from __future__ import annotations

import datetime
import itertools

from casework.models import Child, Municipality, User
from casework.services import RepresentativeInput, child_create

_serials = itertools.count(101)


def synthetic_birth_number(born: datetime.date, *, female: bool = False, serial: int | None = None) -> str:
    """A valid, computed birth number for a fictional child (never a real person's)."""
    while True:
        number = serial if serial is not None else next(_serials) % 1000
        month = born.month + (50 if female else 0)
        first9 = f"{born.year % 100:02d}{month:02d}{born.day:02d}{number:03d}"
        remainder = int(first9) % 11
        if remainder != 10:
            return f"{first9[:6]}/{first9[6:]}{remainder}"
        if serial is not None:
            raise ValueError("this serial needs the pre-1986 check-digit exception; choose another")


def register_child(
    *,
    by: User,
    municipality: Municipality | None = None,
    given_name: str = "Eliška",
    family_name: str = "Nováková",
    born: datetime.date = datetime.date(2014, 3, 9),
    female: bool = True,
    address: str = "Třída Svobody 1, 779 00 Olomouc",
    representatives: list[RepresentativeInput] | None = None,
    birth_number: str | None = None,
) -> Child:
    assert by.organisation is not None
    return child_create(
        municipality=municipality or by.organisation.municipality,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=born,
        birth_number=birth_number or synthetic_birth_number(born, female=female),
        address=address,
        representatives=representatives
        if representatives is not None
        else [RepresentativeInput(relation="mother", full_name="Jana Nováková", contact="+420 600 000 001")],
        created_by=by,
    )
