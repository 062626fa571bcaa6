"""viewflow's node savepoints, left out where they buy nothing (issue 20, docs/adr/0026-lean-steps-second-pass.md).

viewflow runs the body of every gateway, function, join and end node — and the start of a process — inside
``transaction.atomic(savepoint=True)`` under its ``exception_guard``. The savepoint is there for one case: a node
run with ``context.propagate_exception = False`` (a background trigger) swallows the exception, rolls back to the
savepoint and saves the task as ``ERROR``, and the transaction goes on. Our steps never do that: every transition
runs with viewflow's default ``propagate_exception = True`` inside the step's own transaction
(``workflows.tasks``, ``report_receive``, the lifecycle hooks), and an exception anywhere rolls the whole step back.
There the savepoint is two statements (SAVEPOINT, RELEASE) per node and protects nothing.

:func:`install` gives viewflow's node modules a ``transaction`` whose ``atomic()`` opens a savepoint only where one
can matter: when exceptions are swallowed (``propagate_exception`` false), or when no transaction of the
application is open (the block *is* the transaction; inside a Django test case's wrapper a savepoint still stands
in for it, as with ``permissions.transactions.step_atomic``). Everything else in the module is Django's own.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from viewflow.workflow.context import context

from permissions.transactions import real_transaction_open

#: viewflow's node modules whose activations wrap node bodies in ``transaction.atomic(savepoint=True)``.
NODE_MODULES = (
    "viewflow.workflow.nodes.boundary",
    "viewflow.workflow.nodes.compensate",
    "viewflow.workflow.nodes.end",
    "viewflow.workflow.nodes.events",
    "viewflow.workflow.nodes.func",
    "viewflow.workflow.nodes.if_gate",
    "viewflow.workflow.nodes.join",
    "viewflow.workflow.nodes.start",
    "viewflow.workflow.nodes.switch",
    "viewflow.workflow.nodes.timer",
)


class _Switch(threading.local):
    as_shipped = False


_switch = _Switch()


@contextmanager
def as_shipped() -> Iterator[None]:
    """viewflow's own savepoints, every one (the bench's bare-viewflow baseline measures viewflow as shipped)."""
    before, _switch.as_shipped = _switch.as_shipped, True
    try:
        yield
    finally:
        _switch.as_shipped = before


def _savepoint_needed(using: str | None) -> bool:
    if _switch.as_shipped:
        return True
    if not getattr(context, "propagate_exception", True):
        return True  # the guard swallows the exception and goes on: it needs the savepoint to roll back to
    return not real_transaction_open(connections[using or DEFAULT_DB_ALIAS])


class NodeTransactions:
    """``django.db.transaction`` for viewflow's node modules, with ``atomic()`` as described in the module."""

    def __getattr__(self, name: str) -> Any:
        return getattr(transaction, name)

    def atomic(
        self, using: str | Callable[..., Any] | None = None, savepoint: bool = True, durable: bool = False
    ) -> Any:
        if callable(using):  # used bare as a decorator: Django's own behaviour
            return transaction.atomic(using)
        return transaction.atomic(using=using, savepoint=savepoint and _savepoint_needed(using), durable=durable)


def install() -> None:
    """Point viewflow's node modules at :class:`NodeTransactions` (from ``WorkflowsConfig.ready``; idempotent)."""
    shim = NodeTransactions()
    for name in NODE_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "transaction", None) is transaction or isinstance(
            getattr(module, "transaction", None), NodeTransactions
        ):
            module.transaction = shim  # type: ignore[attr-defined]
