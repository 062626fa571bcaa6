"""Duty triage (quality standard 1b: 24/7 availability): the OSPOD worker on the duty roster triages urgent reports
and opens the case, the supervisors are told; outside the roster, and for standard reports, only supervisors triage.
The roster refuses overlapping shifts of the same person with a field error and writes nothing."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from casework.models import DutyShift, Report, ReportStatus, Role, User
from casework.services.competence import duty_shift_add
from notifications.models import Kind, Notification
from permissions.access import load_report_access
from permissions.models import AuditEvent
from tests.factories import UserFactory, school_partner
from workflows import selectors, tasks

from .conftest import child_identity, client_for, file_report, html, triage, triage_task

pytestmark = pytest.mark.django_db

PRAGUE = ZoneInfo("Europe/Prague")
FRIDAY_EVENING = datetime.datetime(2026, 4, 17, 18, 0, tzinfo=PRAGUE)
SATURDAY_NIGHT = datetime.datetime(2026, 4, 18, 2, 0, tzinfo=PRAGUE)
MONDAY_MORNING = datetime.datetime(2026, 4, 20, 7, 0, tzinfo=PRAGUE)
MONDAY_NOON = datetime.datetime(2026, 4, 20, 12, 0, tzinfo=PRAGUE)
THURSDAY = datetime.datetime(2026, 4, 16, 10, 0, tzinfo=PRAGUE)


@pytest.fixture
def weekend_duty(supervisor: User, coordinator: User) -> DutyShift:
    """The coordinator is on duty from Friday 18:00 to Monday 7:00."""
    return duty_shift_add(worker=coordinator, starts_at=FRIDAY_EVENING, ends_at=MONDAY_MORNING, by=supervisor)


def _urgent(teacher: User) -> Report:
    return file_report(teacher, residence_municipality="Olomouc", urgency_hints=["without_care"])


def _queue(user: User) -> list[str | None]:
    return [row.report_reference for row in selectors.team_queue(user=user, task_type="triage").rows]


@pytest.mark.parametrize(
    ("moment", "urgent", "worker_may"),
    [
        (SATURDAY_NIGHT, True, True),  # on duty, urgent
        (SATURDAY_NIGHT, False, False),  # on duty, standard: the supervisors' on Monday
        (FRIDAY_EVENING, True, True),  # the first minute of the shift
        (MONDAY_MORNING, True, False),  # the shift has ended (until is exclusive)
        (THURSDAY, True, False),  # before the shift
    ],
)
def test_who_triages_by_the_roster_and_the_urgency(
    teacher: User,
    supervisor: User,
    coordinator: User,
    weekend_duty: DutyShift,
    moment: datetime.datetime,
    urgent: bool,
    worker_may: bool,
) -> None:
    with time_machine.travel(moment, tick=False):
        hints = ["without_care"] if urgent else []
        report = file_report(teacher, residence_municipality="Olomouc", urgency_hints=hints)
        assert load_report_access(coordinator, report).may_triage is worker_may
        assert load_report_access(coordinator, report).visible is worker_may
        assert load_report_access(supervisor, report).may_triage is True
        assert (report.reference in _queue(coordinator)) is worker_may
        assert selectors.has_team_queue(coordinator) is (moment < MONDAY_MORNING and moment >= FRIDAY_EVENING)
        if not worker_may:
            with pytest.raises(PermissionDenied):
                tasks.task_claim(task=triage_task(report), user=coordinator)


def test_worker_on_duty_triages_an_urgent_report_opens_the_case_and_the_supervisors_are_told(
    teacher: User, supervisor: User, coordinator: User, weekend_duty: DutyShift
) -> None:
    second = UserFactory.create(username="vedouci2", role=Role.SUPERVISOR, organisation=supervisor.organisation)
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        report = _urgent(teacher)
        page = client_for(coordinator).get(reverse("inbox"))
        assert report.reference in html(page)
        triage(report, coordinator, urgent=True, at_risk=True, coordinator=coordinator, child=child_identity())
    report.refresh_from_db()
    assert report.status == ReportStatus.CASE_OPENED
    assert report.decided_by_id == coordinator.pk
    assert report.case is not None
    assert report.case.coordinator_id == coordinator.pk
    told = Notification.objects.filter(kind=Kind.DUTY_TRIAGE)
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted([supervisor.pk, second.pk])
    assert {n.case_reference for n in told} == {report.reference}
    assert all(n.urgent for n in told)
    assert AuditEvent.objects.filter(actor=coordinator, object_type="casework.report", purpose="triage report").exists()


def test_supervisor_triage_tells_nobody_on_duty(teacher: User, supervisor: User, coordinator: User) -> None:
    report = _urgent(teacher)
    triage(report, supervisor, urgent=True, at_risk=True, coordinator=coordinator, child=child_identity())
    assert not Notification.objects.filter(kind=Kind.DUTY_TRIAGE).exists()


def test_a_worker_not_on_the_roster_cannot_take_an_urgent_triage(
    teacher: User, supervisor: User, coordinator: User, weekend_duty: DutyShift
) -> None:
    colleague = UserFactory.create(username="kolega", role=Role.OSPOD_WORKER, organisation=coordinator.organisation)
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        report = _urgent(teacher)
        assert _queue(colleague) == []
        with pytest.raises(PermissionDenied):
            tasks.task_claim(task=triage_task(report), user=colleague)


# --- The roster and its bad input ------------------------------------------------------------------------------------


def test_overlapping_shifts_of_the_same_person_are_refused(
    supervisor: User, coordinator: User, weekend_duty: DutyShift
) -> None:
    overlapping = [
        (FRIDAY_EVENING - datetime.timedelta(hours=2), FRIDAY_EVENING + datetime.timedelta(hours=1)),
        (SATURDAY_NIGHT, SATURDAY_NIGHT + datetime.timedelta(hours=3)),
        (THURSDAY, MONDAY_NOON),
    ]
    for starts_at, ends_at in overlapping:
        with pytest.raises(ValidationError) as raised:
            duty_shift_add(worker=coordinator, starts_at=starts_at, ends_at=ends_at, by=supervisor)
        assert "starts_at" in raised.value.message_dict
    assert DutyShift.objects.count() == 1
    # Back to back is not an overlap; another person on the same night is fine.
    duty_shift_add(worker=coordinator, starts_at=MONDAY_MORNING, ends_at=MONDAY_NOON, by=supervisor)
    duty_shift_add(worker=supervisor, starts_at=SATURDAY_NIGHT, ends_at=MONDAY_NOON, by=supervisor)
    assert DutyShift.objects.count() == 3
    assert AuditEvent.objects.filter(object_type="casework.dutyshift", purpose="add duty shift").count() == 3


def test_roster_bad_input_is_field_errors_all_at_once(
    supervisor: User, coordinator: User, foreign_supervisor: User
) -> None:
    assert supervisor.organisation is not None
    partner = school_partner(municipality=supervisor.organisation.municipality)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"worker": None, "starts_at": None, "ends_at": None}, {"worker", "starts_at", "ends_at"}),
        ({"worker": coordinator, "starts_at": SATURDAY_NIGHT, "ends_at": SATURDAY_NIGHT}, {"ends_at"}),
        ({"worker": foreign_supervisor, "starts_at": FRIDAY_EVENING, "ends_at": MONDAY_MORNING}, {"worker"}),
        ({"worker": partner, "starts_at": MONDAY_MORNING, "ends_at": FRIDAY_EVENING}, {"worker", "ends_at"}),
    ]
    for arguments, fields in cases:
        with pytest.raises(ValidationError) as raised:
            duty_shift_add(by=supervisor, **arguments)
        assert set(raised.value.message_dict) == fields
    assert DutyShift.objects.count() == 0


def test_only_supervisors_keep_the_roster(supervisor: User, coordinator: User) -> None:
    with pytest.raises(PermissionDenied):
        duty_shift_add(worker=coordinator, starts_at=FRIDAY_EVENING, ends_at=MONDAY_MORNING, by=coordinator)
    assert DutyShift.objects.count() == 0
    denied = client_for(coordinator).post(
        reverse("competence"),
        {"duty-worker": coordinator.pk, "duty-starts_at": "2026-04-17T18:00", "duty-ends_at": "2026-04-20T07:00"},
    )
    assert denied.status_code == 403
    assert DutyShift.objects.count() == 0


def test_roster_page_adds_a_shift_and_shows_field_errors(supervisor: User, coordinator: User) -> None:
    client = client_for(supervisor)
    added = client.post(
        reverse("competence"),
        {"duty-worker": coordinator.pk, "duty-starts_at": "2026-04-17T18:00", "duty-ends_at": "2026-04-20T07:00"},
    )
    assert added.status_code == 302
    assert DutyShift.objects.get().starts_at == FRIDAY_EVENING
    again = client.post(
        reverse("competence"),
        {"duty-worker": coordinator.pk, "duty-starts_at": "2026-04-18T08:00", "duty-ends_at": "2026-04-18T20:00"},
    )
    assert again.status_code == 200
    assert 'id="id_duty-starts_at_error"' in html(again)
    assert DutyShift.objects.count() == 1
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        page = html(client_for(coordinator).get(reverse("competence")))
    assert coordinator.last_name in page
    assert "duty-worker" not in page  # workers see the roster, not the form
