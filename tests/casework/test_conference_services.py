"""Case conference services (§ 14 of Act No. 359/1999 Coll.): schedule, record, decide, sign off, addenda, cancel.

Each refusal is a field error with nothing written; a signed-off record never changes; notifications carry no text;
participants' names exist only as ciphertext; a held conference opens the way to a § 14(1) court petition.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from casework.models import (
    Attendance,
    Case,
    ChildParticipation,
    Conference,
    ConferenceAddendum,
    ConferenceDecision,
    ConferenceInvitee,
    ConferenceStatus,
    CourtPetition,
    ParticipantRelation,
    PetitionKind,
    User,
)
from casework.services import (
    ParticipantInput,
    conference_addendum_add,
    conference_cancel,
    conference_decision_add,
    conference_record,
    conference_schedule,
    conference_sign_off,
    court_petition_record,
)
from notifications.models import Kind, Notification
from tests.factories import add_member, open_case
from tests.factories.cases import school_partner
from tests.scan import find_in_database

pytestmark = pytest.mark.django_db

PARENT_NAME = "Konferenční Rodič Zkušebný"
MINUTES = "Zápis: rodina souhlasí se spoluprací KONFZAPIS"


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    return case


def counts() -> tuple[int, ...]:
    return (
        Conference.objects.count(),
        ConferenceInvitee.objects.count(),
        ConferenceDecision.objects.count(),
        ConferenceAddendum.objects.count(),
        Notification.objects.count(),
    )


def schedule(case: Case, by: User, members: list[User], **overrides: object) -> Conference:
    values: dict[str, object] = {
        "starts_at": timezone.now() + datetime.timedelta(days=2),
        "duration_minutes": 90,
        "place": "OSPOD, zasedací místnost 2",
        "online_link": "",
        "members": members,
        "participants": [ParticipantInput(name=PARENT_NAME, relation=ParticipantRelation.PARENT, email="r@example.cz")],
    }
    values.update(overrides)
    return conference_schedule(case=case, by=by, **values)  # type: ignore[arg-type]


def start(conference: Conference) -> None:
    """The conference's time has come (test setup: move it into the past)."""
    Conference.objects.filter(pk=conference.pk).update(starts_at=timezone.now() - datetime.timedelta(hours=2))
    conference.refresh_from_db()


def held(case: Case, by: User, teacher: User) -> Conference:
    conference = schedule(case, by, [teacher])
    start(conference)
    invitees = {str(i.pk): Attendance.ATTENDED for i in conference.invitees.all()}
    return conference_record(
        conference=conference,
        by=by,
        attendance=invitees,
        child_participation=ChildParticipation.VIEWS_CONVEYED,
        minutes=MINUTES,
    )


def test_happy_path_schedule_record_decide_sign_off(case: Case, coordinator: User, teacher: User) -> None:
    conference = schedule(case, coordinator, [teacher])
    assert conference.status == ConferenceStatus.SCHEDULED
    assert conference.invitees.count() == 2
    note = Notification.objects.get(recipient=teacher, kind=Kind.CONFERENCE_INVITATION)
    assert note.object_id == str(conference.pk)
    start(conference)
    attendance = {str(i.pk): Attendance.ATTENDED for i in conference.invitees.all()}
    conference = conference_record(
        conference=conference,
        by=coordinator,
        attendance=attendance,
        child_participation=ChildParticipation.VIEWS_CONVEYED,
        minutes=MINUTES,
    )
    assert conference.status == ConferenceStatus.HELD
    assert conference.held_at is not None
    assert set(conference.invitees.values_list("attendance", flat=True)) == {Attendance.ATTENDED}
    # Editing the record while held is allowed.
    conference = conference_record(
        conference=conference,
        by=coordinator,
        attendance={},
        child_participation=ChildParticipation.PART,
        minutes=MINUTES + " doplněno",
    )
    assert conference.child_participation == ChildParticipation.PART
    decision = conference_decision_add(
        conference=conference,
        by=coordinator,
        text="Škola zajistí doučování",
        owner_user=teacher,
        due_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    assert decision.is_action
    conference_decision_add(conference=conference, by=coordinator, text="Rodina bude spolupracovat")
    assert teacher.organisation is not None
    conference_decision_add(
        conference=conference,
        by=coordinator,
        text="Škola informuje OSPOD",
        owner_organisation=teacher.organisation,
        due_on=timezone.localdate(),
    )
    conference = conference_sign_off(conference=conference, by=coordinator)
    assert conference.status == ConferenceStatus.SIGNED_OFF
    assert conference.signed_off_by == coordinator
    addendum = conference_addendum_add(conference=conference, by=coordinator, text="Oprava: jméno školy")
    assert addendum.conference_id == conference.pk
    assert find_in_database([PARENT_NAME, "KONFZAPIS", "doučování", "Oprava: jméno"]) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": timezone.now() - datetime.timedelta(hours=1)}, "starts_at"),
        ({"place": "", "online_link": ""}, "place"),
        ({"duration_minutes": 10}, "duration_minutes"),
        ({"duration_minutes": 600}, "duration_minutes"),
        ({"participants": [ParticipantInput(name="", relation=ParticipantRelation.PARENT)]}, "participants"),
        ({"participants": [ParticipantInput(name="Někdo", relation="boss")]}, "participants"),
        ({"participants": [ParticipantInput(name="Někdo", relation="parent", email="ne-mail")]}, "participants"),
    ],
)
def test_schedule_bad_input_writes_nothing(
    case: Case, coordinator: User, teacher: User, overrides: dict[str, object], field: str
) -> None:
    before = counts()
    with pytest.raises(ValidationError) as caught:
        schedule(case, coordinator, [teacher], **overrides)
    assert field in caught.value.message_dict
    assert counts() == before


def test_schedule_refuses_a_non_member(case: Case, coordinator: User, olomouc: object) -> None:
    outsider = school_partner(municipality=olomouc)
    before = counts()
    with pytest.raises(ValidationError) as caught:
        schedule(case, coordinator, [outsider])
    assert "members" in caught.value.message_dict
    assert counts() == before


def test_only_the_lead_schedules(case: Case, teacher: User) -> None:
    before = counts()
    with pytest.raises(PermissionDenied):
        schedule(case, teacher, [])
    assert counts() == before


def test_recording_before_the_start_is_refused(case: Case, coordinator: User, teacher: User) -> None:
    conference = schedule(case, coordinator, [teacher])
    with pytest.raises(ValidationError) as caught:
        conference_record(
            conference=conference,
            by=coordinator,
            attendance={},
            child_participation=ChildParticipation.IN_PERSON,
            minutes=MINUTES,
        )
    assert "status" in caught.value.message_dict
    conference.refresh_from_db()
    assert conference.status == ConferenceStatus.SCHEDULED
    assert conference.minutes is None


def test_decision_rules(case: Case, coordinator: User, teacher: User, olomouc: object) -> None:
    conference = held(case, coordinator, teacher)
    outsider = school_partner(municipality=olomouc)
    before = counts()
    past = timezone.localdate() - datetime.timedelta(days=10)
    future = timezone.localdate() + datetime.timedelta(days=10)
    bad: list[tuple[dict[str, object], str]] = [
        ({"text": ""}, "text"),
        ({"text": "x", "owner_user": teacher}, "due_on"),
        ({"text": "x", "due_on": future}, "owner"),
        ({"text": "x", "owner_user": teacher, "due_on": past}, "due_on"),
        ({"text": "x", "owner_user": outsider, "due_on": future}, "owner"),
        ({"text": "x", "owner_organisation": outsider.organisation, "due_on": future}, "owner"),
    ]
    for kwargs, field in bad:
        with pytest.raises(ValidationError) as caught:
            conference_decision_add(conference=conference, by=coordinator, **kwargs)  # type: ignore[arg-type]
        assert field in caught.value.message_dict, kwargs
    assert counts() == before


def test_decision_needs_a_held_conference(case: Case, coordinator: User, teacher: User) -> None:
    conference = schedule(case, coordinator, [teacher])
    with pytest.raises(ValidationError):
        conference_decision_add(conference=conference, by=coordinator, text="Předčasné")
    assert ConferenceDecision.objects.count() == 0


def test_signed_off_record_is_immutable(case: Case, coordinator: User, teacher: User) -> None:
    conference = conference_sign_off(conference=held(case, coordinator, teacher), by=coordinator)
    minutes = conference.minutes
    before = counts()
    with pytest.raises(ValidationError):
        conference_record(
            conference=conference,
            by=coordinator,
            attendance={},
            child_participation=ChildParticipation.DECLINED,
            minutes="Přepsáno",
        )
    with pytest.raises(ValidationError):
        conference_decision_add(conference=conference, by=coordinator, text="Pozdě")
    with pytest.raises(ValidationError):
        conference_sign_off(conference=conference, by=coordinator)
    with pytest.raises(ValidationError):
        conference_cancel(conference=conference, by=coordinator)
    assert counts() == before
    conference.refresh_from_db()
    assert bytes(conference.minutes) == bytes(minutes)
    assert conference.child_participation == ChildParticipation.VIEWS_CONVEYED


def test_addendum_only_after_sign_off(case: Case, coordinator: User, teacher: User) -> None:
    conference = held(case, coordinator, teacher)
    with pytest.raises(ValidationError):
        conference_addendum_add(conference=conference, by=coordinator, text="Dodatek")
    assert ConferenceAddendum.objects.count() == 0


def test_cancel_notifies_invited_members_without_text(case: Case, coordinator: User, teacher: User) -> None:
    conference = schedule(case, coordinator, [teacher])
    conference_cancel(conference=conference, by=coordinator)
    conference.refresh_from_db()
    assert conference.status == ConferenceStatus.CANCELLED
    kinds = set(Notification.objects.filter(recipient=teacher).values_list("kind", flat=True))
    assert {Kind.CONFERENCE_INVITATION, Kind.CONFERENCE_CANCELLED} <= kinds
    assert find_in_database([PARENT_NAME]) == []
    for note in Notification.objects.all():
        values = " ".join(str(v) for v in note.__dict__.values())
        assert PARENT_NAME not in values
        assert "zasedací" not in values


def test_a_held_conference_allows_a_placement_petition(case: Case, coordinator: User, teacher: User) -> None:
    with pytest.raises(ValidationError):
        court_petition_record(case=case, by=coordinator, kind=PetitionKind.PLACEMENT)
    conference = conference_sign_off(conference=held(case, coordinator, teacher), by=coordinator)
    petition = court_petition_record(case=case, by=coordinator, kind=PetitionKind.PLACEMENT)
    assert petition.conference_id == conference.pk
    assert CourtPetition.objects.count() == 1
