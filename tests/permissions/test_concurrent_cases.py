"""Eight clients driving whole cases at once do not fail each other (issue 20).

Each thread has its own connection and takes its own fictional cases from the report to the approved plan through
the real services and flows (``bench.journey``), all starting together behind a barrier. Before the fix most cases
failed with ``DeadlockDetected`` (and some with ``AuditUnavailable``); every case must now complete and the audit
chain verify. Fictional data only.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from bench import journey
from permissions.management.commands.verify_audit import verify_chain

CLIENTS = 8
CASES_PER_CLIENT = 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_clients_take_cases_to_an_approved_plan_at_once_without_failing_each_other() -> None:
    journey.build_world()
    start = threading.Barrier(CLIENTS)
    failures: list[str] = []
    done: list[int] = []

    def client(i: int) -> None:
        try:
            world = journey.load_world()
            start.wait()
            for k in range(CASES_PER_CLIENT):
                n = journey.MEASURED_FROM + 700_000 + i * 10_000 + k
                try:
                    journey.case_story(world, n, "approved", note=False)
                    done.append(n)
                except Exception as exc:  # kept to report every failing case, not just the first
                    cause = exc.__cause__ or exc
                    diag = getattr(cause, "diag", None)
                    failures.append(
                        f"{type(exc).__name__}/{type(cause).__name__}: {getattr(diag, 'message_detail', '')}"
                    )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(done) == CLIENTS * CASES_PER_CLIENT
    assert verify_chain().first_break is None
