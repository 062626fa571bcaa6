"""The inbox's lists page by key (DESIGN invariant 12): 50 tasks a page in the lists' order — soonest due first, then
by task id (the order of the deadline indexes they are read from); tasks without a due date last, oldest first —
every task exactly once across the pages, also when many share a due date and a creation time; each list moves on its
own; the page's statements do not change from page to page or with the number of tasks."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from casework import paging
from casework.models import Municipality, User
from workflows import selectors
from workflows.models import Deadline

from .conftest import client_for
from .test_inbox import INBOX_QUERIES_SUPERVISOR, _bulk_tasks

pytestmark = pytest.mark.django_db


def _with_ties(ids: list[int]) -> None:
    """Three creation moments and two due dates for all of ``ids``: most rows tie on the sort key but for the id."""
    base = timezone.now().replace(microsecond=0) - datetime.timedelta(days=2)
    for n, task_id in enumerate(ids):
        Task.objects.filter(pk=task_id).update(created=base + datetime.timedelta(minutes=n % 3))
        Deadline.objects.filter(task_id=task_id).update(due_at=base + datetime.timedelta(days=n % 2))


def _expected(ids: list[int]) -> list[int]:
    """My tasks' order: the dated by (due, task id) — their index's order — then the undated by (created, id)."""
    tasks = {t.pk: t for t in Task.objects.filter(pk__in=ids)}
    due = dict(Deadline.objects.filter(task_id__in=ids, done_at__isnull=True).values_list("task_id", "due_at"))
    return sorted(ids, key=lambda i: (0, due[i], i) if i in due else (1, tasks[i].created, i))


def _walk(read: Callable[..., selectors.InboxList], size: int) -> list[list[int]]:
    pages: list[list[int]] = []
    after = ""
    while True:
        found = read(limit=size, after=after)
        pages.append([row.task_id for row in found.rows])
        if found.next_after is None:
            return pages
        assert found.truncated
        assert len(pages) < 100, "the pages never end"
        after = found.next_after


def test_my_tasks_pages_hold_every_task_once_in_order_with_ties(
    olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    # Every other one without a deadline: those come last, by creation and id.
    ids = _bulk_tasks(17, municipality=olomouc, recorded_by=coordinator, owner=supervisor)
    _with_ties(ids)
    pages = _walk(lambda **kw: selectors.my_tasks(user=supervisor, **kw), size=4)
    assert [len(page) for page in pages] == [4, 4, 4, 4, 1]
    assert [task_id for page in pages for task_id in page] == _expected(ids)
    # Across the boundary between tasks with and without a due date too.
    everything = selectors.my_tasks(user=supervisor, limit=1000).rows
    assert everything[8].due_at is not None
    assert everything[9].due_at is None


def test_team_queue_pages_hold_every_task_once_in_order_with_ties(
    olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    ids = _bulk_tasks(14, municipality=olomouc, recorded_by=coordinator, owner=None)
    _with_ties(ids)
    pages = _walk(lambda **kw: selectors.team_queue(user=supervisor, **kw), size=5)
    assert [len(page) for page in pages] == [5, 5, 4]
    # The queue's order is its deadlines' index order: due date, then the task's id (not its creation time).
    due = dict(Deadline.objects.filter(task_id__in=ids).values_list("task_id", "due_at"))
    assert [task_id for page in pages for task_id in page] == sorted(ids, key=lambda i: (due[i], i))


def test_a_team_queue_cursor_of_the_older_three_part_shape_starts_at_the_first_page(
    olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    """Bookmarked before the queue was ordered by (due, task id): the old (due, created, id) cursor is no position
    in the new order, so it reads as the first page rather than as a wrong one."""
    ids = _bulk_tasks(3, municipality=olomouc, recorded_by=coordinator, owner=None)
    first = Task.objects.get(pk=ids[0])
    old = paging.cursor_for((Deadline.objects.get(task_id=ids[0]).due_at, first.created, first.pk))
    assert [r.task_id for r in selectors.team_queue(user=supervisor, after=old).rows] == ids


def test_a_page_that_ends_exactly_has_no_next_page(olomouc: Municipality, supervisor: User, coordinator: User) -> None:
    _bulk_tasks(6, municipality=olomouc, recorded_by=coordinator, owner=None)
    pages = _walk(lambda **kw: selectors.team_queue(user=supervisor, **kw), size=3)
    assert [len(page) for page in pages] == [3, 3]


@pytest.mark.parametrize("cursor", ["x", "1.2", "n.n.n", "5.-1.3", "1" * 300])
def test_an_unreadable_cursor_starts_at_the_first_page(
    cursor: str, olomouc: Municipality, supervisor: User, coordinator: User
) -> None:
    ids = _bulk_tasks(3, municipality=olomouc, recorded_by=coordinator, owner=None)
    assert [r.task_id for r in selectors.team_queue(user=supervisor, after=cursor).rows] == ids


def test_a_queue_cursor_shows_nothing_that_is_not_in_the_readers_queue(
    olomouc: Municipality, supervisor: User, coordinator: User, foreign_worker: User
) -> None:
    _bulk_tasks(3, municipality=olomouc, recorded_by=coordinator, owner=None)
    cursor = selectors.team_queue(user=supervisor, limit=1).next_after
    assert cursor is not None
    assert selectors.team_queue(user=foreign_worker, after=cursor).rows == []
    assert selectors.my_tasks(user=coordinator, after=cursor).rows == []


def _link(html: str, name: str) -> str | None:
    found = re.search(r'<a rel="next" data-list="' + name + r'" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.parametrize("count", [5, 130])
def test_every_inbox_page_runs_the_same_statements(
    count: int,
    olomouc: Municipality,
    supervisor: User,
    coordinator: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    queued = _bulk_tasks(count, municipality=olomouc, recorded_by=coordinator, owner=None)
    mine = _bulk_tasks(count, municipality=olomouc, recorded_by=coordinator, owner=supervisor)
    client = client_for(supervisor)
    url = reverse("inbox")
    seen_queue: list[str] = []
    for _ in range(5):
        with django_assert_num_queries(INBOX_QUERIES_SUPERVISOR):
            response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        seen_queue += re.findall(r"/inbox/tasks/(\d+)/claim/", html)
        link = _link(html, "queue")
        if link is None:
            break
        url = reverse("inbox") + link
    # The queue was walked to its end; my tasks stayed on their first page all along.
    assert sorted(map(int, seen_queue)) == sorted(queued)
    assert len(seen_queue) == len(set(seen_queue))
    assert "mine=" not in url
    assert ("queue=" in url) is (count > paging.PAGE_SIZE)
    first_of_mine = selectors.my_tasks(user=supervisor).rows[0].task_id
    assert f"/inbox/tasks/{first_of_mine}/" in html
    assert len(mine) == count
