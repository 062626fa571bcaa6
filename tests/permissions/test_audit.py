"""The audit chain: what a row holds, how it is appended, and how the verifier names the first broken row."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import itertools
import json
import threading
import uuid
from base64 import b64decode
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from casework.models.organisations import Municipality, Organisation, Role, Sector, User
from permissions.audit import (
    AuditRecordInvalid,
    AuditUnavailable,
    canonical_content,
    events_for_actor,
    events_for_case,
    record,
    record_committed,
)
from permissions.audit import (
    atomic as audit_atomic,
)
from permissions.middleware import RequestContextMiddleware
from permissions.models import GENESIS_HASH, AuditAction, AuditChainHead, AuditEvent, AuditOutcome

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def worker(db: None) -> User:
    municipality = Municipality.objects.get_or_create(code="OM", defaults={"name": "Olomouc"})[0]
    ospod = Organisation.objects.create(name="OSPOD Olomouc", sector=Sector.OSPOD, municipality=municipality)
    return User.objects.create_user(username="novakova", role=Role.OSPOD_WORKER, organisation=ospod)


def _read(actor: User | None = None, *, case_id: uuid.UUID | None = None, **overrides: object) -> AuditEvent:
    arguments: dict[str, object] = {
        "actor": actor,
        "action": AuditAction.READ,
        "object_type": "casework.child",
        "object_id": str(uuid.uuid4()),
        "fields": ["first_name", "birth_number"],
        "purpose": "case page",
        "outcome": AuditOutcome.ALLOWED,
        "case_id": case_id,
    }
    arguments.update(overrides)
    return record_committed(**arguments)  # type: ignore[arg-type]


def _verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def _broken() -> str:
    with pytest.raises(CommandError) as excinfo:
        _verify()
    return str(excinfo.value)


# --- The chain ----------------------------------------------------------------------------------------------------


def test_chain_of_several_rows_verifies(worker: User) -> None:
    events = [_read(worker) for _ in range(3)] + [
        record(
            actor=worker,
            action=AuditAction.WRITE,
            object_type="casework.case",
            object_id=str(uuid.uuid4()),
            fields=["notes"],
            purpose="edit",
            outcome=AuditOutcome.ALLOWED,
        ),
        _read(None, action=AuditAction.DENY, outcome=AuditOutcome.DENIED),
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.row_hash for earlier, later in itertools.pairwise(events))
    head = AuditChainHead.objects.get()
    assert (head.seq, head.last_hash) == (5, events[-1].row_hash)
    assert _verify().strip() == "OK: 5 rows, chain intact"


def test_row_hash_is_hmac_over_prev_hash_and_canonical_json(worker: User) -> None:
    case_id = uuid.uuid4()
    _read(worker)
    event = AuditEvent.objects.get(pk=_read(worker, case_id=case_id).pk)  # as read back from the database
    content = json.loads(canonical_content(event))
    assert "id" not in content
    assert "row_hash" not in content
    assert content["case_id"] == str(case_id)
    assert content["occurred_at"].endswith("Z")
    assert len(content["occurred_at"]) == len("2026-01-01T00:00:00.000000Z")
    assert canonical_content(event) == json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    key = b64decode(settings.AUDIT_HMAC_KEY)
    expected = hmac.new(key, event.prev_hash.encode() + canonical_content(event), hashlib.sha256).hexdigest()
    assert event.row_hash == expected


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"actor_username": "nováková-ž", "actor_organisation": 'OSPOD "Olomouc" \\ 1', "purpose": "čtení ☃"},
        {"case_id": uuid.UUID(int=7), "client_ip": "2001:db8::1", "request_id": "r-1", "field_names": []},
        {"actor_id": 123456789, "field_names": ["a", "b_c", "z9"], "object_id": "12"},
    ],
)
def test_the_frame_made_before_the_lock_gives_the_canonical_bytes(overrides: dict[str, Any]) -> None:
    """The append serialises each row before the head is locked, cut around seq, occurred_at and prev_hash
    (``permissions.audit._content_frame``); put together under the lock it must be exactly canonical_content."""
    from permissions.audit import _content_frame, _dumps, _format_datetime

    fields: dict[str, Any] = {
        "action": AuditAction.READ,
        "actor_role": "system",
        "object_type": "casework.child",
        "object_id": str(uuid.uuid4()),
        "field_names": ["birth_number", "first_name"],
        "purpose": "case page",
        "outcome": AuditOutcome.ALLOWED,
    }
    fields.update(overrides)
    event = AuditEvent(**fields)
    frame = _content_frame(event)
    event.seq, event.prev_hash = 41, "ab" * 32
    event.occurred_at = datetime.datetime(2026, 12, 4, 21, 30, 1, 2345, tzinfo=datetime.UTC)
    occurred, prev_hash = _dumps(_format_datetime(event.occurred_at)), _dumps(event.prev_hash)
    joined = f"{frame[0]}{occurred}{frame[1]}{prev_hash}{frame[2]}41{frame[3]}"
    assert joined.encode("ascii") == canonical_content(event)


def test_row_snapshots_the_actor_and_holds_only_names(worker: User) -> None:
    event = _read(worker, fields=["surname", "first_name", "surname"])
    assert (event.actor_username, event.actor_role) == ("novakova", Role.OSPOD_WORKER)
    assert (event.actor_organisation, event.actor_sector) == ("OSPOD Olomouc", Sector.OSPOD)
    assert event.field_names == ["first_name", "surname"]
    system = _read(None)
    assert (system.actor, system.actor_username, system.actor_role) == (None, "", "system")


def test_a_write_holds_the_head_for_its_lock_one_append_statement_and_the_commit(worker: User) -> None:
    """What runs while the head is locked (docs/adr/0025, addendum): on PostgreSQL the lock-and-read and one statement
    that inserts every row and moves the head — the deferred foreign-key checks run before the lock; on SQLite the
    ORM's read, INSERT and UPDATE. Nothing of the transaction's own work comes after the lock."""
    _read(worker)  # the head exists
    with CaptureQueriesContext(connection) as captured, audit_atomic():
        worker.first_name = "Alena"
        worker.save(update_fields=["first_name"])
        for field_name in ("first_name", "last_name", "email"):
            record(
                actor=worker,
                action=AuditAction.WRITE,
                object_type="casework.user",
                object_id=worker.pk,
                fields=[field_name],
                purpose="edit",
                outcome=AuditOutcome.ALLOWED,
            )
    # The test's wrapper turns the transaction into a savepoint: its SAVEPOINT/RELEASE stand for BEGIN/COMMIT.
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    lock = next(i for i, sql in enumerate(statements) if AuditChainHead._meta.db_table in sql)
    held = statements[lock:]
    if connection.vendor == "postgresql":
        assert statements[lock - 1] == "SET CONSTRAINTS ALL IMMEDIATE"
        assert len(held) == 2, held
        assert held[0].endswith("WHERE id = 1 FOR UPDATE")
        assert held[1].startswith(f'WITH appended AS (INSERT INTO "{TABLE}"')
        assert f'UPDATE "{AuditChainHead._meta.db_table}" SET "seq"' in held[1]  # noqa: S608
    else:
        assert len(held) == 3, held
    written = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in written] == [1, 2, 3, 4]
    assert [e.field_names for e in written[1:]] == [["first_name"], ["last_name"], ["email"]]
    assert AuditChainHead.objects.get().last_hash == written[-1].row_hash
    assert _verify().strip() == "OK: 4 rows, chain intact"


def test_values_rendered_before_the_lock_are_stored_as_given(worker: User) -> None:
    """PostgreSQL's append renders the fixed values into its statement before the lock: a percent sign, quotes, a
    backslash or a placeholder-like text in them is stored as given, and the chain verifies."""
    purpose = "100 % of %s and %(x)s: 'quoted' \\ \"double\" ☃"
    organisation = worker.organisation
    assert organisation is not None
    organisation.name = "OSPOD 50 % 'Olomouc' \\"
    organisation.save(update_fields=["name"])
    event = _read(worker, purpose=purpose, case_id=uuid.uuid4())
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.purpose, stored.actor_organisation) == (purpose, "OSPOD 50 % 'Olomouc' \\")
    assert (stored.seq, stored.row_hash, stored.case_id) == (event.seq, event.row_hash, event.case_id)
    assert _verify().strip() == "OK: 1 rows, chain intact"


def test_record_rolls_back_with_the_callers_write(worker: User) -> None:
    def failing_write() -> None:
        with audit_atomic():  # the write's transaction (docs/adr/0011-lock-order.md)
            record(
                actor=worker,
                action=AuditAction.WRITE,
                object_type="casework.case",
                object_id="1",
                fields=["notes"],
                purpose="edit",
                outcome=AuditOutcome.ALLOWED,
            )
            raise RuntimeError("the write failed")

    with pytest.raises(RuntimeError):
        failing_write()
    assert not AuditEvent.objects.exists()
    assert _read(worker).seq == 1
    assert "OK: 1 rows" in _verify()


# --- The verifier -------------------------------------------------------------------------------------------------


def test_verify_empty_log(db: None) -> None:
    assert _verify().strip() == "OK: 0 rows, chain intact"


def test_tampered_row_is_named(worker: User, audit_triggers_dropped: None) -> None:
    events = [_read(worker) for _ in range(4)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET purpose = %s WHERE seq = 2", ["nothing to see"])  # noqa: S608
    message = _broken()
    assert f"seq=2 id={events[1].pk}" in message
    assert "hash mismatch" in message


@pytest.mark.parametrize("column", ["field_names", "actor_username", "occurred_at", "client_ip"])
def test_each_covered_column_is_tamper_evident(worker: User, audit_triggers_dropped: None, column: str) -> None:
    _read(worker)
    victim = _read(worker)
    _read(worker)
    value = {
        "field_names": '["first_name"]',
        "actor_username": "someone_else",
        "occurred_at": "2020-01-01 00:00:00",
        "client_ip": "203.0.113.9",
    }[column]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {column} = %s WHERE seq = 2", [value])  # noqa: S608
    assert f"seq=2 id={victim.pk}" in _broken()


def test_forged_hash_breaks_the_next_link(worker: User, audit_triggers_dropped: None) -> None:
    events = [_read(worker) for _ in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET row_hash = %s WHERE seq = 2", ["f" * 64])  # noqa: S608
    assert f"seq=2 id={events[1].pk}" in _broken()


def test_deleted_middle_row_is_detected(worker: User, audit_triggers_dropped: None) -> None:
    events = [_read(worker) for _ in range(5)]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = 3")  # noqa: S608
    message = _broken()
    assert f"seq=4 id={events[3].pk}" in message
    assert "gap in seq" in message


def test_deleted_last_row_is_detected(worker: User, audit_triggers_dropped: None) -> None:
    for _ in range(3):
        _read(worker)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = 3")  # noqa: S608
    assert "head says 3" in _broken()


def test_row_appended_around_the_head_is_detected(worker: User) -> None:
    _read(worker)
    AuditChainHead.objects.update(seq=0, last_hash=GENESIS_HASH)  # the head is not append-only, by design
    message = _broken()
    assert "seq=1" in message
    assert "beyond the chain head" in message


def test_verify_uses_the_key(worker: User) -> None:
    _read(worker)
    with override_settings(AUDIT_HMAC_KEY="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="):
        assert "seq=1" in _broken()


def test_verify_walks_in_batches(worker: User) -> None:
    for _ in range(7):
        _read(worker)
    out = StringIO()
    call_command("verify_audit", "--chunk-size", "2", stdout=out)
    assert out.getvalue().strip() == "OK: 7 rows, chain intact"


# --- Failing closed -----------------------------------------------------------------------------------------------


def test_record_committed_refuses_an_outer_transaction(transactional_db: None) -> None:
    with transaction.atomic(), pytest.raises(AuditUnavailable, match="open transaction"):
        _read(None)
    assert not AuditEvent.objects.exists()


def test_record_committed_refuses_manual_transaction(transactional_db: None) -> None:
    transaction.set_autocommit(False)
    try:
        with pytest.raises(AuditUnavailable):
            _read(None)
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)


def test_record_committed_commits_outside_transactions(transactional_db: None) -> None:
    event = _read(None)
    # Another connection sees it: it is committed, not just written.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
            assert cursor.fetchone() == (1,)
    finally:
        other.close()


def test_failing_insert_raises_audit_unavailable(worker: User) -> None:
    def broken_insert(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # The audit rows' INSERT, whichever statement carries it (PostgreSQL's append writes it with the head's move).
        if f'INSERT INTO "{TABLE}"' in sql:
            raise DatabaseError("disk full")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(broken_insert):
        with pytest.raises(AuditUnavailable) as excinfo:
            _read(worker)
        assert isinstance(excinfo.value.__cause__, DatabaseError)
        with pytest.raises(AuditUnavailable):
            record(
                actor=worker,
                action=AuditAction.WRITE,
                object_type="casework.case",
                object_id="1",
                fields=["notes"],
                purpose="edit",
                outcome=AuditOutcome.ALLOWED,
            )
    assert not AuditEvent.objects.exists()
    assert _read(worker).seq == 1  # the head did not advance for the failed rows


def test_missing_key_raises_audit_unavailable(worker: User) -> None:
    with override_settings(AUDIT_HMAC_KEY=""), pytest.raises(AuditUnavailable):
        _read(worker)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        ["first_name=Jan"],
        ["Jan Novák"],
        ["birth_number:8001011234"],
        ["8001011234"],
        ["first_name", "notes; DROP TABLE"],
        [""],
        ["x" * 64],
        "first_name",  # one string, not a list of names
    ],
)
def test_values_in_field_names_are_rejected(worker: User, fields: object) -> None:
    with pytest.raises(AuditRecordInvalid) as excinfo:
        _read(worker, fields=fields)
    assert "Novák" not in str(excinfo.value)
    assert "8001011234" not in str(excinfo.value)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("object_id", "Jan Novák"),
        ("object_type", "child"),
        ("case_id", "not-a-uuid"),
        ("purpose", ""),
        ("purpose", "x" * 201),
        ("action", "peek"),
        ("outcome", "maybe"),
    ],
)
def test_other_arguments_are_validated(worker: User, argument: str, value: str) -> None:
    with pytest.raises(AuditRecordInvalid):
        _read(worker, **{argument: value})  # type: ignore[arg-type]
    assert not AuditEvent.objects.exists()


# --- Request context ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("remote_addr", "stored"), [("192.0.2.10", "192.0.2.10"), ("2001:DB8:0::1", "2001:db8::1")])
def test_request_id_and_client_ip_come_from_the_middleware(worker: User, remote_addr: str, stored: str) -> None:
    events: list[AuditEvent] = []

    def view(request: HttpRequest) -> HttpResponse:
        events.append(_read(worker))
        return HttpResponse("ok")

    response = RequestContextMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR=remote_addr))
    event = AuditEvent.objects.get(pk=events[0].pk)
    assert event.request_id == response["X-Request-ID"]
    assert event.client_ip == stored
    assert "OK: 1 rows" in _verify()  # the address hashes the same as the database gives it back


def test_outside_a_request_the_context_is_empty(worker: User) -> None:
    event = _read(worker)
    assert (event.request_id, event.client_ip) == ("", None)


# --- Selectors ----------------------------------------------------------------------------------------------------


def test_selectors_answer_who_and_what(worker: User) -> None:
    case_a, case_b = uuid.uuid4(), uuid.uuid4()
    first = _read(worker, case_id=case_a)
    _read(None, case_id=case_b)
    last = _read(worker, case_id=case_a)
    assert list(events_for_case(case_a)) == [first, last]
    assert list(events_for_actor(worker)) == [first, last]


def test_admin_is_read_only(admin_client: object, worker: User) -> None:
    event = _read(worker)
    client = admin_client
    assert client.get("/admin/permissions/auditevent/").status_code == 200  # type: ignore[attr-defined]
    assert client.get("/admin/permissions/auditevent/add/").status_code == 403  # type: ignore[attr-defined]
    delete_url = f"/admin/permissions/auditevent/{event.pk}/delete/"
    assert client.post(delete_url, {"post": "yes"}).status_code == 403  # type: ignore[attr-defined]
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- Concurrency --------------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_concurrent_writers_leave_a_gapless_chain(transactional_db: None) -> None:
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def write_fifty() -> None:
        try:
            start.wait()
            for _ in range(50):
                _read(None)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write_fifty) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 101))
    assert _verify().strip() == "OK: 100 rows, chain intact"
