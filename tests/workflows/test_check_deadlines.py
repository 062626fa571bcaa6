"""``check_deadlines``: warnings and escalations, each exactly once, in the order owner → coordinator → supervisors.

Time is frozen and moved between runs the way the minutes pass in production. The running example: a teacher's input
to the assessment is due on Thursday 10 December 2026 (the end of that day, Prague); the defaults warn 2 days
before and escalate after 2 days' grace (coordinator) and 4 days (supervisors).
"""

from __future__ import annotations

import datetime
import io
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from casework.models import Case, CloseReason, Municipality, Organisation, Role, User
from casework.services import case_close
from notifications.models import Kind, Notification
from tests.factories import UserFactory, add_member, open_case
from workflows.deadlines import PRAGUE, working_deadline
from workflows.models import AuthoritySettings, Deadline, DeadlineKind
from workflows.services import deadline_done, deadline_reassign, deadline_set, deadlines_check

pytestmark = pytest.mark.django_db

DUE = working_deadline(datetime.date(2026, 12, 10))


def at(day: str, time: str = "08:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day} {time}").replace(tzinfo=PRAGUE)


Notice = tuple[str, str, str, bool]  # recipient's username, kind, case reference, urgent


@pytest.fixture
def clock(time_machine: time_machine.TimeMachineFixture) -> Callable[[datetime.datetime], None]:
    time_machine.move_to(at("2026-12-01", "09:00"), tick=False)

    def move(moment: datetime.datetime) -> None:
        time_machine.move_to(moment, tick=False)

    return move


@pytest.fixture
def run(clock: Callable[[datetime.datetime], None]) -> Callable[[datetime.datetime], list[Notice]]:
    """Run the command at ``moment``; return the notifications it wrote (in order)."""

    def run_at(moment: datetime.datetime) -> list[Notice]:
        clock(moment)
        before = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
        call_command("check_deadlines", stdout=io.StringIO())
        return [
            (username, kind, reference, urgent)
            for username, kind, reference, urgent in Notification.objects.filter(id__gt=before)
            .order_by("id")
            .values_list("recipient__username", "kind", "case_reference", "urgent")
        ]

    return run_at


@pytest.fixture
def supervisors(ospod: Organisation, supervisor: User, foreign_worker: User) -> list[User]:
    """The authority's active supervisors (two), plus one who left and one of another authority: never told."""
    second = UserFactory.create(username="vedouci2", role=Role.SUPERVISOR, organisation=ospod)
    UserFactory.create(username="vedouci-odesla", role=Role.SUPERVISOR, organisation=ospod, is_active=False)
    UserFactory.create(username="vedouci-pv", role=Role.SUPERVISOR, organisation=foreign_worker.organisation)
    return [supervisor, second]


@pytest.fixture
def case(coordinator: User, teacher: User, clock: Callable[[datetime.datetime], None]) -> Case:
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    return case


def _set(case: Case, owner: User | None, due: datetime.datetime = DUE, **kwargs: object) -> Deadline:
    return deadline_set(
        kind=kwargs.pop("kind", DeadlineKind.INPUT),  # type: ignore[arg-type]
        due_at=due,
        owner=owner,
        case=case,
        municipality=case.municipality,
        **kwargs,  # type: ignore[arg-type]
    )


def test_escalation_goes_owner_then_coordinator_then_supervisors_each_once(
    run: Callable[[datetime.datetime], list[Notice]], case: Case, teacher: User, supervisors: list[User]
) -> None:
    deadline = _set(case, teacher)
    ref = case.reference
    assert run(at("2026-12-07")) == []
    assert run(at("2026-12-08", "23:59")) == []  # 2 days and a minute before the end of 10 December
    assert run(at("2026-12-09", "00:01")) == [("ucitelka", Kind.TASK_DUE_SOON, ref, False)]
    assert run(at("2026-12-09", "00:02")) == []
    assert run(at("2026-12-10", "23:59")) == []  # due today: not overdue yet
    assert run(at("2026-12-11", "00:00")) == [("ucitelka", Kind.TASK_OVERDUE, ref, False)]
    assert run(at("2026-12-12", "23:59")) == []  # within the grace
    assert run(at("2026-12-13", "00:00")) == [("koord", Kind.ESCALATION, ref, True)]
    assert run(at("2026-12-14", "23:59")) == []
    assert run(at("2026-12-15", "00:00")) == [
        ("vedouci", Kind.ESCALATION, ref, True),
        ("vedouci2", Kind.ESCALATION, ref, True),
    ]
    assert run(at("2027-01-31")) == []
    row = Deadline.objects.get()
    assert row.due_soon_notified_at == at("2026-12-09", "00:01")
    assert row.overdue_notified_at == at("2026-12-11", "00:00")
    assert row.escalated_to_coordinator_at == at("2026-12-13", "00:00")
    assert row.escalated_to_supervisor_at == at("2026-12-15", "00:00")
    notified = Notification.objects.exclude(kind=Kind.MEMBERSHIP_ADDED)  # the teacher joining the team
    assert {(n.object_type, n.object_id, n.case_id) for n in notified} == {
        ("workflows.deadline", str(deadline.pk), case.pk)
    }


def test_a_rerun_at_the_same_moment_sends_nothing_and_reads_no_row(
    run: Callable[[datetime.datetime], list[Notice]], case: Case, teacher: User
) -> None:
    _set(case, teacher)
    assert len(run(at("2026-12-11", "00:00"))) == 1
    with CaptureQueriesContext(connection) as queries:
        call_command("check_deadlines", stdout=io.StringIO())
    # The settings, then the (empty) batch: the filter itself excludes rows with nothing left to do.
    assert [
        q["sql"].split()[0] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ] == [
        "SELECT",
        "SELECT",
    ]


def test_the_summary_line_has_counts_only(
    clock: Callable[[datetime.datetime], None], case: Case, teacher: User, supervisors: list[User]
) -> None:
    _set(case, teacher)
    clock(at("2026-12-20"))
    out = io.StringIO()
    call_command("check_deadlines", stdout=out)
    assert out.getvalue() == (
        "Deadlines: 0 due soon, 1 overdue, 1 escalated to the coordinator, 1 to the supervisors; 4 notification(s).\n"
    )
    assert case.reference not in out.getvalue()
    quiet = io.StringIO()
    call_command("check_deadlines", stdout=quiet, verbosity=0)
    assert quiet.getvalue() == ""


def test_a_missed_run_catches_up_every_step_once_without_the_due_soon_warning(
    run: Callable[[datetime.datetime], list[Notice]], case: Case, teacher: User, supervisors: list[User]
) -> None:
    _set(case, teacher)
    ref = case.reference
    assert run(at("2026-12-20")) == [
        ("ucitelka", Kind.TASK_OVERDUE, ref, False),
        ("koord", Kind.ESCALATION, ref, True),
        ("vedouci", Kind.ESCALATION, ref, True),
        ("vedouci2", Kind.ESCALATION, ref, True),
    ]
    assert run(at("2026-12-21")) == []
    assert Deadline.objects.get().due_soon_notified_at is None


def test_when_the_owner_is_the_coordinator_the_grace_step_goes_to_the_supervisors(
    run: Callable[[datetime.datetime], list[Notice]], case: Case, coordinator: User, supervisors: list[User]
) -> None:
    _set(case, coordinator, kind=DeadlineKind.PLAN)
    ref = case.reference
    assert run(at("2026-12-09")) == [("koord", Kind.TASK_DUE_SOON, ref, False)]
    assert run(at("2026-12-11")) == [("koord", Kind.TASK_OVERDUE, ref, False)]
    assert run(at("2026-12-13", "00:00")) == [
        ("vedouci", Kind.ESCALATION, ref, True),
        ("vedouci2", Kind.ESCALATION, ref, True),
    ]
    assert run(at("2026-12-15", "00:00")) == []
    row = Deadline.objects.get()
    assert row.escalated_to_coordinator_at is None  # the coordinator was never told as the coordinator
    assert row.escalated_to_supervisor_at == at("2026-12-13", "00:00")


def test_a_supervisor_owner_is_not_told_twice(
    run: Callable[[datetime.datetime], list[Notice]], case: Case, supervisors: list[User]
) -> None:
    boss = supervisors[0]
    _set(case, boss, kind=DeadlineKind.PLAN_APPROVAL)
    ref = case.reference
    assert run(at("2026-12-11")) == [("vedouci", Kind.TASK_OVERDUE, ref, False)]
    assert run(at("2026-12-13", "00:00")) == [("koord", Kind.ESCALATION, ref, True)]
    assert run(at("2026-12-15", "00:00")) == [("vedouci2", Kind.ESCALATION, ref, True)]


def test_a_shared_queue_deadline_tells_the_authoritys_supervisors(
    run: Callable[[datetime.datetime], list[Notice]], olomouc: Municipality, supervisors: list[User]
) -> None:
    deadline_set(kind=DeadlineKind.TRIAGE, due_at=DUE, owner=None, municipality=olomouc, reference="OZN OM 2026/0003")
    ref = "OZN OM 2026/0003"
    assert run(at("2026-12-09")) == [
        ("vedouci", Kind.TASK_DUE_SOON, ref, False),
        ("vedouci2", Kind.TASK_DUE_SOON, ref, False),
    ]
    assert run(at("2026-12-11")) == [
        ("vedouci", Kind.TASK_OVERDUE, ref, False),
        ("vedouci2", Kind.TASK_OVERDUE, ref, False),
    ]
    # Nobody claimed it: at the grace the supervisors get the urgent escalation (there is no coordinator to tell).
    assert run(at("2026-12-13", "00:00")) == [
        ("vedouci", Kind.ESCALATION, ref, True),
        ("vedouci2", Kind.ESCALATION, ref, True),
    ]
    assert run(at("2026-12-31")) == []
    assert set(Notification.objects.values_list("case_id", flat=True)) == {None}


def test_a_shared_queue_deadline_on_a_case_skips_the_coordinator(
    run: Callable[[datetime.datetime], list[Notice]], case: Case, supervisors: list[User]
) -> None:
    _set(case, None, kind=DeadlineKind.PLAN_APPROVAL)
    sent = run(at("2026-12-20"))
    assert [n[:2] for n in sent] == [
        ("vedouci", Kind.TASK_OVERDUE),
        ("vedouci2", Kind.TASK_OVERDUE),
        ("vedouci", Kind.ESCALATION),
        ("vedouci2", Kind.ESCALATION),
    ]


def test_done_deadlines_and_closed_cases_are_silent(
    run: Callable[[datetime.datetime], list[Notice]],
    case: Case,
    coordinator: User,
    teacher: User,
    supervisors: list[User],
    clock: Callable[[datetime.datetime], None],
) -> None:
    deadline_done(deadline=_set(case, teacher))
    other = open_case(coordinator=coordinator, given_name="Petr", family_name="Dvořák", female=False)
    _set(other, coordinator, kind=DeadlineKind.PLAN)
    case_close(case=other, closed_by=coordinator, reason=CloseReason.GOALS_MET)
    for day in ("2026-12-09", "2026-12-11", "2026-12-13", "2026-12-15", "2027-02-01"):
        assert run(at(day)) == []


def test_a_deadline_finished_before_its_escalation_stops_escalating(
    run: Callable[[datetime.datetime], list[Notice]], case: Case, teacher: User, supervisors: list[User]
) -> None:
    deadline = _set(case, teacher)
    assert len(run(at("2026-12-11"))) == 1
    deadline_done(deadline=deadline)
    assert run(at("2026-12-20")) == []


def test_an_inactive_owner_is_not_told_but_the_escalation_goes_on(
    run: Callable[[datetime.datetime], list[Notice]], case: Case, teacher: User, supervisors: list[User]
) -> None:
    _set(case, teacher)
    User.objects.filter(pk=teacher.pk).update(is_active=False)
    assert run(at("2026-12-11")) == []
    assert run(at("2026-12-13", "00:00")) == [("koord", Kind.ESCALATION, case.reference, True)]
    assert Deadline.objects.get().overdue_notified_at == at("2026-12-11")


def test_a_reassigned_deadline_warns_its_new_owner(
    run: Callable[[datetime.datetime], list[Notice]],
    case: Case,
    coordinator: User,
    teacher: User,
    school: Organisation,
    supervisors: list[User],
) -> None:
    colleague = UserFactory.create(username="ucitel2", role=Role.PARTNER, organisation=school)
    add_member(case, colleague, coordinator)
    deadline = _set(case, teacher)
    assert run(at("2026-12-13", "00:00")) == [
        ("ucitelka", Kind.TASK_OVERDUE, case.reference, False),
        ("koord", Kind.ESCALATION, case.reference, True),
    ]
    deadline_reassign(deadline=deadline, owner=colleague)
    # The new owner learns it is overdue; the coordinator is not told again.
    assert run(at("2026-12-13", "09:00")) == [("ucitel2", Kind.TASK_OVERDUE, case.reference, False)]


def test_an_authoritys_own_settings_change_the_times(
    run: Callable[[datetime.datetime], list[Notice]],
    case: Case,
    teacher: User,
    supervisors: list[User],
    prostejov: Municipality,
    foreign_worker: User,
) -> None:
    AuthoritySettings.objects.create(municipality=case.municipality, due_soon_days=0, escalation_grace_days=5)
    AuthoritySettings.objects.create(municipality=prostejov)  # a row with the defaults
    _set(case, teacher)
    foreign = open_case(coordinator=foreign_worker, given_name="Jan", family_name="Malý", female=False)
    _set(foreign, foreign_worker, kind=DeadlineKind.PLAN)
    ref, foreign_ref = case.reference, foreign.reference
    assert run(at("2026-12-09")) == [("cizi", Kind.TASK_DUE_SOON, foreign_ref, False)]  # Olomouc: no warning
    assert run(at("2026-12-11")) == [
        ("ucitelka", Kind.TASK_OVERDUE, ref, False),
        ("cizi", Kind.TASK_OVERDUE, foreign_ref, False),
    ]
    assert run(at("2026-12-13")) == [("vedouci-pv", Kind.ESCALATION, foreign_ref, True)]  # owner = coordinator
    assert run(at("2026-12-15", "23:59")) == []
    assert run(at("2026-12-16", "00:00")) == [("koord", Kind.ESCALATION, ref, True)]  # 5 days' grace
    assert run(at("2026-12-20", "23:59")) == []
    assert run(at("2026-12-21", "00:00")) == [
        ("vedouci", Kind.ESCALATION, ref, True),
        ("vedouci2", Kind.ESCALATION, ref, True),
    ]


def test_batches_cover_every_row(
    run: Callable[[datetime.datetime], list[Notice]],
    case: Case,
    teacher: User,
    clock: Callable[[datetime.datetime], None],
) -> None:
    for day in range(10, 15):
        _set(case, teacher, due=working_deadline(datetime.date(2026, 12, day)))
    clock(at("2026-12-31"))
    result = deadlines_check(batch_size=2)
    assert (result.overdue, result.to_coordinator, result.batches) == (5, 5, 3)
    assert deadlines_check(batch_size=2).notifications == 0


def _deadlines(case: Case, owner: User, count: int, due: datetime.datetime) -> None:
    """Many open deadlines at once (bulk, for the query-count tests; the service is tested elsewhere)."""
    Deadline.objects.bulk_create(
        Deadline(kind=DeadlineKind.PLAN_ACTION, case=case, municipality=case.municipality, owner=owner, due_at=due)
        for _ in range(count)
    )


def _statements(count: int, case: Case, owner: User, due: datetime.datetime) -> list[str]:
    Deadline.objects.all().delete()
    _deadlines(case, owner, count, due)
    with CaptureQueriesContext(connection) as queries:
        call_command("check_deadlines", stdout=io.StringIO())
    # A UNION (the acting supervisors: own and deputies) starts with "(SELECT" on PostgreSQL: still one SELECT.
    return [q["sql"].lstrip("(").split()[0] for q in queries.captured_queries]


def test_query_count_does_not_grow_with_the_number_of_deadlines(
    clock: Callable[[datetime.datetime], None], case: Case, teacher: User
) -> None:
    """What is pinned: the reads are a fixed number of SELECTs whatever the number of deadlines (one for the
    settings, one per batch for the rows, one for the supervisors when a step needs them); the writes are one INSERT
    per notification and one UPDATE per kind of stamp per batch. 500 deadlines fit one batch."""
    clock(at("2026-12-01"))
    far = working_deadline(datetime.date(2027, 6, 30))
    # Nothing to do: the same statements for 5 and for 500 open deadlines.
    assert _statements(5, case, teacher, far) == _statements(500, case, teacher, far)
    # All due soon: the same SELECTs; one INSERT per notification; one UPDATE for the stamps.
    soon = working_deadline(datetime.date(2026, 12, 2))
    few, many = _statements(5, case, teacher, soon), _statements(500, case, teacher, soon)
    assert few.count("SELECT") == many.count("SELECT") == 2
    assert (few.count("INSERT"), many.count("INSERT")) == (5, 500)
    assert few.count("UPDATE") == many.count("UPDATE") == 1
    assert Notification.objects.filter(kind=Kind.TASK_DUE_SOON).count() == 505


def test_a_run_with_every_step_reads_a_fixed_number_of_times(
    clock: Callable[[datetime.datetime], None], case: Case, teacher: User, supervisors: list[User]
) -> None:
    clock(at("2026-12-31"))
    overdue = working_deadline(datetime.date(2026, 12, 1))
    few, many = _statements(5, case, teacher, overdue), _statements(500, case, teacher, overdue)
    # settings, rows, supervisors
    assert few.count("SELECT") == many.count("SELECT") == 3
    # overdue (owner), escalation (coordinator), escalation (supervisors: one bulk INSERT) per deadline
    assert (few.count("INSERT"), many.count("INSERT")) == (15, 1500)
    assert few.count("UPDATE") == many.count("UPDATE") == 3


# --- Two schedulers at once (PostgreSQL row locks) -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_another_scheduler_holds_is_skipped_not_notified_twice(
    case: Case, teacher: User, clock: Callable[[datetime.datetime], None]
) -> None:
    first = _set(case, teacher)
    second = _set(case, teacher, due=working_deadline(datetime.date(2026, 12, 11)))
    clock(at("2026-12-20"))
    locked = threading.Event()
    release = threading.Event()

    def other_scheduler() -> None:
        try:
            with transaction.atomic():
                list(Deadline.objects.select_for_update().filter(pk=first.pk))
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_scheduler)
    thread.start()
    assert locked.wait(timeout=10)
    try:
        result = deadlines_check()
    finally:
        release.set()
        thread.join()
    assert (result.overdue, result.to_coordinator) == (1, 1)
    assert Notification.objects.filter(object_id=str(first.pk)).count() == 0
    assert Notification.objects.filter(object_id=str(second.pk)).count() == 2
    # Once the other scheduler lets go, the next run picks the row up; the second row stays quiet.
    assert deadlines_check().overdue == 1
    assert Notification.objects.filter(object_id=str(first.pk)).count() == 2
    assert Notification.objects.filter(object_id=str(second.pk)).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_running_together_notify_each_step_once(
    case: Case, teacher: User, clock: Callable[[datetime.datetime], None]
) -> None:
    _deadlines(case, teacher, 200, working_deadline(datetime.date(2026, 12, 10)))
    clock(at("2026-12-13", "00:00"))
    start = threading.Barrier(2)
    results = []

    def scheduler() -> None:
        try:
            start.wait(timeout=10)
            results.append(deadlines_check(batch_size=20))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.overdue for r in results) == 200
    assert sum(r.to_coordinator for r in results) == 200
    sent = Notification.objects.filter(object_type="workflows.deadline")
    assert sent.count() == 400
    assert sent.values("object_id", "recipient", "kind").distinct().count() == 400
