"""Tests for casework.birth_number.

Every birth number here is synthetic: built by ``_birth_number`` from a date, sex and
serial, with the check digit computed, never copied from a real person.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from django import forms
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

from casework.birth_number import (
    BirthNumber,
    Sex,
    normalize_birth_number,
    parse_birth_number,
    validate_birth_number,
)

TODAY = date(2025, 6, 15)


def _birth_number(
    dob: date,
    sex: Sex = "M",
    serial: int = 123,
    *,
    extra_series: bool = False,
    nine_digits: bool = False,
    check: int | None = None,
    slash: bool = True,
) -> str:
    """Build a birth number for ``dob``; the check digit is computed unless ``check`` is given.

    A remainder of 10 is written as 0 (the pre-1986 convention); callers that must avoid
    it pick a different serial.
    """
    month = dob.month + (50 if sex == "F" else 0) + (20 if extra_series else 0)
    head = f"{dob.year % 100:02d}{month:02d}{dob.day:02d}"
    suffix = f"{serial:03d}"
    if not nine_digits:
        if check is None:
            check = int(head + suffix) % 11 % 10
        suffix += str(check)
    return f"{head}/{suffix}" if slash else head + suffix


def _serial_with_remainder_ten(dob: date, sex: Sex = "M") -> int:
    """Find a serial whose 9-digit prefix leaves remainder 10, i.e. needs the check-digit-0 exception."""
    for serial in range(1000):
        if int(_birth_number(dob, sex, serial, nine_digits=True, slash=False)) % 11 == 10:
            return serial
    raise AssertionError("unreachable: 11 consecutive serials cover every remainder")


def _serial_without_remainder_ten(dob: date, sex: Sex = "M") -> int:
    """Find a serial whose check digit is computed the ordinary way (remainder 0-9)."""
    for serial in range(100, 1000):
        if int(_birth_number(dob, sex, serial, nine_digits=True, slash=False)) % 11 != 10:
            return serial
    raise AssertionError("unreachable")


def _valid(dob: date, sex: Sex = "M", **kwargs: bool) -> str:
    return _birth_number(dob, sex, _serial_without_remainder_ten(dob, sex), **kwargs)


def _error_code(value: str) -> str | None:
    with pytest.raises(ValidationError) as excinfo:
        parse_birth_number(value, today=TODAY)
    return excinfo.value.code


# --- valid numbers across eras -------------------------------------------------------------


@pytest.mark.parametrize(
    ("dob", "sex"),
    [
        (date(1954, 1, 1), "M"),
        (date(1960, 7, 31), "F"),
        (date(1985, 12, 31), "M"),
        (date(1999, 12, 31), "F"),
        (date(2000, 1, 1), "M"),
        (date(2010, 2, 28), "F"),
        (date(2024, 2, 29), "M"),
        (TODAY, "F"),
    ],
)
def test_ten_digit_numbers_across_eras_are_valid(dob: date, sex: Sex) -> None:
    value = _valid(dob, sex)

    result = parse_birth_number(value, today=TODAY)

    assert result == BirthNumber(normalized=value.replace("/", ""), date_of_birth=dob, sex=sex)


def test_man_born_1985_is_valid() -> None:
    result = parse_birth_number(_valid(date(1985, 3, 14), "M"), today=TODAY)

    assert result.date_of_birth == date(1985, 3, 14)
    assert result.sex == "M"


def test_woman_born_2010_with_month_plus_50_is_valid() -> None:
    value = _valid(date(2010, 11, 5), "F")
    assert value[2:4] == "61"

    result = parse_birth_number(value, today=TODAY)

    assert result.date_of_birth == date(2010, 11, 5)
    assert result.sex == "F"


def test_result_is_frozen() -> None:
    result = parse_birth_number(_valid(date(2015, 5, 5)), today=TODAY)

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.sex = "F"  # type: ignore[misc]


# --- the +20 / +70 series (Act No. 53/2004 Coll.) ------------------------------------------


def test_man_born_2005_with_month_plus_20_is_valid() -> None:
    value = _valid(date(2005, 8, 20), "M", extra_series=True)
    assert value[2:4] == "28"

    result = parse_birth_number(value, today=TODAY)

    assert result.date_of_birth == date(2005, 8, 20)
    assert result.sex == "M"


def test_woman_born_2012_with_month_plus_70_is_valid() -> None:
    value = _valid(date(2012, 12, 1), "F", extra_series=True)
    assert value[2:4] == "82"

    result = parse_birth_number(value, today=TODAY)

    assert result.date_of_birth == date(2012, 12, 1)
    assert result.sex == "F"


def test_plus_20_series_is_valid_from_first_of_january_2004() -> None:
    assert parse_birth_number(_valid(date(2004, 1, 1), extra_series=True), today=TODAY).date_of_birth == date(
        2004, 1, 1
    )


@pytest.mark.parametrize(
    ("dob", "sex"),
    [(date(2003, 12, 31), "M"), (date(1995, 6, 1), "F"), (date(1954, 1, 1), "M")],
)
def test_plus_20_or_plus_70_series_before_2004_is_rejected(dob: date, sex: Sex) -> None:
    assert _error_code(_valid(dob, sex, extra_series=True)) == "date"


# --- 9-digit numbers (born before 1954, no check digit) ------------------------------------


def test_nine_digit_number_for_man_born_1950_is_valid() -> None:
    value = _birth_number(date(1950, 4, 10), "M", 123, nine_digits=True)

    result = parse_birth_number(value, today=TODAY)

    assert result == BirthNumber(normalized="500410123", date_of_birth=date(1950, 4, 10), sex="M")


@pytest.mark.parametrize("serial", [0, 1, 500, 999])
def test_nine_digit_number_has_no_check_digit_so_any_serial_is_valid(serial: int) -> None:
    value = _birth_number(date(1953, 12, 31), "F", serial, nine_digits=True)

    result = parse_birth_number(value, today=TODAY)

    assert result.date_of_birth == date(1953, 12, 31)
    assert result.sex == "F"


def test_nine_digit_number_year_00_means_1900() -> None:
    value = _birth_number(date(1900, 1, 1), nine_digits=True)

    assert parse_birth_number(value, today=TODAY).date_of_birth == date(1900, 1, 1)


@pytest.mark.parametrize("dob", [date(1954, 1, 1), date(1970, 6, 6), date(1999, 12, 31)])
def test_nine_digit_number_for_person_born_1954_or_later_is_rejected(dob: date) -> None:
    assert _error_code(_birth_number(dob, nine_digits=True)) == "format"


def test_ten_digit_number_with_year_below_54_means_2000s() -> None:
    # Same date digits as a pre-1954 9-digit number, but 10 digits => 21st century.
    value = _valid(date(2020, 4, 10))

    assert parse_birth_number(value, today=TODAY).date_of_birth == date(2020, 4, 10)


# --- check digit and the remainder-10 exception ---------------------------------------------


def test_wrong_check_digit_is_rejected() -> None:
    dob = date(1990, 9, 9)
    serial = _serial_without_remainder_ten(dob)
    good_check = int(_birth_number(dob, serial=serial, nine_digits=True, slash=False)) % 11
    bad_check = (good_check + 1) % 10

    assert _error_code(_birth_number(dob, serial=serial, check=bad_check)) == "checksum"


@pytest.mark.parametrize("dob", [date(1954, 1, 1), date(1970, 5, 17), date(1985, 12, 31)])
def test_remainder_10_with_check_digit_0_is_accepted_up_to_1985(dob: date) -> None:
    value = _birth_number(dob, serial=_serial_with_remainder_ten(dob), check=0)

    assert parse_birth_number(value, today=TODAY).date_of_birth == dob


@pytest.mark.parametrize("dob", [date(1986, 1, 1), date(1999, 3, 3), date(2010, 10, 10)])
def test_remainder_10_with_check_digit_0_is_rejected_after_1985(dob: date) -> None:
    value = _birth_number(dob, serial=_serial_with_remainder_ten(dob), check=0)

    assert _error_code(value) == "checksum"


@pytest.mark.parametrize("check", range(1, 10))
def test_remainder_10_with_nonzero_check_digit_is_rejected(check: int) -> None:
    dob = date(1970, 5, 17)

    assert _error_code(_birth_number(dob, serial=_serial_with_remainder_ten(dob), check=check)) == "checksum"


# --- impossible dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "date_digits"),
    [
        ("31 February", "100231"),
        ("29 February in a non-leap year", "230229"),
        ("31 April", "100431"),
        ("month 00", "100015"),
        ("month 13", "101315"),
        ("month 20", "102015"),
        ("month 33 (13 + 20)", "103315"),
        ("month 50 (woman, 00)", "105015"),
        ("month 63 (woman, 13)", "106315"),
        ("month 83 (woman, 13 + 20)", "108315"),
        ("month 99", "109915"),
        ("day 00", "100100"),
        ("day 32", "100132"),
        ("31 February for a woman", "105231"),
    ],
)
def test_impossible_date_is_rejected(label: str, date_digits: str) -> None:
    # Make the check digit right so only the date can be at fault.
    serial = next(s for s in range(100, 1000) if int(f"{date_digits}{s:03d}") % 11 != 10)
    value = f"{date_digits}/{serial:03d}{int(f'{date_digits}{serial:03d}') % 11}"

    assert _error_code(value) == "date", label


def test_impossible_date_in_nine_digit_number_is_rejected() -> None:
    assert _error_code("530231/123") == "date"


# --- future dates ----------------------------------------------------------------------------


def test_date_of_birth_today_is_valid() -> None:
    assert parse_birth_number(_valid(TODAY, "F"), today=TODAY).date_of_birth == TODAY


def test_date_of_birth_in_the_future_is_rejected() -> None:
    assert _error_code(_valid(TODAY + timedelta(days=1))) == "date"


def test_today_defaults_to_the_real_date() -> None:
    # Year 53 in a 10-digit number is 2053, which is in the future for the real clock.
    with pytest.raises(ValidationError) as excinfo:
        parse_birth_number(_valid(date(2053, 1, 1)))

    assert excinfo.value.code == "date"


# --- input format ----------------------------------------------------------------------------


@pytest.mark.parametrize("template", ["{head}/{tail}", "{head}{tail}", "  {head}/{tail}\n", "\t{head}{tail} "])
def test_slash_and_surrounding_whitespace_are_accepted(template: str) -> None:
    value = _valid(date(2016, 3, 8), "F", slash=False)
    text = template.format(head=value[:6], tail=value[6:])

    assert parse_birth_number(text, today=TODAY).normalized == value


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("empty", ""),
        ("whitespace only", "   "),
        ("letters", "16580A/1234"),
        ("letter suffix", "165808/123X"),
        ("dash instead of slash", "165808-1234"),
        ("dot instead of slash", "165808.1234"),
        ("space instead of slash", "165808 1234"),
        ("space inside", "1658 081234"),
        ("space after slash", "165808/ 1234"),
        ("slash in wrong place", "16580/81234"),
        ("two slashes", "165808//1234"),
        ("leading slash", "/1658081234"),
        ("trailing slash", "1658081234/"),
        ("sign", "+1658081234"),
        ("too short: 8 digits", "16580812"),
        ("too short: 5 + 3 digits", "16508/123"),
        ("too long: 11 digits", "16580812345"),
        ("too long: 6 + 5 digits", "165808/12345"),
        ("Arabic-Indic digits", "".join(chr(0x0660 + int(c)) for c in "1658081234")),
        ("fullwidth digits", "".join(chr(0xFF10 + int(c)) for c in "1658081234")),
    ],
)
def test_malformed_input_is_rejected_with_format_code(label: str, text: str) -> None:
    assert _error_code(text) == "format", label


def test_each_error_kind_has_its_own_message() -> None:
    dob = date(1990, 9, 9)
    serial = _serial_without_remainder_ten(dob)
    good_check = int(_birth_number(dob, serial=serial, nine_digits=True, slash=False)) % 11
    cases = {
        "format": "12345",
        "date": "900231/1234",
        "checksum": _birth_number(dob, serial=serial, check=(good_check + 1) % 10),
    }

    messages = {}
    for code, value in cases.items():
        with pytest.raises(ValidationError) as excinfo:
            parse_birth_number(value, today=TODAY)
        assert excinfo.value.code == code
        messages[code] = excinfo.value.messages[0]

    assert len(set(messages.values())) == 3
    assert "185203/1237" in messages["format"]


def test_validation_error_shows_as_field_error_in_a_form() -> None:
    class ChildForm(forms.Form):
        birth_number = forms.CharField(validators=[validate_birth_number])

    form = ChildForm(data={"birth_number": "12345"})

    assert not form.is_valid()
    assert form.has_error("birth_number", code="format")


def test_validate_birth_number_returns_none_for_valid_and_raises_for_invalid() -> None:
    assert validate_birth_number(_valid(date(2001, 1, 1))) is None  # type: ignore[func-returns-value]
    with pytest.raises(ValidationError):
        validate_birth_number("001301/1234")


# --- normalize_birth_number --------------------------------------------------------------------


def test_normalize_gives_same_digits_for_slashed_and_unslashed_forms() -> None:
    slashed = _valid(date(2018, 2, 3), "F")

    assert normalize_birth_number(slashed, today=TODAY) == normalize_birth_number(slashed.replace("/", ""), today=TODAY)
    assert normalize_birth_number(f" {slashed} ", today=TODAY) == slashed.replace("/", "")


@pytest.mark.parametrize("text", ["165808-1234", "100231/1234", "abc"])
def test_normalize_rejects_invalid_numbers_so_they_are_never_indexed(text: str) -> None:
    with pytest.raises(ValidationError):
        normalize_birth_number(text, today=TODAY)


def test_normalize_rejects_wrong_check_digit() -> None:
    dob = date(2011, 1, 1)
    serial = _serial_without_remainder_ten(dob)
    good_check = int(_birth_number(dob, serial=serial, nine_digits=True, slash=False)) % 11

    with pytest.raises(ValidationError):
        normalize_birth_number(_birth_number(dob, serial=serial, check=(good_check + 1) % 10), today=TODAY)


# --- properties --------------------------------------------------------------------------------


@st.composite
def valid_birth_numbers(draw: st.DrawFn) -> tuple[str, date, Sex]:
    """A valid slashed birth number together with the date and sex it encodes."""
    sex: Sex = draw(st.sampled_from(["F", "M"]))
    serial = draw(st.integers(0, 999))
    if draw(st.booleans()):
        dob = draw(st.dates(date(1900, 1, 1), date(1953, 12, 31)))
        return _birth_number(dob, sex, serial, nine_digits=True), dob, sex
    dob = draw(st.dates(date(1954, 1, 1), TODAY))
    extra_series = dob.year >= 2004 and draw(st.booleans())
    value = _birth_number(dob, sex, serial, extra_series=extra_series)
    remainder = int(value[:6] + value[7:10]) % 11
    # Remainder 10 is only representable (as 0) up to 1985; later such serials were never issued.
    assume(remainder != 10 or dob.year <= 1985)
    return value, dob, sex


@given(valid_birth_numbers())
def test_valid_numbers_round_trip_date_and_sex(case: tuple[str, date, Sex]) -> None:
    slashed, dob, sex = case
    unslashed = slashed.replace("/", "")

    result = parse_birth_number(unslashed, today=TODAY)

    assert result.date_of_birth == dob
    assert result.sex == sex
    assert result.normalized == unslashed
    assert parse_birth_number(slashed, today=TODAY) == result
    assert normalize_birth_number(slashed, today=TODAY) == normalize_birth_number(unslashed, today=TODAY)


@given(
    st.dates(date(1986, 1, 1), TODAY),
    st.sampled_from(["F", "M"]),
    st.integers(0, 999),
    st.integers(0, 9),
    st.integers(1, 9),
)
def test_single_digit_typo_in_post_1985_number_is_rejected(
    dob: date, sex: Sex, serial: int, position: int, delta: int
) -> None:
    """Why the remainder-10 exception stops at 1985: the mod-11 check then catches every single-digit typo.

    The only way a typo can survive is by turning the number into a remainder-10 exception
    for a year up to 1985 (possible by mistyping the year digits), which is the trade-off
    documented in ``_check_digit_ok``.
    """
    value = _birth_number(dob, sex, serial, slash=False)
    assume(int(value[:9]) % 11 != 10)
    typo = value[:position] + str((int(value[position]) + delta) % 10) + value[position + 1 :]

    try:
        result = parse_birth_number(typo, today=TODAY)
    except ValidationError:
        return
    assert int(typo[:9]) % 11 == 10
    assert typo[9] == "0"
    assert result.date_of_birth.year <= 1985
