"""Validation and parsing of the Czech birth number (rodné číslo).

OSPOD staff type a child's birth number when registering them, and the casework
search finds a child by exact match through a blind index of the birth number.
Both uses need the same thing: reject a mistyped number at the form (so nobody
gets registered under a wrong identity) and reduce every valid spelling to one
canonical form (so "185203/1237" and "1852031237" produce the same index).

Structure (Act No. 133/2000 Coll. on population records and birth numbers, and
the NZIS/DASTA data-element description of the Ministry of Health):

``YYMMDD/SSS[C]``

* ``YY`` - last two digits of the year of birth.
* ``MM`` - month of birth; women have 50 added. Since 2004 (Act No. 53/2004 Coll.)
  a further 20 may be added when all serials for that day have been used up, so
  the month is 01-12 or 21-32 for men and 51-62 or 71-82 for women.
* ``DD`` - day of birth.
* ``SSS`` - serial distinguishing people born on the same day.
* ``C`` - check digit, present only for people born on or after 1 January 1954.

The century is inferred from the length: 9-digit numbers were issued only before
1954, so their year is 1900-1953; 10-digit numbers map 54-99 to 1954-1999 and
00-53 to 2000-2053. People born before 1954 who were given a number later (e.g.
on acquiring citizenship) received 10 digits; those numbers are indistinguishable
from 2000-2053 births and are read as the latter, which is the right choice for a
system whose subjects are children.

Everything here is pure (no database, no settings beyond translations), so it can
be used from forms, model ``clean()`` methods and the blind-index code alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

__all__ = [
    "BirthNumber",
    "Sex",
    "normalize_birth_number",
    "parse_birth_number",
    "validate_birth_number",
]

Sex = Literal["F", "M"]

# Six date digits, an optional slash, then a 3- or 4-digit suffix. ``\Z`` rather than
# ``$`` so that a trailing newline is not silently accepted; ASCII only, so that e.g.
# Arabic-Indic digits (which ``\d`` would match) are rejected.
_PATTERN: Final = re.compile(r"(?P<date>[0-9]{6})/?(?P<suffix>[0-9]{3,4})\Z", re.ASCII)

# First year in which every newly issued number carries a check digit.
_CHECK_DIGIT_SINCE: Final = 1954
# First year of birth for which the "+20" month series may be used (Act No. 53/2004 Coll.).
_EXTRA_SERIES_SINCE: Final = 2004
# Last year of birth for which a remainder of 10 may be written as check digit 0.
_REMAINDER_TEN_UNTIL: Final = 1985

_FEMALE_OFFSET: Final = 50
_EXTRA_SERIES_OFFSET: Final = 20

# The example deliberately fails the check digit (185203123 % 11 == 6), so it can never
# be a real person's number; it only illustrates the shape.
MSG_FORMAT: Final = _(
    "Enter the birth number as 9 or 10 digits, optionally with a slash after the sixth (e.g. 185203/1237)."
)
MSG_NINE_DIGITS_AFTER_1953: Final = _(
    "Birth numbers of people born in 1954 or later have 10 digits. Enter the full number including the last digit."
)
MSG_DATE: Final = _("The birth number does not contain a valid date of birth. Check the first six digits.")
MSG_EXTRA_SERIES_BEFORE_2004: Final = _(
    "The birth number does not contain a valid date of birth. "
    "Adding 20 to the month is only possible for people born in 2004 or later."
)
MSG_FUTURE: Final = _("The date of birth in the birth number is in the future. Check the first six digits.")
MSG_CHECKSUM: Final = _("This is not a valid birth number: the check digit does not match. Check for a typo.")


@dataclass(frozen=True, slots=True)
class BirthNumber:
    """A birth number that passed validation, with the facts encoded in it.

    ``normalized`` is digits only (no slash) and is the form to store and to feed
    into the blind index; the other fields let the registration form pre-fill or
    cross-check the child's date of birth and sex.
    """

    normalized: str
    date_of_birth: date
    sex: Sex


def parse_birth_number(value: str, *, today: date | None = None) -> BirthNumber:
    """Validate ``value`` as a Czech birth number and decode it.

    Surrounding whitespace is ignored, and a single slash after the sixth digit is
    optional. Nothing else is tolerated - no letters, spaces, dashes or dots inside
    the number - because silently "repairing" input is how two different children
    end up sharing an index entry.

    ``today`` exists so tests (and back-dated imports) are deterministic; it
    defaults to ``date.today()`` and is used only to reject dates of birth in the
    future.

    Raises ``ValidationError`` with code ``"format"`` (wrong characters or length,
    including a 9-digit number for someone born 1954 or later), ``"date"``
    (non-existent or future date, or a month series not allowed for that year) or
    ``"checksum"`` (check digit does not match).
    """
    match = _PATTERN.match(value.strip())
    if match is None:
        raise ValidationError(MSG_FORMAT, code="format")
    date_part, suffix = match["date"], match["suffix"]
    normalized = date_part + suffix
    yy, mm, dd = int(date_part[0:2]), int(date_part[2:4]), int(date_part[4:6])

    if len(suffix) == 3:
        # 9 digits: no check digit was issued before 1954, so the century is fixed.
        if yy >= _CHECK_DIGIT_SINCE % 100:
            raise ValidationError(MSG_NINE_DIGITS_AFTER_1953, code="format")
        year = 1900 + yy
    else:
        year = (1900 if yy >= _CHECK_DIGIT_SINCE % 100 else 2000) + yy

    sex: Sex = "M"
    month = mm
    if month > _FEMALE_OFFSET:
        sex = "F"
        month -= _FEMALE_OFFSET
    if month > _EXTRA_SERIES_OFFSET:
        month -= _EXTRA_SERIES_OFFSET
        if 1 <= month <= 12 and year < _EXTRA_SERIES_SINCE:
            raise ValidationError(MSG_EXTRA_SERIES_BEFORE_2004, code="date")

    try:
        date_of_birth = date(year, month, dd)
    except ValueError:
        # Month 00/13-20/33-50/63-70/83+, day 00 or past the end of the month.
        raise ValidationError(MSG_DATE, code="date") from None
    if date_of_birth > (today if today is not None else date.today()):
        raise ValidationError(MSG_FUTURE, code="date")

    if len(suffix) == 4 and not _check_digit_ok(normalized, year):
        raise ValidationError(MSG_CHECKSUM, code="checksum")

    return BirthNumber(normalized=normalized, date_of_birth=date_of_birth, sex=sex)


def _check_digit_ok(normalized: str, year: int) -> bool:
    """Return whether the 10-digit ``normalized`` number has a correct check digit.

    The rule is that the whole number is divisible by 11, i.e. the check digit is
    the first nine digits mod 11. A remainder of 10 cannot be written as one digit;
    until 1985 such numbers were issued with check digit 0 (internal regulation of
    the Federal Statistical Office ČVK 2898/1985, roughly a thousand numbers in
    total), after which those serials were simply skipped.

    We accept the exception only for years of birth up to 1985. Accepting it
    everywhere would let about one in eleven mistyped post-1985 numbers through -
    exactly the children this system registers - while the price is rejecting the
    handful of post-1985 oddities the sources say "cannot be ruled out". Staff who
    meet one can still register the person without a birth number.
    """
    remainder = int(normalized[:9]) % 11
    check = int(normalized[9])
    if remainder == 10:
        return check == 0 and year <= _REMAINDER_TEN_UNTIL
    return check == remainder


def normalize_birth_number(value: str, *, today: date | None = None) -> str:
    """Return the digits-only form of a valid birth number, for storage and the blind index.

    This deliberately goes through :func:`parse_birth_number` (and so raises the
    same ``ValidationError``) instead of just stripping the slash: an invalid value
    must never be indexed, or a typo would create a searchable identity that
    matches nobody - or, worse, somebody else.
    """
    return parse_birth_number(value, today=today).normalized


def validate_birth_number(value: str) -> None:
    """Django-style validator (returns ``None``) for ``validators=[...]`` on form and model fields.

    ``parse_birth_number`` returns a value, which the validator protocol does not
    expect, so this thin wrapper keeps form code free of lambdas.
    """
    parse_birth_number(value)
