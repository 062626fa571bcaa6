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
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

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
}
USER_TABLE = "casework_user"
#: Tables with columns rewritten by hand (:meth:`Multiplier._special`).
SPECIAL = {"casework_user", "casework_case", "casework_report"}
AUDIT_TABLE = "permissions_auditevent"
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
    """The id maps of one copy round."""

    def __init__(self, k: int, spans: dict[str, int], users: dict[int, int]) -> None:
        self.k = k
        self.spans = spans
        self.users = users
        self.uuids: dict[Any, uuid.UUID] = {}
        self.texts: dict[str, str] = {}

    def new_uuid(self, old: Any) -> uuid.UUID:
        new = uuid.uuid4()
        key = old if isinstance(old, uuid.UUID) else uuid.UUID(str(old))
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
    """New birth numbers for copied children: the same date of birth, the next free serial."""

    def __init__(self) -> None:
        self.used: dict[str, set[int]] = {}

    def note(self, normalized: str) -> None:
        self.used.setdefault(normalized[:6], set()).add(int(normalized[6:9]))

    def next(self, normalized: str) -> str:
        head = normalized[:6]
        used = self.used.setdefault(head, set())
        for serial in range(1000):
            if serial in used:
                continue
            first9 = f"{head}{serial:03d}"
            remainder = int(first9) % 11
            if remainder == 10:
                continue
            used.add(serial)
            return f"{first9}{remainder}"
        raise RuntimeError("no free birth number serial left for this date of birth")


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

    def run(self, first: int, last: int) -> None:
        """Copy rounds ``first`` … ``last`` (inclusive); round ``k`` is the ``k``-th copy of the base."""
        started = time.perf_counter()
        pg = connection.vendor == "postgresql"
        if pg:
            # The copies are consistent by construction: skip the foreign-key triggers' per-row checks at each
            # COMMIT, planned from the base's tiny statistics (seq scans, so every round was slower than the last).
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
        try:
            for k in range(first, last + 1):
                with transaction.atomic():
                    self._round(k)
                if k % 20 == 0 or k == last:
                    self.log(f"  copy {k}/{last} ({time.perf_counter() - started:.0f} s)")
        finally:
            if pg:
                with connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = DEFAULT")
        self._reset_sequences()

    # -- one round ---------------------------------------------------------------------------------------------

    def _round(self, k: int) -> None:
        users_table = self.by_name[USER_TABLE]
        pk_index = users_table.columns.index("id")
        users = {row[pk_index]: row[pk_index] + self.user_span * k for row in users_table.rows}
        rnd = Round(k, self.spans, users)
        # New UUIDs first, so every reference resolves whatever the table order.
        for table in self.tables:
            if table.pk_kind == "uuid":
                i = table.columns.index(table.pk)
                for row in table.rows:
                    rnd.new_uuid(row[i])
        birth_map: dict[str, str] = {}
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

        for table in self.tables:
            if table.name == AUDIT_TABLE:
                continue
            if table.sealed or table.name in SPECIAL:
                out = [self._copy_row(table, i, row, rnd, key_for, birth_map) for i, row in enumerate(table.rows)]
            else:
                out = self._copy_fast(table, rnd)
            _write(table.name, table.columns, out)
        _write(
            "casework_datakey",
            ["id", "owner_type", "owner_id", "kek_id", "wrapped_key", "created_at", "retired_at", "destroyed_at"],
            new_keys,
        )
        self._copy_audit(rnd)

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
        birth_map: dict[str, str],
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
        birth_map: dict[str, str],
    ) -> None:
        model = table.model
        assert issubclass(model, SealedModel)
        plain = dict(table.plain[index])
        if table.name == "casework_child":
            if plain.get("family_name"):
                plain["family_name"] = f"{plain['family_name']} {rnd.k}"
            old_bn = plain.get("birth_number")
            if old_bn:
                bn = birth_map.setdefault(_digits(old_bn), self.birth_numbers.next(_digits(old_bn)))
                plain["birth_number"] = bn
                new["birth_number_index"] = birth_number_index(bn)
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
                bn = birth_map.setdefault(digits, self.birth_numbers.next(digits))
                plain["child_birth_number"] = f"{bn[:6]}/{bn[6:]}" if "/" in old_bn else bn
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

    def _copy_audit(self, rnd: Round) -> None:
        from permissions.audit import compute_row_hash, hmac_key
        from permissions.models import AuditChainHead, AuditEvent

        table = self.by_name.get(AUDIT_TABLE)
        if table is None or not table.rows:
            return
        key = hmac_key()
        head = AuditChainHead.objects.select_for_update().get()
        seq, prev = head.seq, head.last_hash
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
            new["row_hash"] = prev = compute_row_hash(event, key=key)  # type: ignore[arg-type]
            new["field_names"] = json.dumps(new["field_names"])
            out.append(tuple(new[c] for c in table.columns))
        _write(AUDIT_TABLE, table.columns, out)
        AuditChainHead.objects.filter(pk=head.pk).update(seq=seq, last_hash=prev)

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
