"""Eight clients driving whole cases at once do not fail each other (issue 20).

Each thread has its own connection and takes its own fictional cases from the report to the approved plan through
the real services and flows (``bench.journey``), all starting together behind a barrier. Before the fix most cases
failed with ``DeadlockDetected`` (and some with ``AuditUnavailable``); every case must now complete and the audit
chain verify. Fictional data only.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction

from bench import journey
from casework.models import ResidenceMunicipality, User
from permissions import audit
from permissions.management.commands.verify_audit import verify_chain
from permissions.models import AuditEvent

CLIENTS = 8
CASES_PER_CLIENT = 2
WAIT = 10  # seconds a thread waits for another before the test gives up


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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_waiting_for_its_foreign_key_checks_does_not_hold_the_audit_head(
    coordinator: User, supervisor: User
) -> None:
    """PostgreSQL checks Django's (deferred) foreign keys at COMMIT, locking each referenced row FOR KEY SHARE. Those
    checks now run before the head is locked: a write whose check waits for another transaction's lock on the
    authority row does not make every audited read of the installation wait with it (the 8-client deadlock)."""
    assert coordinator.organisation is not None
    municipality = coordinator.organisation.municipality
    authority_locked, read_done = threading.Event(), threading.Event()
    read_finished_while_locked: list[bool] = []
    errors: list[BaseException] = []

    def holder() -> None:  # any transaction holding the authority row FOR UPDATE (or deleting a referenced row)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM casework_municipality WHERE id = %s FOR UPDATE", [municipality.pk])
                authority_locked.set()
                read_finished_while_locked.append(read_done.wait(timeout=WAIT))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def writer() -> None:  # inserts a row referencing the authority: its check must wait for the holder
        try:
            assert authority_locked.wait(timeout=WAIT)
            with audit.atomic():
                ResidenceMunicipality.objects.create(orp_id=municipality.pk, name="Zkušebná Lhota")
                audit.record_write(coordinator, None, "casework.user", coordinator.pk, ["first_name"], "write")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def reader() -> None:  # an audited read of something else entirely
        try:
            assert authority_locked.wait(timeout=WAIT)
            time.sleep(0.5)  # the writer is now waiting for its foreign-key check
            audit.record_committed(
                actor=supervisor,
                action=audit.AuditAction.READ,
                object_type="casework.user",
                object_id=supervisor.pk,
                fields=["first_name"],
                purpose="read",
                outcome=audit.AuditOutcome.ALLOWED,
            )
            read_done.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target) for target in (holder, writer, reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert read_finished_while_locked == [True], "the audited read waited for a write's foreign-key check"
    assert list(AuditEvent.objects.order_by("seq").values_list("purpose", flat=True)) == ["read", "write"]
    assert verify_chain().first_break is None


class _Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg's DeadlockDetected carries


@pytest.mark.django_db
def test_a_deadlock_at_the_append_is_the_databases_error_for_a_write_and_audit_unavailable_for_a_read(
    coordinator: User,
) -> None:
    """Eight clients' deadlocks came out of the append as ``AuditUnavailable``, hiding where they were. A write now
    gets the database's own lock error (its transaction rolls back as before); a read still fails closed."""

    def deadlocked(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # The audit rows' INSERT, whichever statement carries it (PostgreSQL's append writes it with the head's move).
        if f'INSERT INTO "{AuditEvent._meta.db_table}"' in sql:
            raise OperationalError("deadlock detected") from _Deadlock()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(deadlocked), pytest.raises(OperationalError), audit.atomic():
        audit.record_write(coordinator, None, "casework.user", coordinator.pk, ["first_name"], "write")
    with connection.execute_wrapper(deadlocked), pytest.raises(audit.AuditUnavailable):
        audit.record_committed(
            actor=coordinator,
            action=audit.AuditAction.READ,
            object_type="casework.user",
            object_id=coordinator.pk,
            fields=["first_name"],
            purpose="read",
            outcome=audit.AuditOutcome.ALLOWED,
        )
    assert not AuditEvent.objects.exists()
