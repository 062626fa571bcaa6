"""The oversight index's plan on PostgreSQL (issue 20): an authority's accesses are read from the chain newest first,
each event's case looked up by its key, and the page stops after 51 rows — never a hash of every case of the
authority built for each page (90 000 cases read twice per page at 100 000 cases). The plan's shape is asserted,
never its time (timings live in bench/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.models import Case, User
from permissions import oversight
from tests.factories.cases import open_case

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def test_the_authoritys_access_list_looks_up_each_events_case_and_never_lists_the_authoritys_cases(
    coordinator: User, supervisor: User
) -> None:
    for _ in range(3):
        open_case(coordinator=coordinator)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casework_case")
        cursor.execute("ANALYZE permissions_auditevent")
    overseer = oversight.overseer_for(supervisor)
    with CaptureQueriesContext(connection) as captured:
        page = oversight.access_page(overseer, oversight.AccessFilters())
    assert page.rows, "opening cases is audited"
    (listing,) = [q["sql"] for q in captured.captured_queries if "permissions_auditevent" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + listing)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    assert plan["Node Type"] == "Limit", json.dumps(plan)[:2000]
    # The case is read only inside a per-event look-up (a correlated subplan, run per event the walk reaches):
    # never scanned whole into a hash up front (EXPLAIN says "hashed SubPlan" in the filter that uses such a hash).
    assert any(
        n.get("Parent Relationship") == "SubPlan" and f'"Relation Name": "{Case._meta.db_table}"' in json.dumps(n)
        for n in _nodes(plan)
    ), json.dumps(plan)[:3000]
    assert "hashed SubPlan" not in json.dumps(plan), json.dumps(plan)[:3000]
