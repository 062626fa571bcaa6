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
from permissions.transactions import step_atomic


class LockOrderViolation(RuntimeError):
    """A flow lock was asked for after the transaction appended to the audit chain. A bug: open the transaction
    with ``audit.atomic()`` so its audit rows are appended last (docs/adr/0011-lock-order.md)."""


class ProcessRowLock:
    """``SELECT … FOR UPDATE`` on the flow's process row, waiting for it, once; set as a flow's ``lock_impl``."""

    @contextmanager
    def __call__(self, flow_class: Any, process_pk: Any) -> Iterator[None]:
        if audit.chain_head_taken():
            raise LockOrderViolation(
                f"{flow_class.__name__} lock requested after an audit append in the same transaction"
            )
        with step_atomic():
            flow_class.process_class._default_manager.select_for_update(no_key=True).filter(pk=process_pk).exists()
            yield
