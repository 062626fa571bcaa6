"""The flows' lock: the process row, locked first (DESIGN.md invariant 10, docs/adr/0011-lock-order.md).

viewflow's ``SelectForUpdateLock`` retries a failed ``SELECT … FOR UPDATE`` up to five times inside the same
transaction. On PostgreSQL a failed statement (a deadlock victim, a lock timeout) aborts the whole transaction, so
every retry fails with "current transaction is aborted" and the original error is lost. A waiting lock has nothing to
retry: it either gets the row or the transaction is already lost. :class:`ProcessRowLock` therefore waits once and
lets the database's error propagate, and it refuses to be taken after the transaction appended to the audit chain —
the one order that deadlocked (the head held while waiting for a flow, against a step that holds the flow and
waits for the head).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from permissions import audit
from permissions.transactions import once_per_transaction, peek_in_transaction, step_atomic


class LockOrderViolation(RuntimeError):
    """A flow lock was asked for after the transaction appended to the audit chain. A bug: open the transaction
    with ``audit.atomic()`` so its audit rows are appended last (docs/adr/0011-lock-order.md)."""


def _process_key(flow_class: Any, process_pk: Any) -> tuple[str, str, str]:
    return ("locked process", flow_class.process_class._meta.label, str(process_pk))


def _created_key(process_pk: Any) -> tuple[str, str]:
    return ("process created", str(process_pk))


def process_created(process_pk: Any) -> None:
    """Note that this transaction inserted the process row ``process_pk`` (nobody else can see it, let alone lock it:
    locking it again buys nothing). Called from ``post_save`` of the flows' process classes."""
    once_per_transaction(_created_key(process_pk), lambda: True)


def locked_process(flow_class: Any, process_pk: Any) -> Any:
    """The flow's own process row (a ``CaseProcess``, ``ReportProcess``…) as the lock loaded it in this transaction,
    or loaded now (one query) when the lock did not."""
    return once_per_transaction(
        _process_key(flow_class, process_pk),
        lambda: flow_class.process_class._default_manager.get(pk=process_pk),
    )


class ProcessRowLock:
    """``SELECT … FOR UPDATE`` on the flow's process row, waiting for it, once; set as a flow's ``lock_impl``.

    The same statement loads the row as the flow's own process class (only the flow's table is locked, as before:
    ``of=("self",)``), kept for the step (:func:`locked_process`). A process this transaction has just inserted is
    not locked again (:func:`process_created`)."""

    @contextmanager
    def __call__(self, flow_class: Any, process_pk: Any) -> Iterator[None]:
        if audit.chain_head_taken():
            raise LockOrderViolation(
                f"{flow_class.__name__} lock requested after an audit append in the same transaction"
            )
        with step_atomic():
            if not peek_in_transaction(_created_key(process_pk)):
                manager = flow_class.process_class._default_manager
                once_per_transaction(
                    _process_key(flow_class, process_pk),
                    lambda: manager.select_for_update(no_key=True, of=("self",)).get(pk=process_pk),
                )
            yield
