"""The case conference pages: the lead schedules, records, decides and signs off; invited members see the logistics
only; participants' names are shown to the lead and stored as ciphertext."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import (
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
from tests.factories import add_member, open_case
from tests.factories.cases import school_partner
from tests.scan import find_in_database

pytestmark = pytest.mark.django_db

PARENT = "Matylda Konferenční"
MINUTES = "Zápis KONFVIEWZAPIS: matka souhlasí s docházkou do SAS."
DECISION = "Doučování KONFVIEWROZHODNUTI"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    return case


def _schedule_data(teacher: User, **overrides: str) -> dict[str, object]:
    starts = timezone.localtime() + datetime.timedelta(days=3)
    data: dict[str, object] = {
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "90",
        "place": "OSPOD Olomouc, místnost 12",
        "online_link": "",
        "members": [str(teacher.pk)],
        "participant_1_name": PARENT,
        "participant_1_relation": ParticipantRelation.PARENT,
        "participant_1_email": "",
    }
    data.update(overrides)
    return data


def _urls(case: Case, conference: Conference, name: str) -> str:
    return reverse(name, kwargs={"case_id": case.pk, "conference_id": conference.pk})


def _scheduled(case: Case, coordinator: User, teacher: User) -> Conference:
    response = _client(coordinator).post(
        reverse("conference_schedule", kwargs={"case_id": case.pk}), _schedule_data(teacher)
    )
    assert response.status_code == 302
    return Conference.objects.get(case=case)


def _started(conference: Conference) -> None:
    Conference.objects.filter(pk=conference.pk).update(starts_at=timezone.now() - datetime.timedelta(hours=1))


def test_case_page_links_to_conferences(case: Case, coordinator: User, teacher: User) -> None:
    link = reverse("conference_list", kwargs={"case_id": case.pk})
    for user in (coordinator, teacher):
        assert link in _client(user).get(reverse("case_detail", kwargs={"case_id": case.pk})).content.decode()


def test_lead_schedules_and_sees_the_participant(case: Case, coordinator: User, teacher: User) -> None:
    client = _client(coordinator)
    assert client.get(reverse("conference_schedule", kwargs={"case_id": case.pk})).status_code == 200
    conference = _scheduled(case, coordinator, teacher)
    assert conference.invitees.count() == 2
    body = client.get(_urls(case, conference, "conference_detail")).content.decode()
    assert PARENT in body
    assert "místnost 12" in body
    assert find_in_database([PARENT]) == []


def test_bad_schedule_shows_errors_and_writes_nothing(case: Case, coordinator: User, teacher: User) -> None:
    client = _client(coordinator)
    url = reverse("conference_schedule", kwargs={"case_id": case.pk})
    past = (timezone.localtime() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for overrides in ({"starts_at": past}, {"place": ""}, {"participant_1_relation": ""}):
        response = client.post(url, _schedule_data(teacher, **overrides))
        assert response.status_code == 200
        assert "form-error" in response.content.decode()
    assert Conference.objects.count() == 0
    assert ConferenceInvitee.objects.count() == 0


def test_member_sees_logistics_but_not_the_record(case: Case, coordinator: User, teacher: User) -> None:
    conference = _scheduled(case, coordinator, teacher)
    _started(conference)
    lead = _client(coordinator)
    invitee_ids = list(conference.invitees.values_list("pk", flat=True))
    record = {f"attendance_{pk}": "attended" for pk in invitee_ids}
    record |= {"child_participation": ChildParticipation.IN_PERSON, "minutes": MINUTES}
    assert lead.post(_urls(case, conference, "conference_record"), record).status_code == 302
    assert lead.post(_urls(case, conference, "conference_decision_add"), {"text": DECISION}).status_code == 302
    member = _client(teacher)
    listing = member.get(reverse("conference_list", kwargs={"case_id": case.pk})).content.decode()
    assert _urls(case, conference, "conference_detail") in listing
    body = member.get(_urls(case, conference, "conference_detail")).content.decode()
    assert "místnost 12" in body
    for secret in ("KONFVIEWZAPIS", "KONFVIEWROZHODNUTI", PARENT):
        assert secret not in body
    assert member.get(reverse("conference_schedule", kwargs={"case_id": case.pk})).status_code == 403
    refused = member.post(_urls(case, conference, "conference_record"), record | {"minutes": "Přepis"})
    assert refused.status_code == 403


def test_record_decide_sign_off_then_immutable_and_petition(case: Case, coordinator: User, teacher: User) -> None:
    conference = _scheduled(case, coordinator, teacher)
    client = _client(coordinator)
    invitee_ids = list(conference.invitees.values_list("pk", flat=True))
    record = {f"attendance_{pk}": "attended" for pk in invitee_ids}
    record |= {"child_participation": ChildParticipation.IN_PERSON, "minutes": MINUTES}
    # Before the start: refused, nothing written.
    early = client.post(_urls(case, conference, "conference_record"), record)
    assert early.status_code == 200
    conference.refresh_from_db()
    assert conference.status == ConferenceStatus.SCHEDULED
    _started(conference)
    assert client.post(_urls(case, conference, "conference_record"), record).status_code == 302
    conference.refresh_from_db()
    assert conference.status == ConferenceStatus.HELD
    # An owner without a due date: a field error, nothing written.
    decisions = _urls(case, conference, "conference_decision_add")
    response = client.post(decisions, {"text": DECISION, "owner": f"u:{teacher.pk}", "due_on": ""})
    assert response.status_code == 200
    assert ConferenceDecision.objects.count() == 0
    due = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
    assert client.post(decisions, {"text": DECISION, "owner": f"u:{teacher.pk}", "due_on": due}).status_code == 302
    assert ConferenceDecision.objects.get().owner_user == teacher
    assert DECISION in client.get(_urls(case, conference, "conference_detail")).content.decode()
    assert client.post(_urls(case, conference, "conference_sign_off"), {"confirm": "on"}).status_code == 302
    conference.refresh_from_db()
    assert conference.status == ConferenceStatus.SIGNED_OFF
    minutes = bytes(conference.minutes)
    # Signed off: the record does not change, decisions are refused, addenda are welcome.
    client.post(_urls(case, conference, "conference_record"), record | {"minutes": "Přepsáno"})
    client.post(decisions, {"text": "Pozdě"})
    conference.refresh_from_db()
    assert bytes(conference.minutes) == minutes
    assert ConferenceDecision.objects.count() == 1
    addendum = client.post(_urls(case, conference, "conference_addendum_add"), {"text": "Oprava KONFVIEWDODATEK"})
    assert addendum.status_code == 302
    assert ConferenceAddendum.objects.count() == 1
    assert find_in_database(["KONFVIEWZAPIS", "KONFVIEWROZHODNUTI", "KONFVIEWDODATEK"]) == []
    # § 14(2)(b): the placement petition is now possible.
    petition = client.post(reverse("case_petition", kwargs={"case_id": case.pk}), {"kind": PetitionKind.PLACEMENT})
    assert petition.status_code == 302
    assert CourtPetition.objects.get().conference_id == conference.pk


def test_cancel(case: Case, coordinator: User, teacher: User) -> None:
    conference = _scheduled(case, coordinator, teacher)
    assert _client(teacher).post(_urls(case, conference, "conference_cancel")).status_code == 403
    assert _client(coordinator).post(_urls(case, conference, "conference_cancel")).status_code == 302
    conference.refresh_from_db()
    assert conference.status == ConferenceStatus.CANCELLED


def test_an_uninvited_member_is_refused(case: Case, coordinator: User, olomouc: object) -> None:
    other = school_partner(municipality=olomouc)
    add_member(case, other, coordinator)
    response = _client(coordinator).post(
        reverse("conference_schedule", kwargs={"case_id": case.pk}),
        _schedule_data(other, members=[], participant_1_name="", participant_1_relation=""),  # type: ignore[arg-type]
    )
    assert response.status_code == 302
    conference = Conference.objects.get()
    assert _client(other).get(_urls(case, conference, "conference_detail")).status_code == 403
    listing = _client(other).get(reverse("conference_list", kwargs={"case_id": case.pk})).content.decode()
    assert _urls(case, conference, "conference_detail") not in listing
