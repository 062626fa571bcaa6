"""A member who left the team hears nothing more of the case's conferences (DESIGN.md invariant 5): no notification
row (so no live frame) and no e-mail with the new time, place, link and calendar file — whether the membership was
ended on the team page or its last day has passed.

Every name and text is fictional.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from casework.models import Case, Conference, MembershipEndReason, TeamMembership, User
from casework.services import conference_cancel, conference_schedule, team_member_end
from casework.services.conferences import conference_reschedule
from notifications.models import Kind, Notification
from tests.factories import add_member, open_case
from tests.factories.cases import health_partner

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]

PLACE = "OSPOD Olomouc, zasedací místnost 3"
NEW_PLACE = "OSPOD Olomouc, zasedací místnost 5"
DAY = datetime.timedelta(days=1)


@pytest.fixture
def doctor(olomouc: Any) -> User:
    return health_partner(municipality=olomouc)


@pytest.fixture
def case(coordinator: User, teacher: User, doctor: User) -> Case:
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    add_member(case, doctor, coordinator, valid_until=timezone.localdate())
    return case


def _schedule(case: Case, by: User, members: list[User], capture: Capture) -> Conference:
    with capture(execute=True):
        conference = conference_schedule(
            case=case,
            by=by,
            starts_at=(timezone.now() + 5 * DAY).replace(second=0, microsecond=0),
            duration_minutes=60,
            place=PLACE,
            online_link="",
            members=members,
            participants=[],
        )
    mail.outbox.clear()
    return conference


def _reschedule(conference: Conference, by: User, capture: Capture) -> None:
    with capture(execute=True):
        conference_reschedule(
            conference=conference,
            by=by,
            starts_at=conference.starts_at + DAY,
            duration_minutes=conference.duration_minutes,
            place=NEW_PLACE,
            online_link="",
        )


def _told(user: User, kind: str) -> bool:
    return Notification.objects.filter(recipient=user, kind=kind).exists()


def _mailed(user: User) -> list[Any]:
    return [message for message in mail.outbox if user.email in message.to]


def test_a_member_ended_on_the_team_page_gets_no_notice_of_a_new_time_or_a_cancellation(
    case: Case,
    coordinator: User,
    teacher: User,
    doctor: User,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    conference = _schedule(case, coordinator, [teacher, doctor], django_capture_on_commit_callbacks)
    membership = TeamMembership.objects.get(case=case, user=teacher, ended_at__isnull=True)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.OTHER)

    _reschedule(conference, coordinator, django_capture_on_commit_callbacks)
    assert not _told(teacher, Kind.CONFERENCE_CHANGED)
    assert _mailed(teacher) == []
    assert _told(doctor, Kind.CONFERENCE_CHANGED)  # still on the team
    assert len(_mailed(doctor)) == 1

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        conference_cancel(conference=Conference.objects.get(pk=conference.pk), by=coordinator)
    assert not _told(teacher, Kind.CONFERENCE_CANCELLED)
    assert _mailed(teacher) == []
    assert _told(doctor, Kind.CONFERENCE_CANCELLED)
    assert len(_mailed(doctor)) == 1


def test_a_member_past_their_last_day_gets_no_notice_of_a_new_time_or_a_cancellation(
    case: Case,
    coordinator: User,
    teacher: User,
    doctor: User,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    conference = _schedule(case, coordinator, [teacher, doctor], django_capture_on_commit_callbacks)
    tomorrow = timezone.localdate() + DAY
    with time_machine.travel(tomorrow.isoformat() + " 08:00 +01:00", tick=False):
        _reschedule(conference, coordinator, django_capture_on_commit_callbacks)
        assert not _told(doctor, Kind.CONFERENCE_CHANGED)  # the doctor's last day was yesterday
        assert _mailed(doctor) == []
        assert _told(teacher, Kind.CONFERENCE_CHANGED)
        assert len(_mailed(teacher)) == 1

        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            conference_cancel(conference=Conference.objects.get(pk=conference.pk), by=coordinator)
        assert not _told(doctor, Kind.CONFERENCE_CANCELLED)
        assert _mailed(doctor) == []
        assert _told(teacher, Kind.CONFERENCE_CANCELLED)
