"""Sealed model fields: how domain rows hold protected values as envelopes, and the keyring that seals and opens them.

A ``SealedField`` is a binary column holding an envelope (or NULL for "no value"); attribute access returns the
envelope bytes and never decrypts. Models with sealed fields subclass ``SealedModel``: a UUID primary key generated in
Python (the row id is part of the associated data, so it must be known before the INSERT), the owner whose data key
seals them, and each field's compartment.

Writing: ``seal_values(instance, {...})`` in the service that saves the row. Opening: ``open_values`` — called by
``permissions.gate`` (the one place that decrypts for a user) and by key-management commands that re-seal in memory.
A test keeps other callers out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, ClassVar

from django.apps import apps
from django.db import connections, models, router
from django.utils import timezone

from casework.compartments import Compartment
from casework.crypto import Binding, EnvelopeCipher, RowBinding, envelope_key_id_bytes
from casework.crypto.errors import KeyDestroyedError, KeyUnavailableError
from casework.crypto.keys import KeyProvider, get_key_provider, new_data_key
from casework.models.keys import DataKey
from permissions.transactions import forget_in_transaction, once_per_transaction

#: ``SealedField(compartment=PER_ROW)``: the row's own ``compartment`` column classifies the value (a case note is
#: social, school or health according to what its author chose).
PER_ROW = "per_row"


class SealedField(models.BinaryField):
    """A binary column that holds one envelope. Its compartment is data for the policy."""

    def __init__(self, *args: Any, compartment: Compartment | str, **kwargs: Any) -> None:
        self.compartment: Compartment | str = PER_ROW if compartment == PER_ROW else Compartment(compartment)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["compartment"] = str(self.compartment)
        kwargs.pop("editable", None)
        return name, path, args, kwargs


class SealedModel(models.Model):
    """Base for rows with sealed fields. Subclasses set ``SEAL_OWNER_TYPE`` and implement ``seal_owner_id``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    SEAL_OWNER_TYPE: ClassVar[str]
    SEAL_SCHEMA_VERSION: ClassVar[int] = 1
    _sealed_fields_cache: ClassVar[dict[str, Compartment | str]]

    class Meta:
        abstract = True

    def seal_owner_id(self) -> uuid.UUID:
        raise NotImplementedError

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        """The rows whose sealed values belong to ``owner_id`` (for re-encryption)."""
        raise NotImplementedError

    @classmethod
    def sealed_fields(cls) -> dict[str, Compartment | str]:
        """Field name → compartment (or ``PER_ROW``); computed once per class (fields don't change after build)."""
        cached: dict[str, Compartment | str] | None = cls.__dict__.get("_sealed_fields_cache")
        if cached is None:
            cached = {f.name: f.compartment for f in cls._meta.get_fields() if isinstance(f, SealedField)}
            cls._sealed_fields_cache = cached
        return dict(cached)

    @classmethod
    def compartment_of(cls, field_name: str) -> Compartment | str:
        """The field's declared compartment, or ``PER_ROW`` when each row says (see :meth:`row_compartment`)."""
        try:
            return cls.sealed_fields()[field_name]
        except KeyError:
            raise ValueError(f"{cls._meta.label} has no sealed field {field_name!r}") from None

    def row_compartment(self, field_name: str) -> Compartment:
        """The compartment of this row's value of ``field_name``: the declared one, or the row's ``compartment``."""
        declared = type(self).compartment_of(field_name)
        if declared == PER_ROW:
            return Compartment(getattr(self, "compartment"))  # noqa: B009 - a column of subclasses that use PER_ROW
        return Compartment(declared)

    def row_binding(self) -> RowBinding:
        """What binds every sealed value of this row: table, row id, owner id, schema version (the field is added per
        value). Built once per row that is sealed or opened, not once per field."""
        return RowBinding(
            table=self._meta.db_table,
            row_id=str(self.pk),
            owner_id=str(self.seal_owner_id()),
            schema_version=self.SEAL_SCHEMA_VERSION,
        )

    def binding(self, field_name: str) -> Binding:
        return self.row_binding().binding(field_name)


def sealed_models() -> list[type[SealedModel]]:
    return [m for m in apps.get_models() if issubclass(m, SealedModel)]


def _active_key_key(owner_type: str, owner_id: uuid.UUID) -> tuple[str, str, str]:
    """The unit-of-work key of an owner's active ``DataKey`` row."""
    return ("active data key", owner_type, str(owner_id))


class Keyring:
    """Data keys for one unit of work: fetched once, unwrapped once, held only for the keyring's life.

    Creating an owner's first data key writes a ``DataKey`` row, so sealing must run inside the caller's write
    transaction. Two writers may seal the first values of one owner at the same moment: the key is inserted with
    ``ON CONFLICT DO NOTHING`` and read back, so both use the one that won (never check-then-insert; DESIGN.md
    invariant 10).
    """

    def __init__(self, provider: KeyProvider | None = None) -> None:
        self._provider = provider or get_key_provider()
        self._by_id: dict[uuid.UUID, bytes] = {}
        self._active: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
        #: One AES-GCM object per data key (by the key id's 16 bytes, as envelopes carry it), built on first use.
        self._ciphers: dict[bytes, EnvelopeCipher] = {}

    def active_key(self, owner_type: str, owner_id: uuid.UUID, *, new_owner: bool = False) -> tuple[uuid.UUID, bytes]:
        """The owner's active key (its id and material), creating the first one.

        ``new_owner``: the owner is a row being inserted in this transaction (its id was just generated), so it has
        no key yet and no other writer can be creating one: the key is inserted without looking first or reading it
        back (the one-active-key constraint still refuses a second). Within a transaction the owner's key row is
        read once (``permissions.transactions.once_per_transaction``; the wrapped key only, never its material),
        so a step that seals several rows of one case asks once."""
        cached = self._active.get((owner_type, owner_id))
        if cached is not None:
            return cached, self._by_id[cached]
        row = once_per_transaction(
            _active_key_key(owner_type, owner_id), lambda: self._active_row(owner_type, owner_id, new_owner)
        )
        key = self._unwrap(row)
        self._active[(owner_type, owner_id)] = row.id
        return row.id, key

    def _active_row(self, owner_type: str, owner_id: uuid.UUID, new_owner: bool) -> DataKey:
        if new_owner:
            return self._new_owner_key(owner_type, owner_id)
        row = DataKey.objects.filter(owner_type=owner_type, owner_id=owner_id, retired_at__isnull=True).first()
        return row if row is not None else self._first_key(owner_type, owner_id)

    def _new_owner_key(self, owner_type: str, owner_id: uuid.UUID) -> DataKey:
        key_id = uuid.uuid4()
        material = new_data_key()
        kek_id, wrapped = self._provider.wrap(material, data_key_id=key_id)
        row = DataKey(id=key_id, owner_type=owner_type, owner_id=owner_id, kek_id=kek_id, wrapped_key=wrapped)
        row.save(force_insert=True)
        self._by_id[key_id] = material
        return row

    def _first_key(self, owner_type: str, owner_id: uuid.UUID) -> DataKey:
        """The owner's active key, inserting one unless another writer's won: ``INSERT … ON CONFLICT DO NOTHING`` on
        the one-active-key constraint, then read the row that is there. On PostgreSQL the insert waits for a
        concurrent writer's uncommitted key and then yields to it (or goes in, if that writer rolled back)."""
        key_id = uuid.uuid4()
        material = new_data_key()
        kek_id, wrapped = self._provider.wrap(material, data_key_id=key_id)
        candidate = DataKey(id=key_id, owner_type=owner_type, owner_id=owner_id, kek_id=kek_id, wrapped_key=wrapped)
        DataKey.objects.bulk_create([candidate], ignore_conflicts=True)
        row = DataKey.objects.get(owner_type=owner_type, owner_id=owner_id, retired_at__isnull=True)
        if row.id == key_id:
            self._by_id[key_id] = material
        return row

    def create_key(self, owner_type: str, owner_id: uuid.UUID) -> DataKey:
        """A new active key for an owner whose active key the caller has just retired under its row lock
        (re-encryption). Anywhere else use :meth:`active_key`, which never races another writer."""
        key_id = uuid.uuid4()
        material = new_data_key()
        kek_id, wrapped = self._provider.wrap(material, data_key_id=key_id)
        row = DataKey.objects.create(
            id=key_id, owner_type=owner_type, owner_id=owner_id, kek_id=kek_id, wrapped_key=wrapped
        )
        forget_in_transaction(_active_key_key(owner_type, owner_id))
        self._by_id[key_id] = material
        self._active[(owner_type, owner_id)] = key_id
        return row

    def key_by_id(self, key_id: uuid.UUID) -> bytes:
        if key_id not in self._by_id:
            self.preload([key_id])
        try:
            return self._by_id[key_id]
        except KeyError:
            raise KeyUnavailableError(f"data key {key_id} does not exist") from None

    def cipher(self, key_id: uuid.UUID) -> EnvelopeCipher:
        """The AES-GCM object of a data key, built once per keyring (fetching and unwrapping the key if needed)."""
        raw = key_id.bytes
        found = self._ciphers.get(raw)
        if found is None:
            found = self._ciphers[raw] = EnvelopeCipher(self.key_by_id(key_id), key_id)
        return found

    def cipher_for(self, envelope: bytes) -> EnvelopeCipher:
        """The cipher of the data key ``envelope`` names (``EnvelopeFormatError`` for a malformed envelope)."""
        found = self._ciphers.get(envelope_key_id_bytes(envelope))
        return found if found is not None else self.cipher(uuid.UUID(bytes=envelope_key_id_bytes(envelope)))

    def preload(self, key_ids: Iterable[uuid.UUID]) -> None:
        """Fetch and unwrap the data keys not yet held, in one statement."""
        missing = [k for k in set(key_ids) if k not in self._by_id]
        if missing:
            for key_id, owner_type, owner_id, kek_id, wrapped, destroyed in _data_key_rows(missing):
                self._unwrap_parts(key_id, owner_type, owner_id, kek_id, wrapped, destroyed)

    def preload_envelopes(self, envelopes: Iterable[bytes | None]) -> None:
        """:meth:`preload` the keys that ``envelopes`` (None for no value) were sealed with."""
        raw_ids = {envelope_key_id_bytes(envelope) for envelope in envelopes if envelope is not None}
        self.preload(uuid.UUID(bytes=raw) for raw in raw_ids if raw not in self._ciphers)

    def forget_owner(self, owner_type: str, owner_id: uuid.UUID) -> None:
        self._active.pop((owner_type, owner_id), None)
        forget_in_transaction(_active_key_key(owner_type, owner_id))

    def _unwrap(self, row: DataKey) -> bytes:
        return self._unwrap_parts(row.id, row.owner_type, row.owner_id, row.kek_id, row.wrapped_key, row.destroyed_at)

    def _unwrap_parts(
        self,
        key_id: uuid.UUID,
        owner_type: str,
        owner_id: object,
        kek_id: str,
        wrapped: bytes | memoryview | None,
        destroyed: object,
    ) -> bytes:
        if key_id in self._by_id:
            return self._by_id[key_id]
        if destroyed is not None or wrapped is None:
            raise KeyDestroyedError(f"data key {key_id} of {owner_type} {owner_id} was destroyed")
        key = self._provider.unwrap(kek_id, bytes(wrapped), data_key_id=key_id)
        self._by_id[key_id] = key
        return key


#: The columns ``Keyring.preload`` reads, in the order ``_unwrap_parts`` takes them.
_KEY_COLUMNS = ("id", "owner_type", "owner_id", "kek_id", "wrapped_key", "destroyed_at")


def _data_key_rows(
    key_ids: list[uuid.UUID],
) -> list[tuple[uuid.UUID, str, str, str, bytes | memoryview | None, object]]:
    """The data-key rows of ``key_ids``: one parametrised SELECT by primary key.

    Written out rather than through a queryset because this statement runs on every gate read, and compiling the
    queryset took about two thirds of its time (0.2 of 0.3 ms; the gate measure of bench/run.py). Table and column
    names come from the model, the ids are parameters."""
    using = router.db_for_read(DataKey)
    connection = connections[using]
    pk = DataKey._meta.pk
    assert pk is not None
    sql = f"{_key_select(using)} ({', '.join(['%s'] * len(key_ids))})"
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk.get_db_prep_value(key_id, connection) for key_id in key_ids])
        rows = cursor.fetchall()
    return [
        (_as_uuid(key_id), owner_type, str(_as_uuid(owner_id)), kek_id, wrapped, destroyed)
        for key_id, owner_type, owner_id, kek_id, wrapped, destroyed in rows
    ]


@cache
def _key_select(using: str) -> str:
    """``SELECT <_KEY_COLUMNS> FROM <data keys> WHERE <pk> IN``, quoted for the database ``using``."""
    quote = connections[using].ops.quote_name
    fields = {field.name: field for field in DataKey._meta.concrete_fields}
    columns = ", ".join(quote(fields[name].column) for name in _KEY_COLUMNS)
    pk_column = quote(fields["id"].column)
    return f"SELECT {columns} FROM {quote(DataKey._meta.db_table)} WHERE {pk_column} IN"  # noqa: S608 - model names


def _as_uuid(value: object) -> uuid.UUID:
    """A UUID column's value as PostgreSQL returns it (a UUID) or SQLite does (32 hex digits)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def seal_values(instance: SealedModel, values: Mapping[str, str | None], keyring: Keyring | None = None) -> None:
    """Set envelopes on ``instance`` for ``values`` (None stores NULL). The caller saves the row."""
    keyring = keyring or Keyring()
    fields = type(instance).sealed_fields()
    owner_id = instance.seal_owner_id()
    # A row that owns its values and is being inserted (its UUID was generated for it) has no key yet.
    new_owner = instance._state.adding and owner_id == instance.pk
    key_id, _key = keyring.active_key(instance.SEAL_OWNER_TYPE, owner_id, new_owner=new_owner)
    cipher = keyring.cipher(key_id)
    row = instance.row_binding()
    for name, value in values.items():
        if name not in fields:
            raise ValueError(f"{instance._meta.label} has no sealed field {name!r}")
        envelope = None if value is None else cipher.seal(value, row=row, field=name)
        setattr(instance, name, envelope)


def open_values(
    instance: SealedModel, field_names: Iterable[str], keyring: Keyring | None = None
) -> dict[str, str | None]:
    """Decrypt the named fields. Raises a ``CryptoError`` on any failure; never returns a partial result."""
    keyring = keyring or Keyring()
    envelopes = {name: _envelope_bytes(getattr(instance, name)) for name in field_names}
    keyring.preload_envelopes(envelopes.values())
    row = instance.row_binding()
    return {
        name: None if envelope is None else keyring.cipher_for(envelope).open_envelope(envelope, row=row, field=name)
        for name, envelope in envelopes.items()
    }


def _envelope_bytes(value: bytes | memoryview | None) -> bytes | None:
    return None if value is None else bytes(value)


def destroy_owner_keys(owner_type: str, owner_id: uuid.UUID) -> int:
    """Crypto-shred: drop the key material of every data key of an owner. Irreversible by design."""
    now = timezone.now()
    forget_in_transaction(_active_key_key(owner_type, owner_id))
    return DataKey.objects.filter(owner_type=owner_type, owner_id=owner_id, destroyed_at__isnull=True).update(
        wrapped_key=None, destroyed_at=now, retired_at=now
    )
