"""The inbox ("Úkoly"): my tasks and the team queue, built on our own selectors — sorted by due date, filtered by type,
with claim and give-back buttons, no protected text, and a fixed number of queries for 5 and for 500 tasks."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from casework.models import Municipality, Report, Role, User
from tests.factories import UserFactory
from workflows import selectors
from workflows.flows import ReportFlow
from workflows.models import Deadline, DeadlineKind
from workflows.processes import ReportProcess

from .conftest import CHILD_FAMILY, CHILD_GIVEN, FACTS, client_for, file_report, html, triage, triage_task

pytestmark = pytest.mark.django_db

#: Queries of each list, whatever its length.
LIST_QUERIES = 1
#: A supervisor's team queue: the covers in force (its authorities as values, so the database walks the queue's
#: index in order: ``workflows.selectors.queue_authorities``), then the list.
SUPERVISOR_QUEUE_QUERIES = 2
#: The inbox page of a supervisor: session, user (with organisation), the unread-notifications badge, my tasks, the
#: covers in force, the team queue.
INBOX_QUERIES_SUPERVISOR = 7
#: A partner's too: their team queue holds their organisation's plan actions.
INBOX_QUERIES_PARTNER = 6


def _bulk_tasks(
    count: int, *, municipality: Municipality, recorded_by: User, owner: User | None, node: Any = None
) -> list[int]:
    """``count`` reports with a triage task each, written in bulk (the inbox reads only ids, references and dates, so
    the reports carry no sealed values). A task in the queue has its deadline, as the flows give every queue task
    one; of the assigned ones every other one has a deadline."""
    year = timezone.localdate().year
    start = (
        Report.objects.filter(municipality=municipality).order_by("-number").values_list("number", flat=True)[:1] or [0]
    )[0]
    reports = Report.objects.bulk_create(
        Report(
            municipality=municipality,
            year=year,
            number=start + n + 1,
            reference=Report.format_reference(municipality.code, year, start + n + 1),
            channel="phone",
            notifier_kind="other_person",
            recorded_by=recorded_by,
        )
        for n in range(count)
    )
    processes = Process.objects.bulk_create(Process(flow_class=ReportFlow) for _ in reports)
    for process, report in zip(processes, reports, strict=True):
        # Multi-table inheritance has no bulk insert: add the child rows one by one.
        ReportProcess(process_ptr=process, report=report, flow_class=ReportFlow).save_base(raw=True)
    node = node or ReportFlow.triage
    created = Task.objects.bulk_create(
        Task(
            process=process,
            flow_task=node,
            flow_task_type="HUMAN",
            status=STATUS.ASSIGNED if owner else STATUS.NEW,
            owner=owner,
        )
        for process in processes
    )
    now = timezone.now()
    Deadline.objects.bulk_create(
        Deadline(
            kind=DeadlineKind.TRIAGE,
            task=task,
            municipality=municipality,
            owner=owner,
            due_at=now + datetime.timedelta(days=n % 17 - 3),
            reference="x",
        )
        for n, task in enumerate(created)
        if n % 2 == 0 or owner is None
    )
    return [t.pk for t in created]


# --- What is listed ------------------------------------------------------------------------------------------------


def test_my_tasks_and_the_team_queue(
    teacher: User, supervisor: User, second_supervisor: User, coordinator: User
) -> None:
    waiting = file_report(teacher)
    taken = file_report(teacher, child_given_name="Ema")
    triage_task_taken = triage_task(taken)
    from workflows import tasks

    tasks.task_claim(task=triage_task_taken, user=second_supervisor)

    queue = selectors.team_queue(user=supervisor)
    assert [row.task_id for row in queue.rows] == [triage_task(waiting).pk]
    row = queue.rows[0]
    assert (row.task_type, row.report_reference, row.case_reference) == ("triage", waiting.reference, None)
    assert row.title == ReportFlow.triage.task_title
    assert row.due_at is not None
    assert not row.overdue
    assert selectors.my_tasks(user=supervisor).rows == []
    assert [r.task_id for r in selectors.my_tasks(user=second_supervisor).rows] == [triage_task_taken.pk]
    # Nobody else has a team queue, and nobody else's tasks are theirs.
    assert not selectors.has_team_queue(coordinator)
    assert selectors.team_queue(user=coordinator).rows == []
    assert selectors.my_tasks(user=coordinator).rows == []


def test_the_inbox_page_has_take_and_give_back_buttons_and_no_protected_text(
    teacher: User, supervisor: User, coordinator: User
) -> None:
    report = file_report(teacher)
    task = triage_task(report)
    client = client_for(supervisor)
    page = html(client.get(reverse("inbox")))
    assert "<h1>Úkoly</h1>" in page
    assert "Fronta týmu" in page
    assert "Moje úkoly" in page
    assert reverse("task_claim", kwargs={"task_id": task.pk}) in page
    assert report.reference in page
    for text in (FACTS, CHILD_GIVEN, CHILD_FAMILY, teacher.last_name):
        assert text not in page

    # Taking it from the inbox moves it to "My tasks", with a button to give it back.
    assert client.post(reverse("task_claim", kwargs={"task_id": task.pk})).status_code == 302
    page = html(client.get(reverse("inbox")))
    assert reverse("task_unassign", kwargs={"task_id": task.pk}) in page
    assert reverse("task_claim", kwargs={"task_id": task.pk}) not in page


def test_a_partners_queue_holds_only_their_organisations_actions_and_the_dpo_has_no_inbox(
    teacher: User, dpo: User
) -> None:
    file_report(teacher)
    page = html(client_for(teacher).get(reverse("inbox")))
    assert "Moje úkoly" in page
    # The school's plan actions would wait here for its people on the team; the report's triage never does.
    assert "Fronta týmu je prázdná." in page
    assert selectors.team_queue(user=teacher).rows == []
    assert client_for(dpo).get(reverse("inbox")).status_code == 403


def test_sorted_by_due_date_urgent_reports_first(teacher: User, supervisor: User) -> None:
    standard = file_report(teacher)
    urgent = file_report(teacher, child_given_name="Ema", urgency_hints=["immediate_danger"])
    rows = selectors.team_queue(user=supervisor).rows
    assert [row.report_reference for row in rows] == [urgent.reference, standard.reference]
    assert rows[0].urgent
    assert not rows[1].urgent
    assert rows[0].due_at is not None
    assert rows[1].due_at is not None
    assert rows[0].due_at < rows[1].due_at


def test_overdue_tasks_are_marked_and_tasks_without_a_deadline_come_last(
    olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    ids = _bulk_tasks(4, municipality=olomouc, recorded_by=coordinator, owner=supervisor)
    rows = selectors.my_tasks(user=supervisor).rows
    # Deadlines on the 1st and 3rd task only: 3 days and 1 day overdue (n % 17 - 3 days for n = 0, 2).
    assert [r.task_id for r in rows] == [ids[0], ids[2], ids[1], ids[3]]
    assert [r.overdue for r in rows] == [True, True, False, False]
    assert rows[2].due_at is None
    assert rows[3].due_at is None
    page = html(client_for(supervisor).get(reverse("inbox")))
    assert "po termínu" in page


def test_the_team_queue_is_read_from_its_open_unowned_deadlines(
    olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    """Every queue task carries its deadline from the moment viewflow creates it (the queue is read from them): a
    queue task is listed with its due date, overdue ones marked; one whose deadline is done (cancelled with its
    process, in the same transaction) is not waiting for anyone."""
    ids = _bulk_tasks(3, municipality=olomouc, recorded_by=coordinator, owner=None)
    rows = selectors.team_queue(user=supervisor).rows
    # Due in -3, -2 and -1 days (n % 17 - 3): all three overdue, soonest first.
    assert [r.task_id for r in rows] == ids
    assert all(r.overdue and r.due_at is not None for r in rows)
    Deadline.objects.filter(task_id=ids[1]).update(done_at=timezone.now())
    assert [r.task_id for r in selectors.team_queue(user=supervisor).rows] == [ids[0], ids[2]]
    page = html(client_for(supervisor).get(reverse("inbox")))
    assert "po termínu" in page


def test_every_queue_task_type_declares_its_deadline() -> None:
    """What reading the team queue from deadlines relies on: each node whose tasks wait in a queue gets a deadline
    when its task is created (``PolicyView(deadline=...)``)."""
    queue_nodes = [node for node in selectors.TASK_TYPES.values() if node.queue]
    assert queue_nodes
    assert all(node.deadline is not None for node in queue_nodes)


def test_filter_by_type(teacher: User, supervisor: User, coordinator: User) -> None:
    closed = file_report(teacher, feedback_requested=True)
    triage(closed, supervisor, at_risk=False, close_reason="not_at_risk")  # a feedback task for the supervisor
    waiting = file_report(teacher, child_given_name="Ema")
    assert [r.task_type for r in selectors.my_tasks(user=supervisor).rows] == ["feedback"]
    assert selectors.my_tasks(user=supervisor, task_type="triage").rows == []
    assert selectors.team_queue(user=supervisor, task_type="feedback").rows == []
    assert [r.report_reference for r in selectors.team_queue(user=supervisor, task_type="triage").rows] == [
        waiting.reference
    ]
    page = html(client_for(supervisor).get(reverse("inbox"), {"type": "feedback"}))
    assert closed.reference in page
    assert waiting.reference not in page


# --- A fixed number of queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [5, 500])
def test_the_lists_run_one_query_each_whatever_their_length(
    count: int,
    olomouc: Municipality,
    supervisor: User,
    coordinator: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    _bulk_tasks(count, municipality=olomouc, recorded_by=coordinator, owner=None)
    _bulk_tasks(count, municipality=olomouc, recorded_by=coordinator, owner=supervisor)
    with django_assert_num_queries(SUPERVISOR_QUEUE_QUERIES):
        queue = selectors.team_queue(user=supervisor, limit=1000)
    with django_assert_num_queries(LIST_QUERIES):
        mine = selectors.my_tasks(user=supervisor, limit=1000)
    assert len(queue.rows) == len(mine.rows) == count


@pytest.mark.parametrize("count", [5, 500])
def test_the_inbox_page_runs_a_fixed_number_of_queries(
    count: int,
    olomouc: Municipality,
    supervisor: User,
    coordinator: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    _bulk_tasks(count, municipality=olomouc, recorded_by=coordinator, owner=None)
    _bulk_tasks(count, municipality=olomouc, recorded_by=coordinator, owner=supervisor)
    client = client_for(supervisor)
    with django_assert_num_queries(INBOX_QUERIES_SUPERVISOR):
        response = client.get(reverse("inbox"))
    assert response.status_code == 200
    partner = UserFactory.create(role=Role.PARTNER)
    partner_client = client_for(partner)
    with django_assert_num_queries(INBOX_QUERIES_PARTNER):
        assert partner_client.get(reverse("inbox")).status_code == 200


# --- Only while on the team (DESIGN invariant 5) -------------------------------------------------------------------


def test_a_members_tasks_leave_the_inbox_when_their_last_day_has_passed(
    coordinator: User, teacher: User, django_assert_num_queries: Callable[..., Any]
) -> None:
    """Issue 16, finding 6: no event ends a membership whose last day passes, so the inbox's own query must ask
    whether the membership is valid now — not list a task whose page then answers 404."""
    from tests.factories.cases import add_member, open_case

    from .test_case_flow import input_task, request

    today = timezone.localdate()
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator, valid_until=today)
    request(case, coordinator, [teacher])
    task = input_task(case, teacher)
    assert [row.task_id for row in selectors.my_tasks(user=teacher).rows] == [task.pk]
    client = client_for(teacher)
    assert f"/inbox/tasks/{task.pk}/" in html(client.get(reverse("inbox")))

    with time_machine.travel((today + datetime.timedelta(days=1)).isoformat() + " 00:05 +01:00", tick=False):
        with django_assert_num_queries(LIST_QUERIES):
            mine = selectors.my_tasks(user=teacher)
        assert mine.rows == []
        client = client_for(teacher)  # a fresh session: the one above has expired overnight
        assert f"/inbox/tasks/{task.pk}/" not in html(client.get(reverse("inbox")))
        assert client.get(f"/inbox/tasks/{task.pk}/").status_code == 404
