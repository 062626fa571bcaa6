"""Deadline arithmetic: when something is due, in Europe/Prague, as the Czech rules for counting time say.

Pure functions, no database. Every due date this module returns is an aware datetime at the *end* of the last day
(23:59:59.999999 Prague time), so "overdue" is simply ``now > due_at`` and a task due on a day may be done all that day.
Urgent triage is the one exception: it is counted in hours and never rolled (see ``triage_due``).

The counting rules (the same as § 40 of the Administrative Procedure Code, Act No. 500/2004 Coll., which OSPOD applies):

* A period in **days** starts the day after the event: 30 days after a report received on 1 March end on 31 March.
* A period in **months** ends on the day with the same number as the day of the event in the target month, or on that
  month's last day when it has no such day (31 January + 1 month = 28 or 29 February): ``add_months``.
* A last day falling on a **Saturday, Sunday or Czech public holiday** moves to the next working day:
  ``next_working_day``. The holidays come from the ``holidays`` package (``country_holidays("CZ")``), cached per year.

Which periods are law and which are our defaults:

========================  =======================================================  =================================
due item                  rule                                                     source
========================  =======================================================  =================================
protection plan (IPOD)    one month after the case opened (entry in the register)  statutory: § 10(3)(d) Act 359/1999,
                                                                                   Decree 473/2012 § 2
notifier's feedback       30 days after the report was received                    statutory: § 10(4) Act 359/1999
urgent triage             ``urgent_hours`` (24) after receipt, not rolled          local default (quality standard 8)
standard triage           ``standard_days`` (7) after receipt, rolled              local default (quality standard 8)
plan review               ``review_months`` (3) after the last plan, rolled        local default; the law says only
                                                                                   "regularly" (§ 10(5)(c))
========================  =======================================================  =================================

The local defaults are configurable per authority (``workflows.models.AuthoritySettings``).
"""

from __future__ import annotations

import calendar
import datetime
import functools
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone

#: Every deadline is counted on the Prague calendar, whatever time zone a request has activated.
PRAGUE = ZoneInfo("Europe/Prague")

#: The notifier's right to feedback: "within 30 days of receiving the report" (§ 10(4), second sentence).
FEEDBACK_DAYS = 30
#: The protection plan: "at the latest within one month" of the child's entry in the register (§ 10(3)(d)).
IPOD_MONTHS = 1

# More consecutive non-working days than the Czech calendar ever has (Christmas Eve to Sunday is at most 4).
_MAX_ROLL_DAYS = 14


class TriageTimes(Protocol):
    """What ``triage_due`` needs of an authority's settings (``AuthoritySettings`` or anything shaped like it)."""

    urgent_hours: int
    standard_days: int


@functools.cache
def _czech_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("CZ", years=year).keys())


def is_working_day(day: datetime.date) -> bool:
    """Monday to Friday and not a Czech public holiday."""
    return day.weekday() < 5 and day not in _czech_holidays(day.year)


def next_working_day(day: datetime.date) -> datetime.date:
    """``day`` itself when it is a working day; otherwise the first working day after it (a deadline ending on a
    Saturday, Sunday or public holiday ends on the next working day)."""
    for offset in range(_MAX_ROLL_DAYS):
        candidate = day + datetime.timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    raise ValueError(f"no working day within {_MAX_ROLL_DAYS} days of {day.isoformat()}")  # pragma: no cover


def add_months(day: datetime.date, n: int) -> datetime.date:
    """The day with the same number ``n`` months later (or earlier, for negative ``n``), or the last day of the target
    month when it is shorter: 31 January + 1 = 28 February (29 in a leap year); 30 November + 3 = 28/29 February."""
    index = day.year * 12 + (day.month - 1) + n
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last instant of ``day`` in Prague, as an aware datetime (what ``Deadline.due_at`` stores)."""
    return datetime.datetime.combine(day, datetime.time.max, tzinfo=PRAGUE)


def prague_date(moment: datetime.datetime) -> datetime.date:
    """The Prague calendar day of an aware datetime (the day an event happened, for counting)."""
    return timezone.localdate(moment, PRAGUE)


def working_deadline(day: datetime.date) -> datetime.datetime:
    """The due instant of a period whose last day is ``day``: the end of ``day``, rolled to the next working day."""
    return end_of_day(next_working_day(day))


def ipod_due(opened_at: datetime.datetime) -> datetime.datetime:
    """The protection plan (IPOD) is due one month after the case opened (statutory: § 10(3)(d) of Act No. 359/1999
    Coll. and § 2 of Decree No. 473/2012 Coll., counted from the child's entry in the register, which is "case
    opened" in the product), on the same day number or the month's last day, rolled to a working day."""
    return working_deadline(add_months(prague_date(opened_at), IPOD_MONTHS))


def feedback_due(received_at: datetime.datetime) -> datetime.datetime:
    """A mandated notifier who asked is told within 30 days of OSPOD's receipt of the report whether the child was
    found to be at risk (statutory: § 10(4), second sentence, of Act No. 359/1999 Coll.); rolled to a working day."""
    return working_deadline(prague_date(received_at) + datetime.timedelta(days=FEEDBACK_DAYS))


def review_due(from_day: datetime.date, months: int) -> datetime.datetime:
    """The next review of the plan, ``months`` after ``from_day`` (the day the current plan was approved or last
    reviewed), rolled to a working day. Local default, not law: § 10(5)(c) says only "regularly"; the interval is
    ``AuthoritySettings.review_months`` (3 unless the authority changes it)."""
    if months < 1:
        raise ValueError("a review interval is at least one month")
    return working_deadline(add_months(from_day, months))


def triage_due(received_at: datetime.datetime, urgent: bool, settings: TriageTimes) -> datetime.datetime:
    """When the urgency triage of a report (first contact) is due; local defaults of quality standard 8, not law.

    Urgent: ``settings.urgent_hours`` (24) after the moment of receipt, *not* rolled: urgent means the same day,
    and OSPOD keeps a 24/7 duty (standard 1b), so weekends and holidays do not stop the clock.
    Standard: ``settings.standard_days`` (7) days after the day of receipt, at the end of that day, rolled to a
    working day.
    """
    if timezone.is_naive(received_at):
        raise ValueError("received_at must be an aware datetime")
    if urgent:
        # In UTC: aware arithmetic in one zone is wall-clock arithmetic, which would make the night the clocks go
        # forward 23 real hours long.
        elapsed = received_at.astimezone(datetime.UTC) + datetime.timedelta(hours=settings.urgent_hours)
        return elapsed.astimezone(PRAGUE)
    return working_deadline(prague_date(received_at) + datetime.timedelta(days=settings.standard_days))
