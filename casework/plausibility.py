"""Plausibility rules for the dates people type: each rule once, for the forms and the services alike.

A service is the write path every caller goes through, so each service checks its dates with these functions (and adds
the message to its field-level errors); a form attaches the same rule as a field validator, so the message appears
with the form's other field errors. Nothing here reads the database or the clock except through ``today`` (Prague's
local date unless the caller passes one), which keeps the rules easy to test with frozen time.

The rules:

* **A child's date of birth** (reports, the child register): not in the future, and the child is not yet 18 — the
  18th birthday is the day of majority (the Civil Code, § 30), so a date of birth exactly 18 years before today is
  refused. Someone born on 29 February turns 18 on 28 February in a common year (the Civil Code, § 605(2): a period
  that ends on a day the month lacks ends on its last day).
* **A day on a case** (a membership's first day, an agreement to share, a share's last day): not before the day the
  case opened.
* **A due date** (an input request, a plan action, a conference decision): today or later.
"""

from __future__ import annotations

import calendar
import datetime

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: The age of majority: a child is younger.
ADULT_AGE = 18


def anniversary(day: datetime.date, years: int) -> datetime.date:
    """``day`` moved ``years`` years on; 29 February becomes 28 February in a common year."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def age_in_years(born: datetime.date, today: datetime.date | None = None) -> int:
    """Completed years of life on ``today`` (the birthday counts from its first moment)."""
    today = today or timezone.localdate()
    years = today.year - born.year
    return years if anniversary(born, years) <= today else years - 1


def earliest_child_birth_date(today: datetime.date | None = None) -> datetime.date:
    """The earliest date of birth of someone who is still a child on ``today`` (a form's ``min``)."""
    today = today or timezone.localdate()
    return anniversary(today, -ADULT_AGE) + datetime.timedelta(days=1)


def child_date_of_birth_problem(born: datetime.date, today: datetime.date | None = None) -> str | None:
    """Why ``born`` cannot be a child's date of birth on ``today``, or ``None`` when it can."""
    today = today or timezone.localdate()
    if born > today:
        return str(_("The date of birth cannot be in the future."))
    if anniversary(born, ADULT_AGE) <= today:
        return str(
            _(
                "With this date of birth the person is %(age)d years old: a child is younger than %(adult)d. "
                "Check the date of birth."
            )
            % {"age": age_in_years(born, today), "adult": ADULT_AGE}
        )
    return None


def case_day_problem(day: datetime.date, opened_on: datetime.date) -> str | None:
    """Why ``day`` cannot be a day of a case that opened on ``opened_on``, or ``None`` when it can."""
    if day < opened_on:
        return str(
            _("The date cannot be before the case opened (%(opened)s).")
            % {"opened": formats.date_format(opened_on, "DATE_FORMAT")}
        )
    return None


def case_opened_on(opened_at: datetime.datetime) -> datetime.date:
    """The day a case opened, in Prague."""
    return timezone.localdate(opened_at)


def due_date_problem(due: datetime.date, today: datetime.date | None = None) -> str | None:
    """Why ``due`` cannot be a new due date on ``today``, or ``None`` when it can."""
    today = today or timezone.localdate()
    if due < today:
        return str(_("A due date cannot be in the past."))
    return None


def check(errors: dict[str, list[str]], field: str, problem: str | Promise | None) -> None:
    """Add ``problem`` (one of the rules' answers) to a service's field-level ``errors``."""
    if problem is not None:
        errors.setdefault(field, []).append(str(problem))


# --- Field validators for forms (the same rules, raised as a form field's error) -----------------------------------


def validate_child_date_of_birth(value: datetime.date) -> None:
    problem = child_date_of_birth_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="implausible_date_of_birth")


def validate_due_date(value: datetime.date) -> None:
    problem = due_date_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="due_date_in_past")
