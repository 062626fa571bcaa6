"""The database itself refuses to change or remove audit rows, in ordinary and in transactional tests alike."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from permissions.audit import record, record_committed
from permissions.models import AuditAction, AuditEvent, AuditOutcome
from permissions.triggers import AUDIT_TABLE, create_triggers, drop_triggers, triggers_present

TABLE = AUDIT_TABLE


def _one_row() -> AuditEvent:
    return record(
        actor=None,
        action=AuditAction.READ,
        object_type="casework.child",
        object_id="1",
        fields=["first_name"],
        purpose="test",
        outcome=AuditOutcome.ALLOWED,
    )


def test_the_protected_table_is_the_models_table() -> None:
    assert AuditEvent._meta.db_table == AUDIT_TABLE


def test_triggers_present_in_ordinary_db_test(db: None) -> None:
    assert triggers_present(connection)


def test_triggers_present_in_transactional_test(transactional_db: None) -> None:
    assert triggers_present(connection)


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET purpose = 'tampered'",  # noqa: S608 - constant table name
        f"UPDATE {TABLE} SET row_hash = prev_hash",  # noqa: S608
        f"DELETE FROM {TABLE}",  # noqa: S608
        f"DELETE FROM {TABLE} WHERE seq = 1",  # noqa: S608
    ],
)
def test_raw_update_and_delete_refused(db: None, sql: str) -> None:
    event = _one_row()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    event.refresh_from_db()
    assert event.purpose == "test"
    assert AuditEvent.objects.count() == 1


def test_orm_update_and_delete_refused(db: None) -> None:
    event = _one_row()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(purpose="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.purpose = "tampered"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).purpose == "test"


def test_refusal_holds_in_transactional_test(transactional_db: None) -> None:
    _one_row()
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
    assert AuditEvent.objects.count() == 1


@pytest.mark.postgres
def test_truncate_refused_on_postgresql(db: None) -> None:
    _one_row()
    with connection.cursor() as cursor:
        # The row's deferred foreign-key check would otherwise make PostgreSQL refuse TRUNCATE for another reason.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.count() == 1


@pytest.mark.postgres
def test_disabled_trigger_is_not_counted_as_present(db: None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER permissions_auditevent_no_delete")
        assert not triggers_present(connection)
        transaction.set_rollback(True)
    assert triggers_present(connection)


def test_flush_empties_the_audit_table_and_keeps_the_triggers(transactional_db: None) -> None:
    """The harness's own contract: a flush (as at the end of every transactional test) works and restores them."""
    record_committed(
        actor=None,
        action=AuditAction.READ,
        object_type="casework.child",
        object_id="1",
        fields=["first_name"],
        purpose="test",
        outcome=AuditOutcome.ALLOWED,
    )
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 0
    assert triggers_present(connection)
    # The chain restarts cleanly after a flush (the head went with it).
    assert _one_row().seq == 1


def test_drop_and_create_are_idempotent(transactional_db: None) -> None:
    try:
        drop_triggers(connection)
        drop_triggers(connection)
        assert not triggers_present(connection)
        create_triggers(connection)
        create_triggers(connection)
        assert triggers_present(connection)
    finally:
        create_triggers(connection)


def test_migration_is_reversible(transactional_db: None) -> None:
    try:
        call_command("migrate", "permissions", "0001_audit_log", verbosity=0)
        assert not triggers_present(connection)
        call_command("migrate", "permissions", verbosity=0)
        assert triggers_present(connection)
    finally:
        call_command("migrate", verbosity=0)
        create_triggers(connection)
