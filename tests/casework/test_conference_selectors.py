"""The conference's read model (``casework.selectors.conferences``): the lead reads the record, an invited member the
logistics only, a member who is not invited gets an audited 403 — in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied

from casework import services
from casework.models import Case, ChildParticipation, Conference, User
from casework.selectors.conferences import conference_disclosed
from permissions.access import access_case_by_id
from permissions.models import AuditEvent, AuditOutcome
from tests.factories import add_member
from tests.factories.cases import school_partner

from .test_conference_views import DECISION, MINUTES, _scheduled, _started, case

pytestmark = pytest.mark.django_db

__all__ = ["case"]  # the fixture shared with the page tests

#: The lead's conference: the invitees, the decisions and the addenda (one query each) and four gate reads (invitees,
#: minutes, decisions, addenda), each one committed audit batch plus a key load; the viewer's standing is reused.
CONFERENCE_QUERIES_LEAD = 23
#: An invited member: whether they are invited (one query), nothing read through the gate.
CONFERENCE_QUERIES_MEMBER = 1


def _held(case: Case, coordinator: User, teacher: User, decisions: int) -> Conference:
    conference = _scheduled(case, coordinator, teacher)
    _started(conference)
    conference.refresh_from_db()
    services.conference_record(
        conference=conference,
        by=coordinator,
        attendance={},
        child_participation=ChildParticipation.IN_PERSON,
        minutes=MINUTES,
    )
    for n in range(decisions):
        services.conference_decision_add(
            conference=conference,
            by=coordinator,
            text=f"{DECISION} {n}",
            owner_user=None,
            owner_organisation=None,
            due_on=None,
        )
    conference.refresh_from_db()
    return conference


@pytest.mark.parametrize("size", [1, 8])
def test_conference_disclosed_runs_a_fixed_number_of_queries(
    size: int,
    case: Case,
    coordinator: User,
    teacher: User,
    django_assert_num_queries: Callable[..., object],
) -> None:
    conference = _held(case, coordinator, teacher, decisions=size)
    for user, expected in ((coordinator, CONFERENCE_QUERIES_LEAD), (teacher, CONFERENCE_QUERIES_MEMBER)):
        loaded = access_case_by_id(user, case.pk, purpose="case conference")
        with django_assert_num_queries(expected):  # type: ignore[attr-defined]
            view = conference_disclosed(user=user, case=loaded, conference=conference)
        if user == coordinator:
            assert view.record is not None
            assert view.record.minutes == MINUTES
            assert len(view.record.decisions) == size
        else:
            assert view.record is None
            assert MINUTES not in repr(view)


def test_a_member_who_is_not_invited_gets_an_audited_403(
    case: Case, coordinator: User, teacher: User, olomouc: object
) -> None:
    conference = _held(case, coordinator, teacher, decisions=1)
    other = school_partner(municipality=olomouc, username="jinaucitelka")
    add_member(case, other, coordinator)
    with pytest.raises(PermissionDenied):
        conference_disclosed(user=other, case=access_case_by_id(other, case.pk, purpose="x"), conference=conference)
    assert AuditEvent.objects.filter(actor=other, outcome=AuditOutcome.DENIED, purpose="case conference").exists()
