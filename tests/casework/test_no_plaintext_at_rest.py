"""After seed_demo and a round of demo requests, no demo child's identity is anywhere in clear: not in any column of
any table, not in any SQL statement sent, not in any log line."""

from __future__ import annotations

import logging

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casework.models import Child, User
from tests.scan import find_in_database
from workflows.management.commands.seed_demo import DEMO_CHILDREN, DEMO_REPORTS, RETENTION_DEMO_CHILD


def _needles() -> list[str]:
    needles = []
    for child in DEMO_CHILDREN:
        needles += [child.given_name, child.family_name, child.address, child.birth_number]
        needles += [child.birth_number.replace("/", ""), child.representative[1], child.representative[2]]
    return needles


def test_seed_demo_leaves_no_child_identity_in_clear_in_the_database(db: None) -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # The demo children, the child without a birth number whom a report's triage registered, and the child of the
    # old closed file the shredding review proposes.
    unregistered = [spec.child for spec in DEMO_REPORTS if spec.child is not None]
    assert Child.objects.count() == len(DEMO_CHILDREN) + len(unregistered) + 1
    extra = [value for child in unregistered for value in (child.family_name, child.other_identifiers)]
    extra += list(RETENTION_DEMO_CHILD)
    assert find_in_database(_needles() + extra) == []


def test_demo_requests_leave_no_child_identity_in_logs_or_sql(db: None, caplog) -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    client = Client()
    client.force_login(User.objects.get(username="koordinator"))
    with caplog.at_level(logging.DEBUG), CaptureQueriesContext(connection) as queries:
        for spec in DEMO_CHILDREN:
            found = client.post(reverse("child_search"), {"birth_number": spec.birth_number})
            assert found.status_code == 302
            page = client.get(found["Location"])
            assert spec.given_name in page.content.decode()  # the page shows it to the coordinator…
        client.get(reverse("child_search"))
        teacher = Client()
        teacher.force_login(User.objects.get(username="ucitelka"))
        assert teacher.get(found["Location"]).status_code == 404
    sql = "\n".join(str(q["sql"]) for q in queries.captured_queries)
    for needle in _needles():
        assert needle not in caplog.text  # …but no log line carries it
        assert needle not in sql
