"""Multiply a seeded database: copy every case graph ``factor - 1`` times, every sealed field re-sealed for its row.

The base holds stories seeded through the services (:mod:`bench.journey`). A copy round gives every row of the
case-graph tables a new id (UUIDs new, integer ids shifted past the base's largest), rewrites every foreign key and
every loose id (generic object ids, the audit row's case, ids inside JSON) that points at a copied row, and seals
every sealed value again: opened once with the base row's binding, sealed per copy with the new table/row/field/owner
binding under a data key of the new owner (one new key per copied child, case and report). Coordinators and partners
are copied with their cases (``koord1~3``), so a coordinator's own load stays what it was at the base while the
authority's supervisors see every copy. The children get new birth numbers (and their blind indexes); the audit rows
are appended to the chain with their hashes computed by ``permissions.audit.compute_row_hash``, so the chain still
verifies.

Rows go in by ``COPY`` on PostgreSQL and ``executemany`` on SQLite, one transaction per round (the foreign keys are
deferred to commit).
"""

from __future__ import annotations

import datetime
import json
import os
import random
import secrets
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from casework.birth_number import parse_birth_number
from casework.crypto import Binding, seal
from casework.crypto.keys import get_key_provider, new_data_key
from casework.models import Municipality, Report, Role
from casework.sealing import Keyring, SealedField, SealedModel, open_values
from casework.selectors import birth_number_index
from casework.selectors.children import identity_index

#: Tables that are not part of a case graph: the installation's people, places, keys and bookkeeping.
GLOBAL_TABLES = {
    "django_admin_log",
    "auth_permission",
    "auth_group_permissions",
    "auth_group",
    "django_content_type",
    "django_session",
    "django_migrations",
    "guardian_userobjectpermission",
    "guardian_groupobjectpermission",
    "axes_accessfailurelog",
    "axes_accessattempt",
    "axes_accessattemptexpiration",
    "axes_accesslog",
    "otp_totp_totpdevice",
    "otp_static_staticdevice",
    "otp_static_statictoken",
    "casework_datakey",
    "casework_reencryptionrun",
    "casework_municipality",
    "casework_organisation",
    "casework_user_user_permissions",
    "casework_user_groups",
    "casework_teamrole",
    "casework_residencemunicipality",
    "casework_dutyshift",
    "casework_keptwork",
    "permissions_auditchainhead",
    "permissions_auditverification",
    "permissions_accessanomaly",
    "workflows_authoritysettings",
    "notifications_notificationpreference",
    # The service network's directory (no child data; referrals, which belong to a case, are copied).
    "services_servicetype",
    "services_provider",
    "services_service",
    "services_service_area_orps",
    "services_service_area_municipalities",
    # API credentials and their bookkeeping belong to accounts, not to a case.
    "api_apitoken",
    "api_idempotencyrecord",
    "oauth2_provider_application",
    "oauth2_provider_grant",
    "oauth2_provider_accesstoken",
    "oauth2_provider_refreshtoken",
    "oauth2_provider_idtoken",
    "oauth2_provider_devicegrant",
}
USER_TABLE = "casework_user"
#: Tables with columns rewritten by hand (:meth:`Multiplier._special`).
SPECIAL = {"casework_user", "casework_case", "casework_report"}
AUDIT_TABLE = "permissions_auditevent"
DATAKEY_COLUMNS = ["id", "owner_type", "owner_id", "kek_id", "wrapped_key", "created_at", "retired_at", "destroyed_at"]
#: Users copied with their cases; supervisors, the DPO and administrators stay one per authority.
COPIED_ROLES = {Role.OSPOD_WORKER, Role.PARTNER}


@dataclass
class Table:
    model: type[models.Model]
    name: str
    columns: list[str]
    pk: str
    pk_kind: str  # "uuid", "int", "fk" (a one-to-one parent link), "other"
    fks: dict[str, str]  # column -> target table
    json_columns: set[str]
    loose_columns: set[str]  # non-FK columns that may hold a copied row's id (uuid or text)
    sealed: list[str]  # sealed column names
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    plain: list[dict[str, str | None]] = field(default_factory=list)  # per row, for sealed tables
    owners: list[Any] = field(default_factory=list)


def _kind(f: models.Field[Any, Any]) -> str:
    if f.is_relation:
        return "fk"
    if isinstance(f, models.UUIDField):
        return "uuid"
    if isinstance(f, models.AutoField | models.BigAutoField | models.SmallAutoField):
        return "int"
    return "other"


#: Non-FK columns that hold ids of other rows (generic relations, the audit row's case and object).
LOOSE = {
    "viewflow_task": {"owner_permission_obj_pk"},
    "casework_formdraft": {"object_id"},
    "casework_keptapartmark": {"item_id"},
    AUDIT_TABLE: {"case_id", "object_id"},
}


def case_graph_tables() -> list[Table]:
    tables = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in GLOBAL_TABLES:
            continue
        local = list(meta.local_concrete_fields)
        pk = meta.pk
        assert pk is not None
        tables.append(
            Table(
                model=model,
                name=meta.db_table,
                columns=[f.column for f in local],
                pk=pk.column,
                pk_kind=_kind(pk),
                fks={f.column: f.related_model._meta.db_table for f in local if f.is_relation},  # type: ignore[union-attr]
                json_columns={f.column for f in local if isinstance(f, models.JSONField)},
                loose_columns=LOOSE.get(meta.db_table, set()),
                sealed=[f.column for f in local if isinstance(f, SealedField)],
            )
        )
    return tables


def _fetch(table: Table) -> None:
    """The base rows, through the ORM so every backend gives the same Python values."""
    attnames = [f.attname for f in table.model._meta.local_concrete_fields]
    rows = table.model._base_manager.all()
    if table.name == USER_TABLE:
        rows = rows.filter(role__in=sorted(COPIED_ROLES))
    rows = rows.order_by("seq" if table.name == AUDIT_TABLE else "pk")
    fields = list(table.model._meta.local_concrete_fields)
    prep = [i for i, f in enumerate(fields) if type(f).__module__.startswith("viewflow")]
    table.rows = []
    for r in rows.values_list(*attnames):
        row = list(r)
        for i in prep:
            row[i] = fields[i].get_prep_value(row[i])
        table.rows.append(tuple(row))


def _open_sealed(table: Table, keyring: Keyring) -> None:
    model = table.model
    assert issubclass(model, SealedModel)
    attnames = [f.attname for f in model._meta.local_concrete_fields]
    names = [f.name for f in model._meta.local_concrete_fields if isinstance(f, SealedField)]
    for row in table.rows:
        values = [bytes(v) if isinstance(v, memoryview) else v for v in row]
        instance = model(**dict(zip(attnames, values, strict=True)))
        table.plain.append(open_values(instance, names, keyring))
        table.owners.append(instance.seal_owner_id())


class Round:
    """The id maps of one copy round.

    A copied row's UUID is the base row's XOR a random mask of the round (``mask``): the same in every process that
    copies a part of the round (the rows, the audit rows), so they need not tell each other their ids."""

    def __init__(self, k: int, spans: dict[str, int], users: dict[int, int], mask: int) -> None:
        self.k = k
        self.spans = spans
        self.users = users
        self.mask = mask
        self.uuids: dict[Any, uuid.UUID] = {}
        self.texts: dict[str, str] = {}

    def new_uuid(self, old: Any) -> uuid.UUID:
        key = old if isinstance(old, uuid.UUID) else uuid.UUID(str(old))
        new = uuid.UUID(int=key.int ^ self.mask)
        self.uuids[key] = new
        self.texts[str(key)] = str(new)
        self.texts[key.hex] = new.hex
        return new

    def fk(self, target: str, value: Any) -> Any:
        if value is None:
            return None
        if target == USER_TABLE:
            return self.users.get(value, value)
        if target in self.spans:
            return value + self.spans[target] * self.k
        key = value if isinstance(value, uuid.UUID) else _as_uuid(value)
        if key is not None and key in self.uuids:
            new = self.uuids[key]
            return new if isinstance(value, uuid.UUID) else _same_form(value, new)
        return value

    def loose(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, uuid.UUID):
            return self.uuids.get(value, value)
        if isinstance(value, str):
            return self.texts.get(value, value)
        return value

    def json(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, str):
            return self.texts.get(value, value)
        return value


def _as_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, str) and len(value) in (32, 36):
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return None


def _same_form(old: str, new: uuid.UUID) -> str:
    return new.hex if len(old) == 32 else str(new)


class BirthNumbers:
    """New birth numbers for copied children: the same date of birth and the next free serial while there is one
    (then the month's "+20" series for children born from 2004, as the law does), then the next free day — a child
    copied 2 000 times needs more numbers than one day has. ``next`` gives the number and its date of birth."""

    def __init__(self, partition: tuple[int, int] = (0, 1)) -> None:
        self.used: dict[str, set[int]] = {}
        # Copies made in parallel take disjoint serials: process ``i`` of ``n`` takes serials ≡ i (mod n).
        self.partition = partition

    def note(self, normalized: str) -> None:
        self.used.setdefault(normalized[:6], set()).add(int(normalized[6:9]))

    def _heads(self, normalized: str) -> Iterable[tuple[str, datetime.date]]:
        parsed = parse_birth_number(normalized)
        female = parsed.sex == "F"
        for days in range(366):
            born = parsed.date_of_birth + datetime.timedelta(days=days)
            for series in (0, 20) if born.year >= 2004 else (0,):
                month = born.month + (50 if female else 0) + series
                yield f"{born.year % 100:02d}{month:02d}{born.day:02d}", born

    def next(self, normalized: str) -> tuple[str, datetime.date]:
        index, count = self.partition
        for head, born in self._heads(normalized):
            used = self.used.setdefault(head, set())
            for serial in range(index, 1000, count):
                if serial in used:
                    continue
                first9 = f"{head}{serial:03d}"
                remainder = int(first9) % 11
                if remainder == 10:
                    continue
                used.add(serial)
                return f"{first9}{remainder}", born
        raise RuntimeError("no free birth number left within a year of this date of birth")


def _digits(value: str) -> str:
    return value.replace("/", "").strip()


class Multiplier:
    def __init__(self, *, log: Callable[[str], None] = print) -> None:
        self.log = log
        self.tables = case_graph_tables()
        self.by_name = {t.name: t for t in self.tables}
        keyring = Keyring()
        for table in self.tables:
            _fetch(table)
            if table.sealed:
                _open_sealed(table, keyring)
        self.spans: dict[str, int] = {}
        for table in self.tables:
            if table.pk_kind == "int" or table.name == USER_TABLE:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT COALESCE(MAX({table.pk}), 0) FROM {table.name}")  # noqa: S608
                    self.spans[table.name] = int(cursor.fetchone()[0]) + 1
        # MTI children share their parent's id: shift them with it.
        for table in self.tables:
            if table.pk_kind == "fk":
                target = table.fks[table.pk]
                if target in self.spans:
                    self.spans.setdefault(table.name, self.spans[target])
        self.municipalities = {m.pk: m for m in Municipality.objects.all()}
        self.provider = get_key_provider()
        self.birth_numbers = BirthNumbers()
        child = self.by_name["casework_child"]
        for plain in child.plain:
            if plain.get("birth_number"):
                self.birth_numbers.note(_digits(plain["birth_number"] or ""))
        self.number_span: dict[str, int] = {}
        for name in ("casework_case", "casework_report"):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(number), 0) FROM {name}")  # noqa: S608
                self.number_span[name] = int(cursor.fetchone()[0])
        self.user_span = self.spans.pop(USER_TABLE)
        self.salt = secrets.token_hex(8)
        self.chain: tuple[int, str] | None = None
        self.audit_key = b""

    def run(self, first: int, last: int, *, batch: int = 25, processes: int = 2) -> None:
        """Copy rounds ``first`` … ``last`` (inclusive); round ``k`` is the ``k``-th copy of the base.

        ``batch`` rounds go in one transaction, one ``COPY`` per table. On PostgreSQL with ``processes`` > 1 the work
        is split between processes: the audit rows (a hash chain, so one process in order) in one, the other rows
        in the rest, each taking every ``n``-th batch (the copied ids are computed, not allocated; the birth-number
        serials are partitioned)."""
        started = time.perf_counter()
        batches = [list(range(k, min(k + batch, last + 1))) for k in range(first, last + 1, batch)]
        pg = connection.vendor == "postgresql"
        if not pg or processes < 2 or len(batches) < 2:
            self._run_part(batches, rows=True, audit=True, started=started)
        else:
            row_workers = processes - 1
            connection.close()  # never share a socket with a forked child
            children = []
            for index in range(processes):
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the children's work is checked by the parent's result
                    code = 1
                    try:
                        if index == 0:
                            self._run_part(batches, rows=False, audit=True, started=started)
                        else:
                            self.birth_numbers.partition = (index - 1, row_workers)
                            mine = batches[index - 1 :: row_workers]
                            self._run_part(mine, rows=True, audit=False, started=started, talk=index == 1)
                        code = 0
                    except BaseException:
                        traceback.print_exc()
                    finally:
                        os._exit(code)
                children.append(pid)
            failed = [pid for pid in children if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0]
            if failed:
                raise RuntimeError(f"{len(failed)} of {processes} copying processes failed (see above)")
        self._reset_sequences()
        self.log(f"  copied {last - first + 1} rounds in {time.perf_counter() - started:.0f} s")

    def _run_part(
        self, batches: list[list[int]], *, rows: bool, audit: bool, started: float, talk: bool = True
    ) -> None:
        pg = connection.vendor == "postgresql"
        if pg:
            # The copies are consistent by construction: skip the foreign-key triggers' per-row checks at each
            # COMMIT, planned from the base's tiny statistics (seq scans, so every round was slower than the last).
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
                cursor.execute("SET synchronous_commit = off")
        try:
            done = 0
            for ks in batches:
                with transaction.atomic():
                    self._batch(ks, rows=rows, audit=audit)
                done += len(ks)
                if talk and (done // 100 != (done - len(ks)) // 100 or ks is batches[-1]):
                    part = "rows" if rows else "audit"
                    self.log(f"  {part}: copy {ks[-1]} ({done} rounds here, {time.perf_counter() - started:.0f} s)")
        finally:
            if pg:
                with connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = DEFAULT")
            connection.close()

    # -- one batch of rounds -----------------------------------------------------------------------------------

    def _new_round(self, k: int) -> Round:
        users_table = self.by_name[USER_TABLE]
        pk_index = users_table.columns.index("id")
        users = {row[pk_index]: row[pk_index] + self.user_span * k for row in users_table.rows}
        rnd = Round(k, self.spans, users, random.Random(f"{self.salt}:{k}").getrandbits(128))
        # New UUIDs first, so every reference resolves whatever the table order.
        for table in self.tables:
            if table.pk_kind == "uuid":
                i = table.columns.index(table.pk)
                for row in table.rows:
                    rnd.new_uuid(row[i])
        return rnd

    def _batch(self, ks: list[int], *, rows: bool, audit: bool) -> None:
        out: dict[str, list[tuple[Any, ...]]] = {}
        audit_rows: list[tuple[Any, ...]] = []
        for k in ks:
            rnd = self._new_round(k)
            if rows:
                for name, copied in self._round(rnd).items():
                    out.setdefault(name, []).extend(copied)
            if audit:
                audit_rows.extend(self._copy_audit(rnd))
        for table in self.tables:
            if table.name in out:
                _write(table.name, table.columns, out[table.name])
        if "casework_datakey" in out:
            _write("casework_datakey", DATAKEY_COLUMNS, out["casework_datakey"])
        if audit_rows:
            self._write_audit(audit_rows)

    def _round(self, rnd: Round) -> dict[str, list[tuple[Any, ...]]]:
        birth_map: dict[str, tuple[str, datetime.date]] = {}
        keys: dict[tuple[str, Any], tuple[uuid.UUID, bytes]] = {}
        new_keys: list[tuple[Any, ...]] = []
        now = datetime.datetime.now(tz=datetime.UTC)

        def key_for(owner_type: str, owner: uuid.UUID) -> tuple[uuid.UUID, bytes]:
            found = keys.get((owner_type, owner))
            if found is None:
                key_id = uuid.uuid4()
                material = new_data_key()
                kek_id, wrapped = self.provider.wrap(material, data_key_id=key_id)
                new_keys.append((key_id, owner_type, owner, kek_id, wrapped, now, None, None))
                found = keys[(owner_type, owner)] = (key_id, material)
            return found

        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in self.tables:
            if table.name == AUDIT_TABLE or not table.rows:
                continue
            if table.sealed or table.name in SPECIAL:
                out[table.name] = [
                    self._copy_row(table, i, row, rnd, key_for, birth_map) for i, row in enumerate(table.rows)
                ]
            else:
                out[table.name] = self._copy_fast(table, rnd)
        out["casework_datakey"] = new_keys
        return out

    def _copy_fast(self, table: Table, rnd: Round) -> list[tuple[Any, ...]]:
        """Rows without sealed values or special columns: one compiled transform per column."""
        ops: list[Callable[[Any], Any] | None] = []
        for col in table.columns:
            if col == table.pk and table.pk_kind == "uuid":
                ops.append(lambda v: rnd.uuids[v])
            elif col == table.pk and table.pk_kind == "int":
                shift = self.spans[table.name] * rnd.k
                ops.append(lambda v, shift=shift: v + shift)  # type: ignore[misc]
            elif col in table.fks:
                target = table.fks[col]
                if target == USER_TABLE:
                    ops.append(lambda v: rnd.users.get(v, v))
                elif target in self.spans:
                    shift = self.spans[target] * rnd.k
                    ops.append(lambda v, shift=shift: None if v is None else v + shift)  # type: ignore[misc]
                else:
                    ops.append(lambda v, target=target: rnd.fk(target, v))  # type: ignore[misc]
            elif col in table.json_columns:
                ops.append(lambda v: _json_out(rnd.json(v)))
            elif col in table.loose_columns:
                ops.append(rnd.loose)
            else:
                ops.append(None)
        pairs = list(enumerate(ops))
        out = []
        for row in table.rows:
            new = list(row)
            for i, op in pairs:
                if op is not None:
                    new[i] = op(new[i])
            out.append(tuple(new))
        return out

    def _copy_row(
        self,
        table: Table,
        index: int,
        row: tuple[Any, ...],
        rnd: Round,
        key_for: Callable[[str, uuid.UUID], tuple[uuid.UUID, bytes]],
        birth_map: dict[str, tuple[str, datetime.date]],
    ) -> tuple[Any, ...]:
        values = dict(zip(table.columns, row, strict=True))
        new: dict[str, Any] = {}
        for col, value in values.items():
            if col == table.pk and table.name == USER_TABLE:
                new[col] = rnd.users[value]
            elif col == table.pk and table.pk_kind == "uuid":
                new[col] = rnd.uuids[value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))]
            elif col == table.pk and table.pk_kind == "int":
                new[col] = value + self.spans[table.name] * rnd.k
            elif col in table.fks:
                new[col] = rnd.fk(table.fks[col], value)
            elif col in table.json_columns:
                new[col] = _json_out(rnd.json(value))
            elif col in table.loose_columns:
                new[col] = rnd.loose(value)
            else:
                new[col] = bytes(value) if isinstance(value, memoryview) else value
        self._special(table.name, new, rnd)
        if table.sealed:
            self._reseal(table, index, new, rnd, key_for, birth_map)
        return tuple(new[c] for c in table.columns)

    def _special(self, name: str, new: dict[str, Any], rnd: Round) -> None:
        if name == USER_TABLE:
            new["username"] = f"{new['username']}~{rnd.k}"
        elif name == "casework_case":
            new["number"] += self.number_span[name] * rnd.k
            new["reference"] = self.municipalities[new["municipality_id"]].case_reference(new["year"], new["number"])
        elif name == "casework_report":
            new["number"] += self.number_span[name] * rnd.k
            code = self.municipalities[new["municipality_id"]].code
            new["reference"] = Report.format_reference(code, new["year"], new["number"])

    def _reseal(
        self,
        table: Table,
        index: int,
        new: dict[str, Any],
        rnd: Round,
        key_for: Callable[[str, uuid.UUID], tuple[uuid.UUID, bytes]],
        birth_map: dict[str, tuple[str, datetime.date]],
    ) -> None:
        model = table.model
        assert issubclass(model, SealedModel)
        plain = dict(table.plain[index])
        if table.name == "casework_child":
            if plain.get("family_name"):
                plain["family_name"] = f"{plain['family_name']} {rnd.k}"
            old_bn = plain.get("birth_number")
            if old_bn:
                digits = _digits(old_bn)
                bn, born = birth_map.get(digits) or birth_map.setdefault(digits, self.birth_numbers.next(digits))
                plain["birth_number"] = bn
                new["birth_number_index"] = birth_number_index(bn)
                if plain.get("date_of_birth"):
                    plain["date_of_birth"] = born.isoformat()
            if plain.get("date_of_birth") and plain.get("given_name") is not None:
                new["identity_index"] = identity_index(
                    plain["given_name"] or "",
                    plain["family_name"] or "",
                    datetime.date.fromisoformat(plain["date_of_birth"] or ""),
                )
        elif table.name == "casework_report":
            if plain.get("child_family_name"):
                plain["child_family_name"] = f"{plain['child_family_name']} {rnd.k}"
            old_bn = plain.get("child_birth_number")
            if old_bn:
                digits = _digits(old_bn)
                bn, born = birth_map.get(digits) or birth_map.setdefault(digits, self.birth_numbers.next(digits))
                plain["child_birth_number"] = f"{bn[:6]}/{bn[6:]}" if "/" in old_bn else bn
                if plain.get("child_date_of_birth"):
                    plain["child_date_of_birth"] = born.isoformat()
        owner = rnd.uuids.get(table.owners[index], table.owners[index])
        key_id, key = key_for(model.SEAL_OWNER_TYPE, owner)
        row_id = str(new[table.pk])
        for name, value in plain.items():
            column = str(model._meta.get_field(name).column)  # type: ignore[union-attr]
            new[column] = (
                None
                if value is None
                else seal(
                    value,
                    key=key,
                    key_id=key_id,
                    binding=Binding(
                        table=table.name,
                        row_id=row_id,
                        field=name,
                        owner_id=str(owner),
                        schema_version=model.SEAL_SCHEMA_VERSION,
                    ),
                )
            )

    def _copy_audit(self, rnd: Round) -> list[tuple[Any, ...]]:
        """The round's audit rows, chained on from the last row made (``self.chain``, read from the head once)."""
        from permissions.audit import compute_row_hash, hmac_key
        from permissions.models import AuditChainHead, AuditEvent

        table = self.by_name.get(AUDIT_TABLE)
        if table is None or not table.rows:
            return []
        if self.chain is None:
            head = AuditChainHead.objects.get()
            self.chain = (head.seq, head.last_hash)
            self.audit_key = hmac_key()
        seq, prev = self.chain
        attnames = [f.attname for f in AuditEvent._meta.local_concrete_fields]
        out = []
        for row in table.rows:
            values = dict(zip(table.columns, row, strict=True))
            new = dict(values)
            new["id"] = values["id"] + self.spans[AUDIT_TABLE] * rnd.k
            new["actor_id"] = rnd.fk(USER_TABLE, values["actor_id"])
            if new["actor_id"] != values["actor_id"]:
                new["actor_username"] = f"{values['actor_username']}~{rnd.k}"
            new["case_id"] = rnd.loose(values["case_id"])
            new["object_id"] = rnd.loose(values["object_id"])
            seq += 1
            new["seq"] = seq
            new["prev_hash"] = prev
            # The hash reads the row's attributes only: a namespace spares a model instance per row.
            event = SimpleNamespace(**{a: new[c] for a, c in zip(attnames, table.columns, strict=True)})
            new["row_hash"] = prev = compute_row_hash(event, key=self.audit_key)  # type: ignore[arg-type]
            new["field_names"] = json.dumps(new["field_names"])
            out.append(tuple(new[c] for c in table.columns))
        self.chain = (seq, prev)
        return out

    def _write_audit(self, rows: list[tuple[Any, ...]]) -> None:
        from permissions.models import AuditChainHead

        assert self.chain is not None
        head = AuditChainHead.objects.select_for_update().get()
        _write(AUDIT_TABLE, self.by_name[AUDIT_TABLE].columns, rows)
        AuditChainHead.objects.filter(pk=head.pk).update(seq=self.chain[0], last_hash=self.chain[1])

    def _reset_sequences(self) -> None:
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in [*self.tables]:
                if table.pk_kind == "int" or table.name == USER_TABLE:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{table.pk}'), "  # noqa: S608
                        f"(SELECT COALESCE(MAX({table.pk}), 1) FROM {table.name}))"
                    )


def _json_out(value: Any) -> Any:
    return None if value is None else json.dumps(value)


def _write(name: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    rows = list(rows)
    if not rows:
        return
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {name} ({quoted}) VALUES ({marks})",  # noqa: S608
            [tuple(_sqlite(v, ops) for v in row) for row in rows],
        )


def _sqlite(value: Any, ops: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return ops.adapt_datefield_value(value)
    if isinstance(value, datetime.time):
        return ops.adapt_timefield_value(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    return value
