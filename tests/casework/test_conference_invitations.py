"""Conference invitations: one e-mail per invitee with an iCalendar file, sent after the commit, carrying the case
reference and the logistics only — never a child's name, a participant's name or any protected text (the canary)."""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from email.message import Message
from typing import Any

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.compartments import Compartment
from casework.models import (
    Attendance,
    Case,
    ChildParticipation,
    Conference,
    ConferenceInvitee,
    ConferenceStatus,
    ParticipantRelation,
    User,
)
from casework.services import (
    ParticipantInput,
    RepresentativeInput,
    conference_cancel,
    conference_decision_add,
    conference_record,
    conference_schedule,
)
from casework.services.conferences import conference_reschedule
from casework.services.invitations import PURPOSE
from casework.services.plans import plan_draft_start, plan_save
from notifications.models import Kind, Notification
from permissions import gate
from permissions.models import AuditEvent
from tests.factories import add_member, open_case, write_note
from tests.factories.children import register_child

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]

PLACE = "OSPOD Olomouc, zasedací místnost 2"
PARENT_EMAIL = "rodic.pozvanka@example.cz"
SITE = "https://spod.example.cz"


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.NOTIFICATIONS_SITE_URL = SITE


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    return case


def _future(days: int = 3) -> datetime.datetime:
    return (timezone.now() + datetime.timedelta(days=days)).replace(second=0, microsecond=0)


def schedule(case: Case, by: User, members: list[User], **overrides: Any) -> Conference:
    values: dict[str, Any] = {
        "starts_at": _future(),
        "duration_minutes": 90,
        "place": PLACE,
        "online_link": "",
        "members": members,
        "participants": [
            ParticipantInput(name="Rodič Pozvaný", relation=ParticipantRelation.PARENT, email=PARENT_EMAIL),
            ParticipantInput(name="Babička Bez Adresy", relation=ParticipantRelation.RELATIVE),
        ],
    }
    values.update(overrides)
    return conference_schedule(case=case, by=by, **values)


def reschedule(conference: Conference, by: User, **overrides: Any) -> Conference:
    values: dict[str, Any] = {
        "starts_at": conference.starts_at + datetime.timedelta(days=1),
        "duration_minutes": conference.duration_minutes,
        "place": conference.place,
        "online_link": conference.online_link,
    }
    values.update(overrides)
    return conference_reschedule(conference=conference, by=by, **values)


def calendar_part(message: EmailMessage) -> Message:
    parts = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0]


def calendar_of(message: EmailMessage) -> icalendar.Calendar:
    payload = calendar_part(message).get_payload(decode=True)
    assert isinstance(payload, bytes)
    return icalendar.Calendar.from_ical(payload)


def event_of(message: EmailMessage) -> icalendar.Component:
    events = calendar_of(message).walk("VEVENT")
    assert len(events) == 1
    return events[0]


def by_recipient(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    found: dict[str, EmailMessage] = {}
    for message in messages:
        assert len(message.to) == 1
        assert not message.cc
        assert not message.bcc
        assert message.to[0] not in found
        found[message.to[0]] = message
    return found


def texts_of(message: EmailMessage) -> Iterator[str]:
    """Everything a recipient could read: subject, body, every decoded part, the calendar file unfolded."""
    yield str(message.subject)
    yield str(message.body)
    yield str(message.extra_headers)
    for part in message.message().walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            text = payload.decode()
            yield text
            yield text.replace("\r\n ", "").replace("\r\n\t", "")
        for _key, value in part.items():
            yield str(value)


# --- The first invitation ---------------------------------------------------------------------------------------


def test_each_invitee_with_an_address_gets_exactly_their_invitation(
    case: Case,
    coordinator: User,
    teacher: User,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    starts = _future()
    with django_capture_on_commit_callbacks(execute=True):
        conference = schedule(case, coordinator, [teacher], starts_at=starts)
    # The teacher and the parent; the relative has no address.
    sent = by_recipient(mail.outbox)
    assert set(sent) == {teacher.email, PARENT_EMAIL}
    reference = case.reference
    for address, message in sent.items():
        assert message.subject == (
            f"Pozvánka na případovou konferenci {reference} / Case conference invitation {reference}"
        )
        assert calendar_part(message).get_param("method") == "REQUEST"
        assert calendar_of(message)["METHOD"] == "REQUEST"
        event = event_of(message)
        assert str(event["UID"]) == f"conference-{conference.pk}@spod.example.cz"
        assert event["SEQUENCE"] == 0
        assert event.decoded("DTSTART") == starts
        assert event.decoded("DTEND") == starts + datetime.timedelta(minutes=90)
        assert event.decoded("DTSTART").utcoffset() == datetime.timedelta(0)
        assert str(event["SUMMARY"]) == f"Případová konference {reference} / Case conference {reference}"
        assert str(event["LOCATION"]) == PLACE
        assert str(event["STATUS"]) == "CONFIRMED"
        assert str(event["ORGANIZER"]) == f"mailto:{coordinator.email}"
        attendees = event["ATTENDEE"]
        assert not isinstance(attendees, list)  # exactly one: the recipient, nobody else
        assert str(attendees) == f"mailto:{address}"
        assert PLACE in message.body
        # Czech first, English below.
        assert message.body.index("Jste zváni na případovou konferenci") < message.body.index(
            "You are invited to a case conference"
        )
    page = reverse("conference_detail", kwargs={"case_id": case.pk, "conference_id": conference.pk})
    assert f"{SITE}{page}" in sent[teacher.email].body
    assert SITE not in sent[PARENT_EMAIL].body  # a participant has no account: logistics only
    assert PARENT_EMAIL not in sent[teacher.email].message().as_string()
    assert teacher.email not in "".join(texts_of(sent[PARENT_EMAIL]))
    emailed = dict(ConferenceInvitee.objects.filter(conference=conference).values_list("pk", "emailed_at"))
    assert sum(1 for at in emailed.values() if at is not None) == 2


def test_the_participants_address_is_read_through_the_gate_and_audited(
    case: Case, coordinator: User, teacher: User, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        conference = schedule(case, coordinator, [teacher])
    reads = AuditEvent.objects.filter(purpose=PURPOSE, actor=coordinator, case_id=case.pk)
    assert reads.count() == 1
    assert reads.get().field_names == ["email"]
    assert conference.invitees.count() == 3


def test_nothing_is_sent_before_the_commit_nor_when_the_transaction_fails(
    case: Case, coordinator: User, teacher: User, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        schedule(case, coordinator, [teacher])
    assert mail.outbox == []  # waiting for the commit
    assert len(callbacks) >= 1

    class Boom(Exception):
        pass

    def schedule_then_fail() -> None:
        with transaction.atomic():
            schedule(case, coordinator, [teacher], starts_at=_future(5))
            raise Boom

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        schedule_then_fail()
    assert callbacks == []
    assert mail.outbox == []
    assert Conference.objects.filter(case=case).count() == 1


def test_a_failing_mail_server_is_logged_without_address_and_keeps_the_conference(
    case: Case,
    coordinator: User,
    teacher: User,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(self: EmailMessage, fail_silently: bool = False) -> int:
        raise smtplib.SMTPRecipientsRefused({self.to[0]: (550, b"no such user " + self.to[0].encode())})

    monkeypatch.setattr(EmailMessage, "send", refuse)
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        conference = schedule(case, coordinator, [teacher])
    assert mail.outbox == []
    assert Conference.objects.get(pk=conference.pk).status == ConferenceStatus.SCHEDULED
    assert not ConferenceInvitee.objects.filter(conference=conference, emailed_at__isnull=False).exists()
    failures = [r for r in caplog.records if r.name == "casework.invitations"]
    assert len(failures) == 2
    for record in caplog.records:
        text = record.getMessage()
        for secret in (PARENT_EMAIL, teacher.email, PLACE, case.reference):
            assert secret not in text
    assert all(str(conference.pk) in r.getMessage() and "SMTPRecipientsRefused" in r.getMessage() for r in failures)


# --- Rescheduling -------------------------------------------------------------------------------------------------


def test_rescheduling_sends_the_same_uid_with_a_higher_sequence_and_notifies_members(
    case: Case, coordinator: User, teacher: User, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        conference = schedule(case, coordinator, [teacher])
    first = by_recipient(mail.outbox)
    mail.outbox.clear()
    new_start = _future(10)
    with django_capture_on_commit_callbacks(execute=True):
        conference = reschedule(
            conference, coordinator, starts_at=new_start, duration_minutes=60, online_link="https://meet.example.cz/k"
        )
    assert conference.sequence == 1
    assert (conference.starts_at, conference.duration_minutes) == (new_start, 60)
    second = by_recipient(mail.outbox)
    assert set(second) == {teacher.email, PARENT_EMAIL}
    for address, message in second.items():
        event = event_of(message)
        assert calendar_of(message)["METHOD"] == "REQUEST"
        assert event["UID"] == event_of(first[address])["UID"]
        assert event["SEQUENCE"] == 1
        assert event.decoded("DTSTART") == new_start
        assert event.decoded("DTEND") == new_start + datetime.timedelta(minutes=60)
        assert "https://meet.example.cz/k" in message.body
        assert message.subject.endswith(f"Case conference changed {case.reference}")
    changed = Notification.objects.get(kind=Kind.CONFERENCE_CHANGED)
    assert changed.recipient_id == teacher.pk
    assert (changed.case_reference, changed.object_id) == (case.reference, str(conference.pk))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": "past"}, "starts_at"),
        ({"duration_minutes": 5}, "duration_minutes"),
        ({"place": "", "online_link": ""}, "place"),
        ({"starts_at": "same"}, "starts_at"),
    ],
)
def test_rescheduling_is_validated_like_scheduling_and_writes_nothing(
    case: Case,
    coordinator: User,
    teacher: User,
    django_capture_on_commit_callbacks: Capture,
    overrides: dict[str, Any],
    field: str,
) -> None:
    conference = schedule(case, coordinator, [teacher])
    if overrides.get("starts_at") == "past":
        overrides["starts_at"] = timezone.now() - datetime.timedelta(hours=1)
    elif overrides.get("starts_at") == "same":
        overrides["starts_at"] = conference.starts_at
    notes = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as raised:
        reschedule(conference, coordinator, **overrides)
    assert field in raised.value.message_dict
    stored = Conference.objects.get(pk=conference.pk)
    assert (stored.sequence, stored.starts_at, stored.place) == (0, conference.starts_at, PLACE)
    assert Notification.objects.count() == notes
    assert mail.outbox == []


def test_only_a_scheduled_conference_is_rescheduled_and_only_by_its_lead(
    case: Case, coordinator: User, teacher: User, django_capture_on_commit_callbacks: Capture
) -> None:
    conference = schedule(case, coordinator, [teacher])
    with pytest.raises(PermissionDenied):
        reschedule(conference, teacher)
    conference_cancel(conference=conference, by=coordinator)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as raised:
        reschedule(conference, coordinator)
    assert "status" in raised.value.message_dict
    assert mail.outbox == []
    assert not Notification.objects.filter(kind=Kind.CONFERENCE_CHANGED).exists()


# --- Cancelling ---------------------------------------------------------------------------------------------------


def test_cancelling_sends_method_cancel_to_everyone_invited(
    case: Case, coordinator: User, teacher: User, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        conference = schedule(case, coordinator, [teacher])
        conference = reschedule(conference, coordinator)
    uid = event_of(mail.outbox[0])["UID"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        conference_cancel(conference=conference, by=coordinator)
    sent = by_recipient(mail.outbox)
    assert set(sent) == {teacher.email, PARENT_EMAIL}
    for message in sent.values():
        assert calendar_part(message).get_param("method") == "CANCEL"
        assert calendar_of(message)["METHOD"] == "CANCEL"
        event = event_of(message)
        assert event["UID"] == uid
        assert str(event["STATUS"]) == "CANCELLED"
        assert event["SEQUENCE"] == 2  # higher than the last request's 1
        assert message.subject.endswith(f"Case conference cancelled {case.reference}")


# --- The canary: no protected text in any invitation, notification or log ----------------------------------------

CANARY = "CANARY-7f3a"


def test_no_protected_text_reaches_invitations_notifications_or_logs(
    coordinator: User,
    teacher: User,
    django_capture_on_commit_callbacks: Capture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    child = register_child(
        by=coordinator,
        given_name=f"Eliška{CANARY}",
        family_name=f"Nováková{CANARY}",
        address=f"Ulice {CANARY} 1, Olomouc",
        representatives=[
            RepresentativeInput(relation="mother", full_name=f"Matka {CANARY}", contact=f"+420 600 {CANARY}")
        ],
    )
    case = open_case(coordinator=coordinator, child=child)
    add_member(case, teacher, coordinator)
    for compartment in (Compartment.SOCIAL, Compartment.SCHOOL, Compartment.HEALTH):
        write_note(case, coordinator, compartment, f"Poznámka {compartment} {CANARY}")
    plan = plan_draft_start(case=case, by=coordinator)
    plan_save(
        plan=plan,
        by=coordinator,
        goals=[f"Cíl {CANARY}"],
        support_offered=f"Podpora {CANARY}",
        child_views=f"Názor dítěte {CANARY}",
        parents_views=f"Názor rodičů {CANARY}",
        next_review_on=None,
    )
    # An earlier conference, held: minutes and decisions with the marker.
    earlier = schedule(case, coordinator, [teacher], participants=[])
    Conference.objects.filter(pk=earlier.pk).update(starts_at=timezone.now() - datetime.timedelta(days=1))
    earlier.refresh_from_db()
    earlier = conference_record(
        conference=earlier,
        by=coordinator,
        attendance={str(i.pk): Attendance.ATTENDED for i in earlier.invitees.all()},
        child_participation=ChildParticipation.VIEWS_CONVEYED,
        minutes=f"Zápis {CANARY}",
    )
    conference_decision_add(conference=earlier, by=coordinator, text=f"Rozhodnutí {CANARY}")
    mail.outbox.clear()
    caplog.clear()
    notifications_before = set(Notification.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        conference = schedule(
            case,
            coordinator,
            [teacher],
            participants=[
                ParticipantInput(name=f"Otec {CANARY}", relation=ParticipantRelation.PARENT, email=PARENT_EMAIL),
                ParticipantInput(name=f"Dítě {CANARY}", relation=ParticipantRelation.CHILD, email="dite@example.cz"),
            ],
        )
    with django_capture_on_commit_callbacks(execute=True):
        conference = reschedule(conference, coordinator, online_link="https://meet.example.cz/x")
    with django_capture_on_commit_callbacks(execute=True):
        conference_cancel(conference=conference, by=coordinator)

    # The marker really is in the file (the lead reads it through the gate) ...
    invitees = list(ConferenceInvitee.objects.filter(conference=conference, user__isnull=True))
    names = gate.read_case(coordinator, case, invitees, ["name"], purpose="test")
    assert all(CANARY in (d.get("name") or "") for d in names)
    minutes = gate.read_case(coordinator, case, [earlier], ["minutes"], purpose="test")[0]
    assert CANARY in (minutes.get("minutes") or "")
    # ... and three rounds of e-mails went out: schedule, reschedule, cancel, to three addresses each.
    assert len(mail.outbox) == 9
    assert {m.to[0] for m in mail.outbox} == {teacher.email, PARENT_EMAIL, "dite@example.cz"}
    assert any(PLACE in "".join(texts_of(m)) for m in mail.outbox)  # the scan sees what the e-mails carry

    for message in mail.outbox:
        for text in texts_of(message):
            assert CANARY not in text
    new_rows = Notification.objects.exclude(pk__in=notifications_before)
    assert {r.kind for r in new_rows} == {
        Kind.CONFERENCE_INVITATION,
        Kind.CONFERENCE_CHANGED,
        Kind.CONFERENCE_CANCELLED,
    }
    for row in new_rows.values():
        assert CANARY not in str(row)
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert CANARY not in str(record.args)


# --- The reschedule page ------------------------------------------------------------------------------------------


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reschedule_url(conference: Conference) -> str:
    return reverse("conference_reschedule", kwargs={"case_id": conference.case_id, "conference_id": conference.pk})


def _form_data(starts: datetime.datetime, **overrides: str) -> dict[str, str]:
    data = {
        "starts_at": timezone.localtime(starts).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "60",
        "place": "Nová zasedačka",
        "online_link": "",
    }
    data.update(overrides)
    return data


def test_the_lead_reschedules_on_the_page_and_the_invitees_are_told(
    case: Case, coordinator: User, teacher: User, django_capture_on_commit_callbacks: Capture
) -> None:
    conference = schedule(case, coordinator, [teacher])
    detail = _client(coordinator).get(
        reverse("conference_detail", kwargs={"case_id": case.pk, "conference_id": conference.pk})
    )
    assert _reschedule_url(conference) in detail.content.decode()
    page = _client(coordinator).get(_reschedule_url(conference))
    assert page.status_code == 200
    assert page.context["form"].initial["place"] == PLACE
    new_start = _future(6)
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(coordinator).post(_reschedule_url(conference), _form_data(new_start))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "conference_detail", kwargs={"case_id": case.pk, "conference_id": conference.pk}
    )
    stored = Conference.objects.get(pk=conference.pk)
    assert (stored.sequence, stored.starts_at, stored.duration_minutes, stored.place) == (
        1,
        new_start,
        60,
        "Nová zasedačka",
    )
    assert set(by_recipient(mail.outbox)) == {teacher.email, PARENT_EMAIL}


def test_the_reschedule_page_is_the_leads_only(
    case: Case, coordinator: User, teacher: User, foreign_worker: User
) -> None:
    conference = schedule(case, coordinator, [teacher])
    assert _client(foreign_worker).get(_reschedule_url(conference)).status_code == 404
    assert _client(teacher).get(_reschedule_url(conference)).status_code == 403
    assert _client(teacher).post(_reschedule_url(conference), _form_data(_future(6))).status_code == 403
    detail = _client(teacher).get(
        reverse("conference_detail", kwargs={"case_id": case.pk, "conference_id": conference.pk})
    )
    assert detail.status_code == 200
    assert _reschedule_url(conference) not in detail.content.decode()
    assert Conference.objects.get(pk=conference.pk).sequence == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": "past"}, "starts_at"),
        ({"duration_minutes": "1000"}, "duration_minutes"),
        ({"place": "", "online_link": ""}, "place"),
        ({"starts_at": "not a date"}, "starts_at"),
    ],
)
def test_a_wrong_reschedule_shows_field_errors_and_changes_nothing(
    case: Case,
    coordinator: User,
    teacher: User,
    django_capture_on_commit_callbacks: Capture,
    overrides: dict[str, str],
    field: str,
) -> None:
    conference = schedule(case, coordinator, [teacher])
    data = _form_data(_future(6), **overrides)
    if overrides.get("starts_at") == "past":
        data["starts_at"] = timezone.localtime(timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(coordinator).post(_reschedule_url(conference), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "errorlist" in response.content.decode()
    stored = Conference.objects.get(pk=conference.pk)
    assert (stored.sequence, stored.starts_at, stored.place) == (0, conference.starts_at, PLACE)
    assert mail.outbox == []
    assert not Notification.objects.filter(kind=Kind.CONFERENCE_CHANGED).exists()


def test_a_cancelled_conference_cannot_be_rescheduled_on_the_page(case: Case, coordinator: User, teacher: User) -> None:
    conference = schedule(case, coordinator, [teacher])
    conference_cancel(conference=conference, by=coordinator)
    detail = reverse("conference_detail", kwargs={"case_id": case.pk, "conference_id": conference.pk})
    for response in (
        _client(coordinator).get(_reschedule_url(conference)),
        _client(coordinator).post(_reschedule_url(conference), _form_data(_future(6))),
    ):
        assert response.status_code == 302
        assert response["Location"] == detail
    stored = Conference.objects.get(pk=conference.pk)
    assert (stored.status, stored.sequence) == (ConferenceStatus.CANCELLED, 1)


def test_news_out_of_date_when_the_commit_comes_is_not_sent(
    case: Case, coordinator: User, teacher: User, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        conference = schedule(case, coordinator, [teacher])
    with django_capture_on_commit_callbacks(execute=True):
        conference_cancel(conference=conference, by=coordinator)
    assert {calendar_of(m)["METHOD"] for m in mail.outbox} == {"CANCEL"}
    cancellations = len(mail.outbox)
    for callback in scheduled:
        callback()  # the invitation's turn comes after the cancellation: nothing goes out
    assert len(mail.outbox) == cancellations


def test_invitation_email_keeps_the_online_link_as_typed(settings: Any) -> None:
    """The text body of an invitation is plain text: a meeting link with ``&`` arrives clickable, not as ``&amp;``."""
    from types import SimpleNamespace

    from casework.services.invitations import Notice, render_message

    settings.NOTIFICATIONS_SITE_URL = "https://spod.example.cz"
    link = "https://meet.example.cz/j/42?pwd=a1&lang=cs"
    conference = SimpleNamespace(
        starts_at=timezone.now(),
        ends_at=timezone.now() + datetime.timedelta(hours=1),
        duration_minutes=60,
        place="Zasedačka <B> & spol.",
        online_link=link,
    )
    case = SimpleNamespace(reference="OM 2026/0042")
    _, body = render_message(conference, case=case, notice=Notice.INVITATION)  # type: ignore[arg-type]
    assert f"Online link: {link}" in body
    assert "Zasedačka <B> & spol." in body
    assert "&amp;" not in body
    assert "&lt;" not in body
