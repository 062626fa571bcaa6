"""The SQL that makes the audit table append-only. The one place that creates, drops and detects those triggers.

The database refuses UPDATE and DELETE on ``permissions_auditevent`` (and TRUNCATE on PostgreSQL), whoever asks:
the ORM, the admin, a shell, a raw cursor. The chain head table is deliberately *not* protected: it is updated on
every write.

Callers: the migration that installs the triggers (reversible, ``RunPython(create, drop)``), the test harness
(``tests/plugins/audit_triggers.py`` drops them around Django's ``flush``, which empties every table), and tests
that tamper with rows on purpose. Any future migration that *rebuilds* the audit table on SQLite (most ``AlterField``
operations do: new table, copy, drop, rename) loses the triggers with the old table and must call
:func:`create_triggers` again afterwards; ``tests/permissions/test_triggers.py`` fails if it does not.

This module imports no models on purpose: migrations call it, and it must describe the table as the migrations
create it, not as the current model says.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

AUDIT_TABLE = "permissions_auditevent"

_UPDATE_TRIGGER = "permissions_auditevent_no_update"
_DELETE_TRIGGER = "permissions_auditevent_no_delete"
_TRUNCATE_TRIGGER = "permissions_auditevent_no_truncate"
_PG_FUNCTION = "permissions_auditevent_refuse_change"

_SQLITE_CREATE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {_UPDATE_TRIGGER} BEFORE UPDATE ON {AUDIT_TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS {_DELETE_TRIGGER} BEFORE DELETE ON {AUDIT_TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END
    """,
]
_SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {_UPDATE_TRIGGER}",
    f"DROP TRIGGER IF EXISTS {_DELETE_TRIGGER}",
]

# SQLSTATE 23000 (integrity_constraint_violation) so both vendors surface the refusal as django.db.IntegrityError.
_PG_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit log is append-only: % refused on %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$
    """,
    f"DROP TRIGGER IF EXISTS {_UPDATE_TRIGGER} ON {AUDIT_TABLE}",
    f"DROP TRIGGER IF EXISTS {_DELETE_TRIGGER} ON {AUDIT_TABLE}",
    f"DROP TRIGGER IF EXISTS {_TRUNCATE_TRIGGER} ON {AUDIT_TABLE}",
    f"""
    CREATE TRIGGER {_UPDATE_TRIGGER} BEFORE UPDATE ON {AUDIT_TABLE}
    FOR EACH ROW EXECUTE FUNCTION {_PG_FUNCTION}()
    """,
    f"""
    CREATE TRIGGER {_DELETE_TRIGGER} BEFORE DELETE ON {AUDIT_TABLE}
    FOR EACH ROW EXECUTE FUNCTION {_PG_FUNCTION}()
    """,
    f"""
    CREATE TRIGGER {_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {AUDIT_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()
    """,
]
_PG_DROP = [
    f"DROP TRIGGER IF EXISTS {_UPDATE_TRIGGER} ON {AUDIT_TABLE}",
    f"DROP TRIGGER IF EXISTS {_DELETE_TRIGGER} ON {AUDIT_TABLE}",
    f"DROP TRIGGER IF EXISTS {_TRUNCATE_TRIGGER} ON {AUDIT_TABLE}",
    f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()",
]


def _statements(connection: BaseDatabaseWrapper, *, sqlite: list[str], postgresql: list[str]) -> list[str]:
    # Failing loudly on another vendor is the point: an audit table without the triggers must not go unnoticed.
    if connection.vendor == "sqlite":
        return sqlite
    if connection.vendor == "postgresql":
        return postgresql
    raise NotImplementedError(f"No append-only triggers for the {connection.vendor!r} database backend.")


def _execute(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def create_triggers(connection: BaseDatabaseWrapper) -> None:
    """Install the append-only triggers on the audit table. Idempotent; the table must exist."""
    _execute(connection, _statements(connection, sqlite=_SQLITE_CREATE, postgresql=_PG_CREATE))


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    """Remove the triggers. Only for the migration's reverse, the test harness's flush, and tamper tests."""
    _execute(connection, _statements(connection, sqlite=_SQLITE_DROP, postgresql=_PG_DROP))


def triggers_present(connection: BaseDatabaseWrapper) -> bool:
    """Whether every trigger this module creates exists (and, on PostgreSQL, is enabled) on the audit table."""
    if connection.vendor == "sqlite":
        expected = {_UPDATE_TRIGGER, _DELETE_TRIGGER}
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s"
    elif connection.vendor == "postgresql":
        expected = {_UPDATE_TRIGGER, _DELETE_TRIGGER, _TRUNCATE_TRIGGER}
        # tgenabled 'D' means ALTER TABLE ... DISABLE TRIGGER: present but not protecting anything.
        sql = (
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relname = %s AND c.relnamespace = to_regnamespace(current_schema()) "
            "AND NOT t.tgisinternal AND t.tgenabled <> 'D'"
        )
    else:
        return False
    with connection.cursor() as cursor:
        cursor.execute(sql, [AUDIT_TABLE])
        found = {row[0] for row in cursor.fetchall()}
    return expected <= found
