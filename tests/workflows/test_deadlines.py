"""Deadlines: the legal and local due dates (Europe/Prague, month arithmetic, weekends and Czech holidays), the
authority's settings, and the services that set, finish and reassign a deadline.

Dates used below, from the Czech calendar: 2026 — Good Friday 3 April, Easter Monday 6 April, 1 May (Fri), 17 November
(Tue), 24 to 26 December (Thu to Sat); 2027 — Easter Monday 29 March. 28 February 2026 is a Saturday, 28 February 2027 a
Sunday.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from viewflow.workflow.models import Process, Task

from casework.models import Case, CloseReason, Municipality, Organisation, Role, User
from casework.services import case_close
from tests.factories import UserFactory, add_member, open_case, school_partner
from workflows.deadlines import (
    PRAGUE,
    add_months,
    feedback_due,
    ipod_due,
    is_working_day,
    next_working_day,
    review_due,
    triage_due,
    working_deadline,
)
from workflows.models import AuthoritySettings, Deadline, DeadlineKind
from workflows.services import deadline_done, deadline_done_for_task, deadline_reassign, deadline_set

D = datetime.date
UTC = datetime.UTC


def at(day: str, time: str = "10:00") -> datetime.datetime:
    """A moment on the Prague wall clock."""
    return datetime.datetime.fromisoformat(f"{day} {time}").replace(tzinfo=PRAGUE)


def due_day(moment: datetime.datetime) -> datetime.date:
    """The last day of a day-based deadline; checks it ends at the very end of that Prague day."""
    local = moment.astimezone(PRAGUE)
    assert local.time() == datetime.time.max
    return local.date()


# --- Pure arithmetic -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 15), 1, D(2026, 2, 15)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 12, 31), 2, D(2027, 2, 28)),
        (D(2026, 10, 31), 12, D(2027, 10, 31)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_number_or_takes_the_last_day(
    day: datetime.date, months: int, expected: datetime.date
) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 12, 17), D(2026, 12, 17)),  # a Thursday at work stays
        (D(2026, 2, 28), D(2026, 3, 2)),  # Saturday → Monday
        (D(2026, 11, 17), D(2026, 11, 18)),  # Struggle for Freedom and Democracy Day (Tue)
        (D(2026, 12, 24), D(2026, 12, 28)),  # Christmas Eve, Christmas Day, St Stephen's on Saturday, Sunday
        (D(2026, 4, 3), D(2026, 4, 7)),  # Good Friday, the weekend, Easter Monday
        (D(2026, 5, 1), D(2026, 5, 4)),  # Labour Day on a Friday
        (D(2026, 7, 5), D(2026, 7, 7)),  # Cyril and Methodius (Sun), Jan Hus (Mon)
        (D(2027, 1, 1), D(2027, 1, 4)),
    ],
)
def test_a_last_day_off_work_moves_to_the_next_working_day(day: datetime.date, expected: datetime.date) -> None:
    assert next_working_day(day) == expected
    assert is_working_day(expected)


def test_working_deadline_ends_at_the_end_of_the_prague_day() -> None:
    due = working_deadline(D(2026, 2, 28))
    assert due == datetime.datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=PRAGUE)
    assert due.utcoffset() == datetime.timedelta(hours=1)
    summer = working_deadline(D(2026, 7, 15))
    assert summer.astimezone(UTC) == datetime.datetime(2026, 7, 15, 21, 59, 59, 999999, tzinfo=UTC)


# --- The statutory deadlines ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened", "plan_due"),
    [
        (at("2026-01-15"), D(2026, 2, 16)),  # 15 February 2026 is a Sunday
        (at("2026-02-10"), D(2026, 3, 10)),
        (at("2026-01-31"), D(2026, 3, 2)),  # → 28 February, a Saturday → Monday 2 March
        (at("2028-01-31"), D(2028, 2, 29)),  # leap year: 29 February 2028 is a Tuesday
        (at("2026-03-31"), D(2026, 4, 30)),  # April has no 31st
        (at("2026-10-17"), D(2026, 11, 18)),  # due on 17 November, a holiday
        (at("2026-11-17"), D(2026, 12, 17)),  # opened on the holiday (24/7 duty): due one month later, a Thursday
        (at("2026-11-24"), D(2026, 12, 28)),  # due on Christmas Eve → after Christmas and the weekend
    ],
)
def test_protection_plan_is_due_one_month_after_the_case_opened(
    opened: datetime.datetime, plan_due: datetime.date
) -> None:
    assert due_day(ipod_due(opened)) == plan_due


def test_protection_plan_counts_from_the_prague_day_the_case_opened() -> None:
    # 31 March 2026, 22:30 UTC is already 1 April in Prague (summer time): due 1 May, a holiday (Fri) → 4 May.
    opened = datetime.datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    assert due_day(ipod_due(opened)) == D(2026, 5, 4)
    # The same instant seen from elsewhere changes nothing.
    assert ipod_due(opened.astimezone(ZoneInfo("America/New_York"))) == ipod_due(opened)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        ipod_due(datetime.datetime(2026, 1, 15, 10, 0))  # naive on purpose


@pytest.mark.parametrize(
    ("received", "feedback_by"),
    [
        (at("2026-03-01"), D(2026, 3, 31)),  # 30 days after receipt, the day of receipt not counted
        (at("2026-11-25", "23:50"), D(2026, 12, 28)),  # 25 December (holiday) → Monday 28 December
        (at("2026-10-18"), D(2026, 11, 18)),  # 17 November (holiday) → 18 November
        (at("2027-02-27"), D(2027, 3, 30)),  # 29 March 2027 is Easter Monday
    ],
)
def test_notifier_feedback_is_due_30_days_after_receipt(
    received: datetime.datetime, feedback_by: datetime.date
) -> None:
    assert due_day(feedback_due(received)) == feedback_by


@pytest.mark.parametrize(
    ("last", "months", "expected"),
    [
        (D(2026, 1, 20), 3, D(2026, 4, 20)),
        (D(2026, 11, 30), 3, D(2027, 3, 1)),  # → 28 February 2027, a Sunday
        (D(2026, 9, 24), 3, D(2026, 12, 28)),  # → Christmas Eve
        (D(2026, 6, 17), 5, D(2026, 11, 18)),  # an authority's own interval, due on 17 November
    ],
)
def test_plan_review_is_due_after_the_interval(last: datetime.date, months: int, expected: datetime.date) -> None:
    assert due_day(review_due(last, months)) == expected


def test_review_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one month"):
        review_due(D(2026, 1, 1), 0)


# --- Urgency triage (local defaults) -------------------------------------------------------------------------------


def test_urgent_triage_is_due_24_hours_after_receipt_weekends_and_holidays_included() -> None:
    times = AuthoritySettings()  # the defaults: 24 hours, 7 days
    received = at("2026-12-24", "10:00")  # Christmas Eve
    assert triage_due(received, urgent=True, settings=times) == at("2026-12-25", "10:00")
    saturday = at("2026-02-28", "18:30")
    assert triage_due(saturday, urgent=True, settings=times) == at("2026-03-01", "18:30")


def test_urgent_triage_counts_real_hours_across_the_clock_change() -> None:
    # Summer time starts on 29 March 2026 at 2:00: 24 hours after Saturday noon is Sunday 13:00 on the wall clock.
    received = at("2026-03-28", "12:00")
    due = triage_due(received, urgent=True, settings=AuthoritySettings())
    assert due.astimezone(UTC) - received.astimezone(UTC) == datetime.timedelta(hours=24)
    assert due.astimezone(PRAGUE).replace(tzinfo=None) == datetime.datetime(2026, 3, 29, 13, 0)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (at("2026-01-12"), D(2026, 1, 19)),  # Monday + 7 = Monday
        (at("2026-12-17"), D(2026, 12, 28)),  # → Christmas Eve → Monday 28 December
        (at("2026-03-30"), D(2026, 4, 7)),  # → Easter Monday 6 April → Tuesday
        (at("2027-03-22"), D(2027, 3, 30)),  # → Easter Monday 29 March 2027 → Tuesday
        (at("2026-04-24", "23:59"), D(2026, 5, 4)),  # → 1 May (Fri) → Monday
    ],
)
def test_standard_triage_is_due_seven_days_after_receipt_rolled(
    received: datetime.datetime, expected: datetime.date
) -> None:
    assert due_day(triage_due(received, urgent=False, settings=AuthoritySettings())) == expected


def test_triage_uses_the_authoritys_own_times() -> None:
    times = AuthoritySettings(urgent_hours=12, standard_days=3)
    assert triage_due(at("2026-01-12", "08:00"), urgent=True, settings=times) == at("2026-01-12", "20:00")
    assert due_day(triage_due(at("2026-01-14"), urgent=False, settings=times)) == D(2026, 1, 19)  # Sat → Mon


# --- The authority's settings --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_authority_without_settings_gets_the_defaults_and_nothing_is_written(olomouc: Municipality) -> None:
    found = AuthoritySettings.for_municipality(olomouc)
    assert found.pk is None
    assert (found.urgent_hours, found.standard_days, found.review_months) == (24, 7, 3)
    assert (found.due_soon_days, found.escalation_grace_days) == (2, 2)
    assert AuthoritySettings.for_municipality(olomouc.pk).municipality_id == olomouc.pk
    assert not AuthoritySettings.objects.exists()


@pytest.mark.django_db
def test_an_authority_with_settings_gets_its_own(olomouc: Municipality, prostejov: Municipality) -> None:
    AuthoritySettings.objects.create(municipality=olomouc, review_months=6, escalation_grace_days=5)
    assert AuthoritySettings.for_municipality(olomouc).review_months == 6
    assert AuthoritySettings.for_municipality(prostejov).review_months == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("urgent_hours", 0),
        ("urgent_hours", 73),
        ("standard_days", 0),
        ("review_months", 13),
        ("due_soon_days", 15),
        ("escalation_grace_days", 0),
    ],
)
def test_settings_out_of_range_are_refused_by_the_form_and_the_database(
    olomouc: Municipality, field: str, value: int
) -> None:
    row = AuthoritySettings(municipality=olomouc, **{field: value})
    with pytest.raises(ValidationError) as error:
        row.full_clean()
    assert field in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


# --- Services ------------------------------------------------------------------------------------------------------


NOW = at("2026-12-01", "09:00")


@pytest.fixture
def frozen(time_machine: time_machine.TimeMachineFixture) -> datetime.datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def case(coordinator: User, frozen: datetime.datetime) -> Case:
    return open_case(coordinator=coordinator)


def _task() -> Task:
    """A bare viewflow task row (no flow class: these tests only need the row the deadline points at)."""
    process = Process.objects.create(flow_class="")
    return Task.objects.create(process=process, flow_task="", flow_task_type="HUMAN")


@pytest.mark.django_db
def test_deadline_set_records_one_row_with_ids_only(case: Case, coordinator: User, teacher: User) -> None:
    add_member(case, teacher, coordinator)
    due = working_deadline(D(2026, 12, 10))
    task = _task()
    deadline = deadline_set(
        kind=DeadlineKind.INPUT, due_at=due, owner=teacher, case=case, municipality=case.municipality, task=task
    )
    row = Deadline.objects.get()
    assert row == deadline
    assert (row.kind, row.owner, row.case, row.municipality, row.task_id, row.due_at) == (
        "input",
        teacher,
        case,
        case.municipality,
        task.pk,
        due,
    )
    assert row.done_at is None
    assert row.due_soon_notified_at is None
    assert row.overdue_notified_at is None
    assert row.escalated_to_coordinator_at is None
    assert row.escalated_to_supervisor_at is None
    assert task.deadline == row


@pytest.mark.django_db
def test_a_shared_queue_deadline_has_no_owner_and_may_have_no_case(
    olomouc: Municipality, frozen: datetime.datetime
) -> None:
    due = triage_due(NOW, urgent=False, settings=AuthoritySettings.for_municipality(olomouc))
    deadline = deadline_set(
        kind=DeadlineKind.TRIAGE, due_at=due, owner=None, municipality=olomouc, reference="OZN OM 2026/0007"
    )
    assert (deadline.owner, deadline.case, deadline.reference) == (None, None, "OZN OM 2026/0007")


@pytest.mark.django_db
def test_a_due_date_in_the_past_is_refused_unless_backfilling(case: Case, coordinator: User) -> None:
    yesterday = working_deadline(D(2026, 11, 30))
    with pytest.raises(ValidationError) as error:
        deadline_set(
            kind=DeadlineKind.PLAN, due_at=yesterday, owner=coordinator, case=case, municipality=case.municipality
        )
    assert list(error.value.message_dict) == ["due_at"]
    assert not Deadline.objects.exists()
    deadline_set(
        kind=DeadlineKind.PLAN,
        due_at=yesterday,
        owner=coordinator,
        case=case,
        municipality=case.municipality,
        allow_past=True,
    )
    assert Deadline.objects.count() == 1


@pytest.mark.django_db
def test_a_naive_due_date_is_refused(case: Case, coordinator: User) -> None:
    with pytest.raises(ValidationError) as error:
        deadline_set(
            kind=DeadlineKind.PLAN,
            due_at=datetime.datetime(2026, 12, 31, 12, 0),  # naive on purpose
            owner=coordinator,
            case=case,
            municipality=case.municipality,
        )
    assert list(error.value.message_dict) == ["due_at"]


@pytest.mark.django_db
def test_bad_input_is_refused_field_by_field_and_nothing_is_written(
    case: Case, coordinator: User, prostejov: Municipality
) -> None:
    outsider = school_partner(municipality=case.municipality)  # not on the team
    with pytest.raises(ValidationError) as error:
        deadline_set(
            kind="homework",
            due_at=ipod_due(case.opened_at),
            owner=outsider,
            case=case,
            municipality=prostejov,
            reference="X" * 25,
        )
    assert set(error.value.message_dict) == {"kind", "owner", "municipality", "reference"}
    assert not Deadline.objects.exists()


@pytest.mark.django_db
def test_the_owner_must_be_able_to_act(
    case: Case, coordinator: User, supervisor: User, teacher: User, foreign_worker: User
) -> None:
    due = ipod_due(case.opened_at)
    add_member(case, teacher, coordinator)
    for owner in (coordinator, supervisor, teacher):
        deadline_set(kind=DeadlineKind.INPUT, due_at=due, owner=owner, case=case, municipality=case.municipality)
    refused = [foreign_worker, UserFactory.create(role=Role.DPO, organisation=coordinator.organisation)]
    teacher_gone = UserFactory.create(role=Role.PARTNER, organisation=teacher.organisation, is_active=False)
    for owner in [*refused, teacher_gone]:
        with pytest.raises(ValidationError) as error:
            deadline_set(kind=DeadlineKind.INPUT, due_at=due, owner=owner, case=case, municipality=case.municipality)
        assert list(error.value.message_dict) == ["owner"]
    # Without a case: OSPOD staff of the authority only.
    deadline_set(kind=DeadlineKind.FEEDBACK, due_at=due, owner=supervisor, municipality=case.municipality)
    with pytest.raises(ValidationError) as error:
        deadline_set(kind=DeadlineKind.FEEDBACK, due_at=due, owner=teacher, municipality=case.municipality)
    assert list(error.value.message_dict) == ["owner"]
    assert Deadline.objects.count() == 4


@pytest.mark.django_db
def test_a_closed_case_takes_no_deadline(case: Case, coordinator: User) -> None:
    case_close(case=case, closed_by=coordinator, reason=CloseReason.GOALS_MET)
    with pytest.raises(ValidationError) as error:
        deadline_set(
            kind=DeadlineKind.REVIEW,
            due_at=review_due(D(2026, 12, 1), 3),
            owner=coordinator,
            case=case,
            municipality=case.municipality,
        )
    assert list(error.value.message_dict) == ["case"]


@pytest.mark.django_db
def test_one_deadline_per_task(case: Case, coordinator: User) -> None:
    task = _task()
    due = ipod_due(case.opened_at)
    deadline_set(
        kind=DeadlineKind.PLAN, due_at=due, owner=coordinator, case=case, municipality=case.municipality, task=task
    )
    with pytest.raises(ValidationError) as error:
        deadline_set(
            kind=DeadlineKind.PLAN, due_at=due, owner=coordinator, case=case, municipality=case.municipality, task=task
        )
    assert list(error.value.message_dict) == ["task"]
    finished = _task()
    finished.finished = NOW
    finished.save(update_fields=["finished"])
    with pytest.raises(ValidationError) as error:
        deadline_set(
            kind=DeadlineKind.PLAN,
            due_at=due,
            owner=coordinator,
            case=case,
            municipality=case.municipality,
            task=finished,
        )
    assert list(error.value.message_dict) == ["task"]


@pytest.mark.django_db
def test_deadline_done_is_idempotent(
    case: Case, coordinator: User, time_machine: time_machine.TimeMachineFixture
) -> None:
    deadline = deadline_set(
        kind=DeadlineKind.PLAN,
        due_at=ipod_due(case.opened_at),
        owner=coordinator,
        case=case,
        municipality=case.municipality,
    )
    deadline_done(deadline=deadline)
    assert deadline.done_at == NOW
    time_machine.move_to(at("2026-12-02"), tick=False)
    again = deadline_done(deadline=Deadline.objects.get(pk=deadline.pk))
    assert again.done_at == NOW
    assert Deadline.objects.open().count() == 0


@pytest.mark.django_db
def test_deadline_done_for_task_closes_the_tasks_deadline_if_any(case: Case, coordinator: User) -> None:
    task = _task()
    assert deadline_done_for_task(task=task) is None
    deadline_set(
        kind=DeadlineKind.ASSESSMENT,
        due_at=ipod_due(case.opened_at),
        owner=coordinator,
        case=case,
        municipality=case.municipality,
        task=task,
    )
    done = deadline_done_for_task(task=task)
    assert done is not None
    assert done.done_at == NOW
    assert Deadline.objects.get().done_at == NOW


@pytest.mark.django_db
def test_reassigning_clears_the_owners_warnings_but_not_the_escalations(
    case: Case, coordinator: User, teacher: User, school: Organisation
) -> None:
    add_member(case, teacher, coordinator)
    colleague = UserFactory.create(role=Role.PARTNER, organisation=school)
    add_member(case, colleague, coordinator)
    deadline = deadline_set(
        kind=DeadlineKind.PLAN_ACTION,
        due_at=working_deadline(D(2026, 12, 10)),
        owner=teacher,
        case=case,
        municipality=case.municipality,
    )
    Deadline.objects.filter(pk=deadline.pk).update(
        due_soon_notified_at=NOW, overdue_notified_at=NOW, escalated_to_coordinator_at=NOW
    )
    moved = deadline_reassign(deadline=deadline, owner=colleague)
    row = Deadline.objects.get()
    assert moved.owner == colleague
    assert row.owner == colleague
    assert (row.due_soon_notified_at, row.overdue_notified_at) == (None, None)
    assert row.escalated_to_coordinator_at == NOW
    # Same owner again: nothing changes.
    Deadline.objects.filter(pk=deadline.pk).update(overdue_notified_at=NOW)
    deadline_reassign(deadline=row, owner=colleague)
    assert Deadline.objects.get().overdue_notified_at == NOW
    # Back to the shared queue.
    assert deadline_reassign(deadline=row, owner=None).owner is None


@pytest.mark.django_db
def test_reassigning_is_refused_for_an_outsider_or_a_done_deadline(case: Case, coordinator: User) -> None:
    deadline = deadline_set(
        kind=DeadlineKind.PLAN,
        due_at=ipod_due(case.opened_at),
        owner=coordinator,
        case=case,
        municipality=case.municipality,
    )
    outsider = school_partner(municipality=case.municipality)
    with pytest.raises(ValidationError) as error:
        deadline_reassign(deadline=deadline, owner=outsider)
    assert list(error.value.message_dict) == ["owner"]
    deadline_done(deadline=deadline)
    with pytest.raises(ValidationError) as error:
        deadline_reassign(deadline=deadline, owner=coordinator)
    assert list(error.value.message_dict) == ["deadline"]
    assert Deadline.objects.get().owner == coordinator


@pytest.mark.django_db
def test_no_column_holds_free_text() -> None:
    text_columns = {
        f.name for f in Deadline._meta.concrete_fields if f.get_internal_type() in {"CharField", "TextField"}
    }
    assert text_columns == {"kind", "reference"}
    assert Deadline._meta.get_field("reference").max_length == 24
    assert set(DeadlineKind.values) >= {
        "triage",
        "feedback",
        "input",
        "assessment",
        "plan",
        "plan_approval",
        "review",
        "closure_approval",
        "plan_action",
    }
