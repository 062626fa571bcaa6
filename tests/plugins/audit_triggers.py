"""Lets transactional tests empty the database although the audit table refuses DELETE and TRUNCATE.

Transactional tests (``transactional_db``, ``django_db(transaction=True)``, ``live_server``, websocket tests, Django
``TransactionTestCase`` classes) end with Django's ``flush`` command, which runs ``DELETE FROM`` (SQLite) or
``TRUNCATE`` (PostgreSQL) on every table, the audit table included, and the append-only triggers refuse it.

Where the flush happens (checked in pytest-django 4.14 and Django 5.2): pytest-django's ``_django_db_helper``
fixture builds a ``TransactionTestCase`` and calls its ``_post_teardown()`` in the fixture's own teardown, which
calls ``call_command("flush", ...)``. After the flush Django emits ``post_migrate`` *unless* the test uses
``serialized_rollback`` or ``available_apps``, so a ``post_migrate`` receiver cannot be relied on to put the triggers
back; and a fixture's teardown only runs before the helper's if pytest happens to order it after the helper.

So the harness wraps the ``flush`` command itself for the whole session: drop the triggers, flush, recreate them
(in ``finally``) if they were there before. That is independent of fixture order, signals, the database vendor and
the xdist worker (each worker process installs its own wrapper around its own database). It only runs in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from permissions.triggers import AUDIT_TABLE, create_triggers, drop_triggers, triggers_present


def _has_audit_table(connection: BaseDatabaseWrapper) -> bool:
    return AUDIT_TABLE in connection.introspection.table_names()


def _retry_while_locked(step: Callable[[], None], attempts: int = 20) -> None:
    """Run ``step``, waiting out a live-server thread that still holds the shared in-memory SQLite database (its last
    request finishing as the test ends): SQLite answers "database table is locked" instead of waiting."""
    for attempt in range(attempts):
        try:
            step()
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


def _flush_around_triggers(original: Callable[..., Any]) -> Callable[..., Any]:
    def handle(self: flush.Command, **options: Any) -> Any:
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        # Restore what was there, not more: a missing migration must stay visible to the test that checks for it.
        protected = _has_audit_table(connection) and triggers_present(connection)
        if protected:
            _retry_while_locked(lambda: drop_triggers(connection))
        try:
            return original(self, **options)
        finally:
            if protected:
                create_triggers(connection)

    return handle


@pytest.fixture(autouse=True, scope="session")
def _audit_triggers_survive_flush() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flush.Command, "handle", _flush_around_triggers(flush.Command.handle))
        yield


@pytest.fixture
def audit_triggers_dropped(db: None) -> Iterator[None]:
    """For tests that tamper with audit rows on purpose: the triggers are off inside the test, back on after it."""
    connection = connections[DEFAULT_DB_ALIAS]
    drop_triggers(connection)
    try:
        yield
    finally:
        create_triggers(connection)
