"""Two transactions' audited work does not serialise on the audit chain's head (issue 20; docs/adr/0011-lock-order.md
and docs/adr/0024-audit-append-per-transaction.md): a transaction records its rows while it works and appends them
once, as its last statements, so the head is locked only from that append to its COMMIT — never while it holds its
work open. Fictional data only."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connections

from casework.models import User
from permissions import audit
from permissions.management.commands.verify_audit import verify_chain
from permissions.models import AuditEvent

WAIT = 10  # seconds a thread waits for the other before the test gives up (a serialised head never gets there)


def _write(user: User, purpose: str) -> None:
    audit.record_write(user, None, "casework.user", user.pk, ["first_name"], purpose)


def _run_while_a_holds_its_work_open(coordinator: User, second: Callable[[], None]) -> tuple[bool, list[BaseException]]:
    """Transaction A records an audited write and then holds its work open until B is done (or WAIT passes); B runs
    ``second`` once A has recorded. Returns whether B finished before A committed, and any errors."""
    start = threading.Barrier(2)
    a_recorded = threading.Event()
    b_done = threading.Event()
    b_finished_before_a_committed: list[bool] = []
    errors: list[BaseException] = []

    def transaction_a() -> None:
        try:
            start.wait()
            with audit.atomic():
                _write(coordinator, "transaction a")
                a_recorded.set()
                b_finished_before_a_committed.append(b_done.wait(timeout=WAIT))
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    def transaction_b() -> None:
        try:
            start.wait()
            assert a_recorded.wait(timeout=WAIT)
            second()
            b_done.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=transaction_a), threading.Thread(target=transaction_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return b_finished_before_a_committed == [True], errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_audited_write_completes_while_another_transaction_holds_its_audited_work_open(
    coordinator: User, supervisor: User
) -> None:
    def audited_write() -> None:
        with audit.atomic():
            _write(supervisor, "transaction b")

    finished_first, errors = _run_while_a_holds_its_work_open(coordinator, audited_write)

    assert errors == []
    assert finished_first, "B's audited write waited for A's commit: the head was held for A's whole transaction"
    # Chain order is append order: B appended (and committed) first, A when it ended; the chain is intact.
    assert list(AuditEvent.objects.order_by("seq").values_list("purpose", flat=True)) == [
        "transaction b",
        "transaction a",
    ]
    assert verify_chain().first_break is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_audited_read_is_committed_while_another_transaction_holds_its_audited_work_open(
    coordinator: User, supervisor: User
) -> None:
    """The gate's committed read row (fail closed: durable before any plaintext) does not wait for A either."""

    def audited_read() -> None:
        audit.record_committed(
            actor=supervisor,
            action=audit.AuditAction.READ,
            object_type="casework.user",
            object_id=coordinator.pk,
            fields=["first_name"],
            purpose="read b",
            outcome=audit.AuditOutcome.ALLOWED,
        )

    finished_first, errors = _run_while_a_holds_its_work_open(coordinator, audited_read)

    assert errors == []
    assert finished_first, "B's committed read waited for A's commit"
    assert list(AuditEvent.objects.order_by("seq").values_list("purpose", flat=True)) == ["read b", "transaction a"]
    assert verify_chain().first_break is None
