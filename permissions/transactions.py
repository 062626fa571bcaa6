"""Transactions without savepoints that buy nothing (issue 20, docs/adr/0024-audit-append-per-transaction.md).

A flow step is one transaction: the flow lock, the step's services, viewflow's nodes and the audit append commit or
roll back together, and any exception propagates out of the step. A savepoint inside it (a nested
``transaction.atomic()``) costs two statements and protects nothing: nobody catches the exception inside the step
to carry on. :func:`step_atomic` is ``transaction.atomic()`` that opens a savepoint only when no real transaction is
open, i.e. when it *is* the transaction (in production that is a plain BEGIN; inside a Django test case's wrapper a
savepoint stands in for it, so a test that expects an error and goes on querying still can).

Do not use it where the caller catches an exception raised inside the block and goes on in the same transaction:
without a savepoint Django marks the whole transaction for rollback (and PostgreSQL has aborted it after a failed
statement anyway). Use ``transaction.atomic()`` there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "forget_in_transaction",
    "forget_rows",
    "once_per_transaction",
    "peek_in_transaction",
    "real_transaction_open",
    "remember_in_transaction",
    "replace_rows",
    "step_atomic",
    "unit_of_work_open",
]


def real_transaction_open(connection: BaseDatabaseWrapper) -> bool:
    """Whether ``connection`` is inside a transaction of the application's (not only a Django test case's wrapper,
    which stands in for autocommit), or has autocommit switched off by hand."""
    if connection.in_atomic_block:
        return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
    return not connection.get_autocommit()


def step_atomic(using: str | None = None) -> transaction.Atomic:
    """``transaction.atomic()`` that is a savepoint only when it opens the transaction (see the module)."""
    alias = using or DEFAULT_DB_ALIAS
    return transaction.atomic(using=alias, savepoint=not real_transaction_open(connections[alias]))


# --- A unit of work: rows loaded once per transaction ------------------------------------------------------------

T = TypeVar("T")


class _Loaded(threading.local):
    def __init__(self) -> None:
        #: Per database alias: the block that opened the current transaction, and what was loaded in it.
        self.by_alias: dict[str, tuple[Any, dict[Hashable, Any]]] = {}


_loaded = _Loaded()


def _outermost_real_block(connection: BaseDatabaseWrapper) -> Any:
    for block in connection.atomic_blocks:
        if not getattr(block, "_from_testcase", False):
            return block
    return None


def _cache(using: str) -> dict[Hashable, Any] | None:
    block = _outermost_real_block(connections[using])
    if block is None:
        return None
    held = _loaded.by_alias.get(using)
    if held is None or held[0] is not block:
        held = (block, {})
        _loaded.by_alias[using] = held
    return held[1]


def once_per_transaction(key: Hashable, load: Callable[[], T], using: str | None = None) -> T:
    """``load()`` once per transaction for ``key`` (a flow step reads its case many times: its nodes, due dates and
    access checks). Outside a transaction every call loads. The cache ends with the transaction that filled it (the
    next one opens a new block); :func:`forget_in_transaction` drops an entry a write has made stale."""
    cache = _cache(using or DEFAULT_DB_ALIAS)
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cast("T", cache[key])


def unit_of_work_open(using: str | None = None) -> bool:
    """Whether a transaction of the application is open, so :func:`once_per_transaction` keeps what it loads."""
    return _outermost_real_block(connections[using or DEFAULT_DB_ALIAS]) is not None


def remember_in_transaction(key: Hashable, value: Any, using: str | None = None) -> None:
    """Put ``value`` in the current transaction's unit of work for ``key`` (a write has just made it known, e.g.
    "no plan in work" after an approval); outside a transaction nothing is kept."""
    cache = _cache(using or DEFAULT_DB_ALIAS)
    if cache is not None:
        cache[key] = value


def peek_in_transaction(key: Hashable, using: str | None = None) -> Any:
    """What the current transaction's unit of work holds for ``key`` (``None`` if nothing, or outside one)."""
    cache = _cache(using or DEFAULT_DB_ALIAS)
    return None if cache is None else cache.get(key)


def forget_in_transaction(key: Hashable, using: str | None = None) -> None:
    """Drop ``key`` from the current transaction's unit of work (its row was just written)."""
    held = _loaded.by_alias.get(using or DEFAULT_DB_ALIAS)
    if held is not None:
        held[1].pop(key, None)


def forget_rows(model: type, pk: object, using: str | None = None) -> None:
    """Drop every entry of the current transaction's unit of work that is the ``model`` row ``pk`` (it was saved)."""
    held = _loaded.by_alias.get(using or DEFAULT_DB_ALIAS)
    if held is None:
        return
    for key, value in list(held[1].items()):
        if isinstance(value, model) and getattr(value, "pk", None) == pk:
            del held[1][key]


def replace_rows(model: type, pk: object, instance: Any, using: str | None = None) -> None:
    """Every entry of the current transaction's unit of work that is the ``model`` row ``pk`` becomes ``instance``
    (it was just saved: the saved object is what the next reader should see, without reading it back)."""
    held = _loaded.by_alias.get(using or DEFAULT_DB_ALIAS)
    if held is None:
        return
    for key, value in list(held[1].items()):
        if isinstance(value, model) and getattr(value, "pk", None) == pk:
            held[1][key] = instance
