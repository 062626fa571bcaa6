"""Writing and reading the audit log: the chain, its canonical form, and the two ways to append a row.

* :func:`record` records the row of a **write** of protected fields inside the caller's ``audit.atomic()`` block;
  the rows of a transaction are appended as its last statements (:func:`atomic`), so the chain's head is locked
  last and briefly (DESIGN.md invariant 10, docs/adr/0011-lock-order.md). If the write rolls back, its audit row
  does too, and a write without its audit row never commits.
* :func:`record_committed` appends in a transaction of its own and returns only once the row is committed. For
  protected **reads** and **denials**: the gate calls it before it decrypts anything or raises its 404, and treats
  :class:`AuditUnavailable` as "no plaintext". It refuses to run inside an outer transaction, whose rollback would
  take the row with it (the gate reads before any write transaction opens; views are not atomic).

Each row's ``row_hash`` is ``HMAC-SHA256(AUDIT_HMAC_KEY, prev_hash || canonical JSON)``; see
:func:`canonical_content` and docs/adr/0003-audit-chain.md. Writers serialise on the locked
:class:`~permissions.models.AuditChainHead` row. Rows carry field *names* only; the validators below reject anything
that does not look like an identifier, so a value cannot be smuggled in as a "field name" or an object id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from permissions.middleware import current_request_context
from permissions.models import CHAIN_HEAD_PK, AuditAction, AuditChainHead, AuditEvent, AuditOutcome
from permissions.transactions import real_transaction_open, step_atomic

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from casework.models.organisations import User

__all__ = [
    "AuditAction",
    "AuditOutcome",
    "AuditRecordInvalid",
    "AuditUnavailable",
    "Entry",
    "atomic",
    "canonical_content",
    "chain_head_taken",
    "compute_row_hash",
    "events_for_actor",
    "events_for_case",
    "hmac_key",
    "record",
    "record_committed",
    "record_many_committed",
    "record_write",
]

SYSTEM_ROLE = "system"
ANONYMOUS_ROLE = "anonymous"

_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_OBJECT_TYPE = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_OBJECT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_FIELDS = 100
_MAX_PURPOSE = AuditEvent._meta.get_field("purpose").max_length or 200
_MIN_KEY_BYTES = 32


class AuditUnavailable(Exception):
    """The audit row could not be written (or could not be made durable). Callers must not reveal plaintext.

    Raised chained from the underlying error (``raise ... from exc``): a database error, a missing or malformed
    ``AUDIT_HMAC_KEY``, or :func:`record_committed` being called inside an outer transaction.
    """


class AuditRecordInvalid(ValueError):
    """The caller passed something that must not go into the audit log (a value where a name belongs). A bug."""


# --- The chain ----------------------------------------------------------------------------------------------------


def hmac_key() -> bytes:
    """The chain's key from ``AUDIT_HMAC_KEY`` (base64, at least 32 bytes). Raises ImproperlyConfigured otherwise."""
    raw = settings.AUDIT_HMAC_KEY
    if not raw:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY is not set; the audit chain cannot be written or verified.")
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must be base64.") from exc
    if len(key) < _MIN_KEY_BYTES:
        raise ImproperlyConfigured(f"AUDIT_HMAC_KEY must decode to at least {_MIN_KEY_BYTES} bytes.")
    return key


def _format_datetime(value: datetime) -> str:
    if timezone.is_naive(value):
        raise ValueError("audit timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: The canonical form's columns that only the append knows: they are set under the head's lock (:func:`_chain`).
_CHAINED = ("occurred_at", "prev_hash", "seq")


def _dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _content(event: AuditEvent) -> dict[str, Any]:
    """The canonical form's columns that the row has before it is chained (all but :data:`_CHAINED`)."""
    return {
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_role": event.actor_role,
        "actor_organisation": event.actor_organisation,
        "actor_sector": event.actor_sector,
        "action": str(event.action),
        "object_type": event.object_type,
        "object_id": event.object_id,
        "case_id": str(uuid.UUID(str(event.case_id))) if event.case_id is not None else None,
        "field_names": list(event.field_names),
        "purpose": event.purpose,
        "outcome": str(event.outcome),
        "request_id": event.request_id,
        "client_ip": event.client_ip,
    }


def canonical_content(event: AuditEvent) -> bytes:
    """The bytes the row's HMAC covers: every column except ``id`` and ``row_hash``, as sorted-key compact JSON.

    Values are normalised to the form the database gives back (UUID as hyphenated lower-case text, datetimes as UTC
    ISO 8601 with microseconds), so the verifier recomputes the same bytes from a row it reads. Changing this
    function invalidates every existing chain: add a version first (see the ADR).
    """
    content = _content(event)
    content.update(seq=event.seq, occurred_at=_format_datetime(event.occurred_at), prev_hash=event.prev_hash)
    return _dumps(content).encode("ascii")


def _content_frame(event: AuditEvent) -> tuple[str, ...]:
    """:func:`canonical_content` of a row not yet chained, cut where the :data:`_CHAINED` values go, in key order:
    ``frame[0] + occurred_at + frame[1] + prev_hash + frame[2] + seq + frame[3]`` (each value as JSON) is the same
    text. Made before the head is locked, so the append serialises nothing under it but those three values
    (``tests/permissions/test_audit.py`` checks the two agree)."""
    content = _content(event)
    pieces: list[str] = []
    current = "{"
    for index, key in enumerate(sorted([*content, *_CHAINED])):
        current += ("," if index else "") + _dumps(key) + ":"
        if key in _CHAINED:
            pieces.append(current)
            current = ""
        else:
            current += _dumps(content[key])
    pieces.append(current + "}")
    assert len(pieces) == len(_CHAINED) + 1  # sorted: occurred_at, prev_hash, seq
    return tuple(pieces)


def compute_row_hash(event: AuditEvent, *, key: bytes | None = None) -> str:
    """``HMAC-SHA256(key, prev_hash || canonical_content)`` as lower-case hex. ``key`` defaults to the setting."""
    mac = hmac.new(key if key is not None else hmac_key(), digestmod=hashlib.sha256)
    mac.update(event.prev_hash.encode("ascii"))
    mac.update(canonical_content(event))
    return mac.hexdigest()


# --- Validation and snapshots -------------------------------------------------------------------------------------


def _field_names(fields: Iterable[str]) -> list[str]:
    if isinstance(fields, str):
        raise AuditRecordInvalid("fields must be a collection of field names, not one string")
    names = sorted(set(fields))
    if len(names) > _MAX_FIELDS:
        raise AuditRecordInvalid(f"at most {_MAX_FIELDS} field names per audit row")
    for name in names:
        if not isinstance(name, str) or not _FIELD_NAME.match(name):
            # Never echo the rejected string: it may be the very value that must not be logged.
            raise AuditRecordInvalid("a field name must be a lower-case identifier (names only, never values)")
    return names


def _checked(
    *, action: str, object_type: str, object_id: object, purpose: str, outcome: str, case_id: object
) -> tuple[str, str, uuid.UUID | None]:
    if action not in AuditAction.values:
        raise AuditRecordInvalid(f"unknown audit action {action!r}")
    if outcome not in AuditOutcome.values:
        raise AuditRecordInvalid(f"unknown audit outcome {outcome!r}")
    if not _OBJECT_TYPE.match(object_type):
        raise AuditRecordInvalid("object_type must look like 'app_label.model'")
    object_id_text = str(object_id)
    if not _OBJECT_ID.match(object_id_text):
        raise AuditRecordInvalid("object_id must be a UUID, a number or a short identifier")
    if not purpose or len(purpose) > _MAX_PURPOSE:
        raise AuditRecordInvalid(f"purpose is required and at most {_MAX_PURPOSE} characters")
    case_uuid: uuid.UUID | None = None
    if case_id is not None:
        try:
            case_uuid = case_id if isinstance(case_id, uuid.UUID) else uuid.UUID(str(case_id))
        except ValueError as exc:
            raise AuditRecordInvalid("case_id must be a UUID") from exc
    return object_id_text, purpose, case_uuid


def _normalised_ip(value: str | None) -> str | None:
    # Stored the way the database gives it back (PostgreSQL's inet prints compressed IPv6), so the hash recomputes.
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return clean_ipv6_address(str(address)) if address.version == 6 else str(address)


def _actor_snapshot(actor: User | AnonymousUser | None) -> dict[str, Any]:
    if actor is None:
        return {"actor": None, "actor_username": "", "actor_role": SYSTEM_ROLE}
    if not actor.is_authenticated:
        return {"actor": None, "actor_username": "", "actor_role": ANONYMOUS_ROLE}
    organisation = actor.organisation if actor.organisation_id else None
    return {
        "actor": actor,
        "actor_username": actor.get_username(),
        "actor_role": actor.role,
        "actor_organisation": organisation.name if organisation else "",
        "actor_sector": organisation.sector if organisation else "",
    }


# --- Appending ----------------------------------------------------------------------------------------------------


# PostgreSQL, before the head is locked: the transaction's deferred foreign-key checks run *now*. Django creates
# foreign keys DEFERRABLE INITIALLY DEFERRED, so PostgreSQL checks them at COMMIT — each check a ``SELECT … FOR KEY
# SHARE`` of the referenced row (the authority, the case, the user). Left there, they run after the head is taken:
# against the lock order (domain rows before the head, docs/adr/0011-lock-order.md) and inside the hold. Eight
# concurrent clients deadlocked on exactly that (docs/adr/0025-concurrent-cases-and-the-head-lock.md). A statement
# of its own, so the hold starts with the lock (the addendum of ADR 0025).
_PG_CHECKS = "SET CONSTRAINTS ALL IMMEDIATE"
# The hold starts here: lock the head and read it in one statement.
_PG_LOCK_HEAD = "SELECT seq, last_hash FROM permissions_auditchainhead WHERE id = 1 FOR UPDATE"
assert AuditChainHead._meta.db_table == "permissions_auditchainhead"
assert CHAIN_HEAD_PK == 1


def _locked_head(cursor: Any, using: str) -> tuple[int, str]:
    """Lock the chain's head and return its ``seq`` and ``last_hash`` (one statement once the head exists)."""
    if connections[using].vendor == "postgresql":
        cursor.execute(_PG_LOCK_HEAD)
        row = cursor.fetchone()
        if row is not None:
            return row[0], row[1]
    else:
        found = AuditChainHead.objects.using(using).select_for_update().filter(pk=CHAIN_HEAD_PK).first()
        if found is not None:
            return found.seq, found.last_hash
    # First write after migrate or flush. ON CONFLICT DO NOTHING lets two first writers race harmlessly; the
    # loser waits on the winner's row lock and then reads its committed head.
    AuditChainHead.objects.using(using).bulk_create([AuditChainHead(pk=CHAIN_HEAD_PK)], ignore_conflicts=True)
    head = AuditChainHead.objects.using(using).select_for_update().get(pk=CHAIN_HEAD_PK)
    return head.seq, head.last_hash


#: The audit table's columns as the append writes them (all but ``id``): first the four only the append knows,
#: then the rest, fixed before the head is locked.
_CHAINED_ATTNAMES = ("seq", "occurred_at", "prev_hash", "row_hash")
_CHAINED_COLUMNS = [f for f in AuditEvent._meta.concrete_fields if f.attname in _CHAINED_ATTNAMES]
_FIXED_COLUMNS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key and f not in _CHAINED_COLUMNS]
assert [f.attname for f in _CHAINED_COLUMNS] == list(_CHAINED_ATTNAMES)  # the order _write binds them in


@dataclass
class _Ready:
    """A transaction's rows made ready before the head is locked: everything but ``seq``, ``occurred_at`` and the
    hashes — the canonical JSON cut around them and the keyed MAC; on PostgreSQL the statement with every fixed
    value already rendered into it (or, without client-side binding, those values as parameters)."""

    events: Sequence[AuditEvent]
    frames: list[tuple[str, ...]]
    mac: Any  # hmac.HMAC keyed, nothing fed: copied per row
    sql: str = ""
    fixed: list[list[Any]] = field(default_factory=list)  # per row: its fixed values when not rendered into ``sql``


def _ready(events: Sequence[AuditEvent], *, key: bytes, using: str) -> _Ready:
    ready = _Ready(
        events=events,
        frames=[_content_frame(event) for event in events],
        mac=hmac.new(key, digestmod=hashlib.sha256),
    )
    connection = connections[using]
    if connection.vendor != "postgresql":
        return ready
    quote = connection.ops.quote_name
    chained = "%s, %s, %s, %s"
    rows = []
    with connection.cursor() as cursor:
        # Django's default client-side binding: psycopg renders the fixed values now, as execute() would under the
        # lock ("%" doubled, so the text stays literal when the chained values are bound).
        mogrify = getattr(cursor.cursor, "mogrify", None)
        for event in events:
            values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _FIXED_COLUMNS]
            if mogrify is not None:
                rendered = mogrify(", ".join(["%s"] * len(values)), values).replace("%", "%%")
                rows.append(f"({chained}, {rendered})")
                ready.fixed.append([])
            else:
                rows.append(f"({chained}, {', '.join(['%s'] * len(values))})")
                ready.fixed.append(values)
    columns = ", ".join(quote(f.column) for f in [*_CHAINED_COLUMNS, *_FIXED_COLUMNS])
    # One statement: the rows' multi-row INSERT and the head's UPDATE (a data-modifying WITH runs whether or not it
    # is read); the ids come back for the callers' rows.
    ready.sql = (
        f"WITH appended AS (INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608 (names are ours)
        f'VALUES {", ".join(rows)} RETURNING "seq", "id"), moved AS (UPDATE {quote(AuditChainHead._meta.db_table)} '
        f'SET "seq" = %s, "last_hash" = %s WHERE "id" = {CHAIN_HEAD_PK}) SELECT "seq", "id" FROM appended'
    )
    return ready


def _write(ready: _Ready, cursor: Any, *, seq: int, prev_hash: str, using: str) -> None:
    """Under the head's lock: chain the ready rows after (``seq``, ``prev_hash``) and write them with the head's move
    — one statement on PostgreSQL, the ORM's INSERT and UPDATE on SQLite."""
    # Taken under the lock, so time order follows chain order unless the clock steps back.
    now = timezone.now()
    occurred = _dumps(_format_datetime(now))
    params: list[Any] = []
    for event, frame, fixed in zip(ready.events, ready.frames, ready.fixed or [[]] * len(ready.events), strict=True):
        seq += 1
        mac = ready.mac.copy()
        mac.update(prev_hash.encode("ascii"))
        mac.update(f"{frame[0]}{occurred}{frame[1]}{_dumps(prev_hash)}{frame[2]}{seq}{frame[3]}".encode("ascii"))
        event.seq, event.occurred_at, event.prev_hash, event.row_hash = seq, now, prev_hash, mac.hexdigest()
        prev_hash = event.row_hash
        params += [seq, now, event.prev_hash, event.row_hash, *fixed]
    if not ready.sql:
        AuditEvent.objects.using(using).bulk_create(ready.events)
        AuditChainHead.objects.using(using).filter(pk=CHAIN_HEAD_PK).update(seq=seq, last_hash=prev_hash)
        return
    cursor.execute(ready.sql, [*params, seq, prev_hash])
    ids = dict(cursor.fetchall())
    for event in ready.events:
        event.pk = ids[event.seq]
        event._state.adding = False
        event._state.db = using


#: SQLSTATEs of a transaction that lost a lock: deadlock_detected, lock_not_available, serialization_failure.
_LOCK_FAILURES = frozenset({"40P01", "55P03", "40001"})


def _lock_failure(exc: DatabaseError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in _LOCK_FAILURES


@dataclass(frozen=True)
class Entry:
    """One audit row to append: everything but the actor, the chain and the request context."""

    action: str
    object_type: str
    object_id: object
    fields: Iterable[str]
    purpose: str
    outcome: str
    case_id: object = None


def _prepared(actor: User | AnonymousUser | None, entry: Entry) -> AuditEvent:
    """The row for ``entry``, validated and with the actor's snapshot and the request context, but not yet chained
    (``seq``, ``occurred_at``, ``prev_hash`` and ``row_hash`` are set by :func:`_chain`)."""
    object_id_text, purpose, case_uuid = _checked(
        action=str(entry.action),
        object_type=entry.object_type,
        object_id=entry.object_id,
        purpose=entry.purpose,
        outcome=str(entry.outcome),
        case_id=entry.case_id,
    )
    names = _field_names(entry.fields)
    context = current_request_context()
    return AuditEvent(
        action=str(entry.action),
        object_type=entry.object_type,
        object_id=object_id_text,
        case_id=case_uuid,
        field_names=names,
        purpose=purpose,
        outcome=str(entry.outcome),
        request_id=context.request_id if context else "",
        client_ip=_normalised_ip(context.client_ip) if context else None,
        **_actor_snapshot(actor),
    )


def _chain(events: Sequence[AuditEvent], *, using: str, savepoint: bool = True) -> list[AuditEvent]:
    """Append prepared rows in order under one lock of the chain head: three statements however many rows (on
    PostgreSQL two of them, and the COMMIT, under the lock).

    Everything that does not depend on the head (validation, the rows' canonical JSON, the statement and its
    parameters) is made before; on PostgreSQL the transaction's deferred constraint checks run next, then the head
    is locked and read (one statement) and the rows are inserted with the head's move (one statement). Inside a
    transaction the head stays locked until it ends, which is why write transactions append here only as their last
    step (:func:`atomic`), once, and why this is remembered for :func:`chain_head_taken`. There the append needs no
    savepoint of its own (``savepoint=False``): a failed append fails the whole transaction.
    """
    if not events:
        return []
    try:
        key = hmac_key()
    except ImproperlyConfigured as exc:
        raise AuditUnavailable(str(exc)) from exc
    try:
        ready = _ready(events, key=key, using=using)  # before the transaction's last statements and the lock
        with transaction.atomic(using=using, savepoint=savepoint):
            connection = connections[using]
            _state.head_taken[using] = _outermost_block(connection)
            with connection.cursor() as cursor:  # one cursor for the append's statements
                if connection.vendor == "postgresql":
                    cursor.execute(_PG_CHECKS)
                seq, prev_hash = _locked_head(cursor, using)
                _write(ready, cursor, seq=seq, prev_hash=prev_hash, using=using)
    except IntegrityError:
        # A deferred foreign key of the transaction's own writes, checked before the head (_PG_CHECKS): the error
        # COMMIT would have raised, raised a moment earlier and unchanged. (A read's record_many_committed still
        # turns it into AuditUnavailable.)
        raise
    except DatabaseError as exc:
        if _lock_failure(exc):
            # A deadlock or lock time-out of the transaction (its checks or the head): the database's own error,
            # unchanged, as for every other lock (docs/adr/0011, 0025). Before, eight concurrent clients' deadlocks
            # came out of here as "AuditUnavailable", hiding where they were. A read still answers AuditUnavailable.
            raise
        raise AuditUnavailable("the audit row could not be written") from exc
    return list(events)


# --- Write transactions: the audit rows are appended last ---------------------------------------------------------


@dataclass
class _Scope:
    """An open :func:`atomic` block and the rows recorded directly inside it."""

    block: Any  # django.db.transaction.Atomic
    pending: list[AuditEvent] = field(default_factory=list)


class _State(threading.local):
    def __init__(self) -> None:
        #: Per database alias, the stack of open :func:`atomic` blocks of this thread (connections are per thread).
        self.scopes: dict[str, list[_Scope]] = {}
        #: Per database alias, the outermost block of the transaction that last appended to the chain.
        self.head_taken: dict[str, Any] = {}


_state = _State()


def _outermost_block(connection: BaseDatabaseWrapper) -> Any:
    """The block that opened the current transaction (ignoring a test case's wrapper), or None outside one."""
    for block in connection.atomic_blocks:
        if not getattr(block, "_from_testcase", False):
            return block
    return None


@contextmanager
def atomic(*, savepoint: bool = True) -> Iterator[None]:
    """A write transaction whose audit rows are appended **last**, just before it commits (DESIGN.md invariant 10,
    docs/adr/0011-lock-order.md). Use it instead of ``transaction.atomic()`` for every write that records audit rows.

    :func:`record` inside the block only validates and keeps the row; the outermost ``audit.atomic()`` of the
    transaction appends every kept row as its final statements. So the chain's head — the one lock every audited
    request needs — is held only from those statements to COMMIT, and never while the transaction waits for a flow
    or domain row lock (two writers taking the two in opposite orders deadlocked). Nested blocks are savepoints: a
    nested block that fails takes its rows with it; one that succeeds hands them to the block around it. The rows
    are still in the same transaction as the write they record: both commit, or neither.

    ``savepoint=False``: a service called inside a flow step (or another service's block) that never has its
    exception caught to carry on opens no savepoint when nested in a real transaction — two statements saved, and
    the step rolls back whole as before; when it opens the transaction itself it is the same as the default
    (``permissions.transactions.step_atomic``). Its rows are handed to the block around it either way.
    """
    using = router.db_for_write(AuditEvent)
    scopes = _state.scopes.setdefault(using, [])
    block = transaction.atomic(using=using) if savepoint else step_atomic(using)
    with block:
        scope = _Scope(block=block)
        scopes.append(scope)
        try:
            yield
        finally:
            scopes.pop()
        if scopes:
            scopes[-1].pending.extend(scope.pending)
        else:
            _chain(scope.pending, using=using, savepoint=False)


def chain_head_taken() -> bool:
    """Whether the current transaction has appended to the audit chain (and so holds its head until it ends).

    Lock implementations ask this before taking a flow lock: a flow lock after an audit append is the reverse of the
    product's lock order, the shape that deadlocks (docs/adr/0011-lock-order.md).
    """
    using = router.db_for_write(AuditEvent)
    taken = _state.head_taken.get(using)
    return taken is not None and taken is _outermost_block(connections[using])


def record(
    *,
    actor: User | AnonymousUser | None,
    action: AuditAction | str,
    object_type: str,
    object_id: object,
    fields: Iterable[str],
    purpose: str,
    outcome: AuditOutcome | str,
    case_id: uuid.UUID | str | None = None,
) -> AuditEvent:
    """Record the audit row of a write in the caller's transaction, to be appended when it ends (:func:`atomic`).

    Use for writes of protected fields, directly inside the service's ``audit.atomic()`` block: the row commits or
    rolls back with the write. The returned row gets its ``seq`` and hash when the transaction's rows are appended.
    Outside any transaction the row is appended (and committed) at once. ``actor=None`` records the system itself.
    ``fields`` are field *names*. ``request_id`` and ``client_ip`` come from
    :func:`permissions.middleware.current_request_context` (empty outside a request).

    Raises :class:`AuditRecordInvalid` for arguments that must not be logged, and when called inside a transaction
    that is not directly an ``audit.atomic()`` block (a bare ``transaction.atomic()``: its row would take the head in
    the middle of the transaction, or survive a savepoint's rollback). :class:`AuditUnavailable` when a row cannot
    be written (letting it propagate rolls the caller's transaction back).
    """
    using = router.db_for_write(AuditEvent)
    event = _prepared(actor, Entry(str(action), object_type, object_id, fields, str(purpose), str(outcome), case_id))
    connection = connections[using]
    if not _outer_transaction_open(connection):
        return _chain([event], using=using)[0]
    scopes = _state.scopes.get(using)
    if not scopes or connection.atomic_blocks[-1] is not scopes[-1].block:
        raise AuditRecordInvalid(
            "audit.record() inside a transaction must be called directly inside 'with audit.atomic():' "
            "(use it instead of transaction.atomic() for writes; docs/adr/0011-lock-order.md)"
        )
    scopes[-1].pending.append(event)
    return event


def record_write(
    actor: User | AnonymousUser | None,
    case_id: uuid.UUID | str | None,
    object_type: str,
    object_id: object,
    fields: Iterable[str],
    purpose: str,
) -> AuditEvent:
    """The write of protected (or access-changing) fields by a service, in its transaction: :func:`record` with the
    action and outcome every service write has."""
    return record(
        actor=actor,
        action=AuditAction.WRITE,
        object_type=object_type,
        object_id=object_id,
        fields=fields,
        purpose=purpose,
        outcome=AuditOutcome.ALLOWED,
        case_id=case_id,
    )


def _outer_transaction_open(connection: BaseDatabaseWrapper) -> bool:
    # Atomic blocks opened by Django's TestCase (the pytest ``db`` fixture) only simulate the real world's
    # autocommit; anything else (or autocommit switched off by hand) is a caller's transaction whose rollback would
    # take our row with it.
    return real_transaction_open(connection)


def record_committed(
    *,
    actor: User | AnonymousUser | None,
    action: AuditAction | str,
    object_type: str,
    object_id: object,
    fields: Iterable[str],
    purpose: str,
    outcome: AuditOutcome | str,
    case_id: uuid.UUID | str | None = None,
) -> AuditEvent:
    """Append an audit row and commit it before returning. For protected reads and denials (fail closed).

    The gate calls this *before* it decrypts anything or raises its 404: when it returns, the row is durable; when it
    raises :class:`AuditUnavailable`, the caller must reveal nothing. It refuses (``AuditUnavailable``) to run inside
    an outer ``transaction.atomic()``, because a later rollback of that transaction would silently erase the record
    of a read that already happened; the only exception is the atomic block a Django test case wraps around a test.

    Arguments as for :func:`record`; raises :class:`AuditRecordInvalid` for arguments that must not be logged.
    """
    entry = Entry(str(action), object_type, object_id, fields, str(purpose), str(outcome), case_id)
    return record_many_committed(actor=actor, entries=[entry])[0]


def record_many_committed(*, actor: User | AnonymousUser | None, entries: Sequence[Entry]) -> list[AuditEvent]:
    """Several rows for one actor, committed together before returning (a list page disclosing many cases).

    Same rules as :func:`record_committed`; a fixed number of statements whatever the number of entries.
    """
    using = router.db_for_write(AuditEvent)
    events = [_prepared(actor, entry) for entry in entries]
    if _outer_transaction_open(connections[using]):
        raise AuditUnavailable(
            "record_committed() inside an open transaction: the audit rows could be rolled back after the read"
        )
    try:
        # durable=True is Django's own guard for the same rule; it also exempts only test-case atomics.
        with transaction.atomic(using=using, durable=True):
            # The append is this transaction's only work: a savepoint of its own would only hold the head one more
            # round trip (its RELEASE) before the COMMIT.
            return _chain(events, using=using, savepoint=False)
    except DatabaseError as exc:
        # The COMMIT itself can fail (serialisation, lost connection): then nothing is durable.
        raise AuditUnavailable("the audit rows could not be committed") from exc


# --- Reading (oversight screens for supervisors and the DPO) ------------------------------------------------------


def events_for_case(case_id: uuid.UUID | str) -> QuerySet[AuditEvent]:
    """Who accessed this case, in chain order. The caller decides who may see this list."""
    return AuditEvent.objects.filter(case_id=case_id).order_by("seq")


def events_for_actor(user: User) -> QuerySet[AuditEvent]:
    """What this user accessed, in chain order. The caller decides who may see this list."""
    return AuditEvent.objects.filter(actor=user).order_by("seq")
