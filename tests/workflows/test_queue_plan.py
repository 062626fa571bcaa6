"""The team queue's plan on PostgreSQL (issue 20): with thousands of waiting deadlines, the database walks the
authority's partial index in the list's own order — (due date, task id) — and stops after a page: a ``Limit`` over
the index scan, no ``Sort`` of the deadlines. The plan's shape is asserted, never its time (timings live in bench/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.models import Municipality, User
from workflows import selectors
from workflows.models import Deadline, DeadlineKind

from .test_inbox import _bulk_tasks

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

WAITING = 5_000


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _plan_of(read: Any, *, analyze: bool = False) -> dict[str, Any]:
    """EXPLAIN (FORMAT JSON) of the one list statement ``read`` runs (with ANALYZE: which parts ran at all)."""
    with CaptureQueriesContext(connection) as captured:
        read()
    statements = [q["sql"] for q in captured.captured_queries if "workflows_deadline" in q["sql"]]
    assert len(statements) == 1, statements
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT JSON) " + statements[0])
        raw = cursor.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def _reads_deadlines_by_index(node: dict[str, Any], index: str) -> bool:
    return any(n.get("Relation Name") == "workflows_deadline" and n.get("Index Name") == index for n in _nodes(node))


def _assert_index_walk_with_limit(plan: dict[str, Any], index: str) -> None:
    assert plan["Node Type"] == "Limit", plan["Node Type"]
    # No sort anywhere above the deadlines: the index's order is the list's order.
    for node in _nodes(plan):
        assert node["Node Type"] not in ("Sort", "Incremental Sort"), json.dumps(plan)[:2000]
    assert _reads_deadlines_by_index(plan, index), json.dumps(plan)[:2000]
    # Not a bitmap read of every waiting deadline either (a bitmap scan has no order).
    assert not any(n["Node Type"] == "Bitmap Heap Scan" for n in _nodes(plan)), json.dumps(plan)[:2000]


@pytest.fixture
def waiting_queue(olomouc: Municipality, coordinator: User) -> list[int]:
    ids = _bulk_tasks(WAITING, municipality=olomouc, recorded_by=coordinator, owner=None)
    # Four in five waiting items are plan approvals (only the deadline's kind matters to the plan): the triage filter
    # then keeps a fifth of the queue, which is what makes the kinds index the right walk.
    Deadline.objects.filter(task_id__in=[i for n, i in enumerate(ids) if n % 5]).update(kind=DeadlineKind.PLAN_APPROVAL)
    with connection.cursor() as cursor:
        for table in ("workflows_deadline", "viewflow_task", "viewflow_process", "casework_report"):
            cursor.execute(f"ANALYZE {table}")
    return ids


def test_the_supervisors_queue_walks_its_indexes_in_order_and_stops_after_a_page(
    waiting_queue: list[int], supervisor: User
) -> None:
    first = selectors.team_queue(user=supervisor)
    assert len(first.rows) == 50
    assert first.truncated
    _assert_index_walk_with_limit(_plan_of(lambda: selectors.team_queue(user=supervisor)), "deadline_queue_authority")
    # The next page seeks to the cursor in the same index.
    _assert_index_walk_with_limit(
        _plan_of(lambda: selectors.team_queue(user=supervisor, after=first.next_after or "")),
        "deadline_queue_authority",
    )
    # Filtered by one task type (the same rows: one slow fixture for both): the kinds index, in the same order.
    assert len(selectors.team_queue(user=supervisor, task_type="triage").rows) == 50  # 1 000 of 5 000 are triage
    _assert_index_walk_with_limit(
        _plan_of(lambda: selectors.team_queue(user=supervisor, task_type="triage")), "deadline_queue_authority_kind"
    )


def test_my_tasks_walk_the_owners_index_and_never_read_the_undated_while_dated_ones_fill_the_page(
    olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    """ "My tasks" for one person holding thousands (every other one with a deadline, bulk-made): the dated half is
    a walk of ``deadline_open_owner`` in the list's order with a Limit; the undated half of the ``UNION ALL`` does not
    run at all while the dated ones fill the page."""
    _bulk_tasks(3_000, municipality=olomouc, recorded_by=coordinator, owner=supervisor)
    with connection.cursor() as cursor:
        for table in ("workflows_deadline", "viewflow_task", "viewflow_process", "casework_report"):
            cursor.execute(f"ANALYZE {table}")
    first = selectors.my_tasks(user=supervisor)
    assert len(first.rows) == 50
    assert all(row.due_at is not None for row in first.rows)
    for after in ("", first.next_after or ""):
        plan = _plan_of(lambda after=after: selectors.my_tasks(user=supervisor, after=after), analyze=True)
        assert plan["Node Type"] == "Limit"
        (append,) = plan["Plans"]
        assert append["Node Type"] == "Append", append["Node Type"]
        dated, undated = append["Plans"]
        assert _reads_deadlines_by_index(dated, "deadline_open_owner"), json.dumps(dated)[:2000]
        assert not any(n["Node Type"] in ("Sort", "Incremental Sort") for n in _nodes(dated)), json.dumps(dated)[:2000]
        assert undated.get("Actual Loops") == 0, json.dumps(undated)[:2000]


def test_a_supervisors_inbox_reads_only_their_open_tasks_never_the_thousands_they_have_done(
    olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    """A supervisor who has triaged thousands of reports (their tasks DONE, deadlines done) in an installation with
    thousands of open tasks of others: "my tasks" reads the supervisor's open tasks from ``task_open_owner`` — not
    the supervisor's every task intersected with every open task of the installation (the bitmap AND that grew
    with both at 100 000 cases)."""
    done = _bulk_tasks(3_000, municipality=olomouc, recorded_by=coordinator, owner=supervisor)
    Task.objects.filter(pk__in=done).update(status=STATUS.DONE)
    Deadline.objects.filter(task_id__in=done).update(done_at=timezone.now())
    _bulk_tasks(3_000, municipality=olomouc, recorded_by=supervisor, owner=coordinator)
    with connection.cursor() as cursor:
        for table in ("workflows_deadline", "viewflow_task", "viewflow_process", "casework_report"):
            cursor.execute(f"ANALYZE {table}")
    assert selectors.my_tasks(user=supervisor).rows == []
    plan = _plan_of(lambda: selectors.my_tasks(user=supervisor), analyze=True)
    assert not any(n["Node Type"] in ("BitmapAnd", "Bitmap Heap Scan") for n in _nodes(plan)), json.dumps(plan)[:3000]
    (append,) = plan["Plans"]
    dated, undated = append["Plans"]
    assert _reads_deadlines_by_index(dated, "deadline_open_owner"), json.dumps(dated)[:2000]
    undated_tasks = [n for n in _nodes(undated) if n.get("Alias", "").startswith("viewflow_task")]
    assert [n.get("Index Name") for n in undated_tasks] == ["task_open_owner"], json.dumps(undated)[:3000]
