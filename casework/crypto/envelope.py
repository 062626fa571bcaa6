"""The envelope: ``version (1 byte) | data-key id (16 bytes, UUID) | nonce (12 bytes) | AES-GCM ciphertext+tag``.

The associated data binds a value to its place — table, row id, field, owner id and schema version — so an envelope
copied to another row, field or owner fails authentication instead of decrypting to someone else's data.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError, EnvelopeFormatError

VERSION = 1
_KEY_ID_LEN = 16
_NONCE_LEN = 12
_TAG_LEN = 16
_KEY_ID_END = 1 + _KEY_ID_LEN
_HEADER_LEN = _KEY_ID_END + _NONCE_LEN
_VERSION_BYTE = bytes([VERSION])
_SEP = "\x1f"
_SEP_BYTES = _SEP.encode()


@dataclass(frozen=True)
class Binding:
    """Where a sealed value lives. Every part goes into the AES-GCM associated data."""

    table: str
    row_id: str
    field: str
    owner_id: str
    schema_version: int

    @property
    def row(self) -> RowBinding:
        return RowBinding(
            table=self.table, row_id=self.row_id, owner_id=self.owner_id, schema_version=self.schema_version
        )

    def associated_data(self) -> bytes:
        return self.row.associated_data(self.field)


@dataclass(frozen=True)
class RowBinding:
    """Every part of a :class:`Binding` but the field: what the sealed values of one row share.

    Checked and encoded once, so each field of the row costs one concatenation (``associated_data(field)`` is byte for
    byte that field's ``Binding.associated_data()``: the table, row id, field, owner id and schema version, always).
    """

    table: str
    row_id: str
    owner_id: str
    schema_version: int
    _head: bytes = dataclass_field(init=False, repr=False, compare=False)
    _tail: bytes = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        head = (f"v{VERSION}", self.table, self.row_id)
        tail = (self.owner_id, str(self.schema_version))
        _check_parts(head + tail)
        object.__setattr__(self, "_head", _SEP.join(head).encode() + _SEP_BYTES)
        object.__setattr__(self, "_tail", _SEP_BYTES + _SEP.join(tail).encode())

    def binding(self, field: str) -> Binding:
        return Binding(
            table=self.table,
            row_id=self.row_id,
            field=field,
            owner_id=self.owner_id,
            schema_version=self.schema_version,
        )

    def associated_data(self, field: str) -> bytes:
        if _SEP in field:
            raise ValueError("binding parts may not contain the unit separator")
        return self._head + field.encode() + self._tail


def _check_parts(parts: tuple[str, ...]) -> None:
    for part in parts:
        if _SEP in part:
            raise ValueError("binding parts may not contain the unit separator")


class EnvelopeCipher:
    """AES-GCM under one data key, built once for all the envelopes a unit of work seals or opens with that key.

    Building the AEAD object cost more than decrypting a short value, and a page opens tens of fields under one key.
    An envelope names the key it was sealed with; opening one sealed with another key fails (``DecryptionError``).
    """

    __slots__ = ("_aead", "_key_id_bytes", "key_id")

    def __init__(self, key: bytes, key_id: uuid.UUID) -> None:
        self._aead = AESGCM(key)
        self.key_id = key_id
        self._key_id_bytes = key_id.bytes

    def seal(self, plaintext: str, *, row: RowBinding, field: str) -> bytes:
        """Encrypt ``plaintext`` with a fresh random 96-bit nonce, bound to ``field`` of ``row``."""
        nonce = os.urandom(_NONCE_LEN)
        ciphertext = self._aead.encrypt(nonce, plaintext.encode("utf-8"), row.associated_data(field))
        return _VERSION_BYTE + self._key_id_bytes + nonce + ciphertext

    def open_envelope(self, envelope: bytes, *, row: RowBinding, field: str) -> str:
        """Decrypt, or raise. Never returns an empty or partial value on failure."""
        data = bytes(envelope)
        _check_format(data)
        if data[1:_KEY_ID_END] != self._key_id_bytes:
            raise DecryptionError(f"envelope of {row.table}.{field} row {row.row_id} was sealed with another key")
        try:
            plaintext = self._aead.decrypt(
                data[_KEY_ID_END:_HEADER_LEN], data[_HEADER_LEN:], row.associated_data(field)
            )
        except InvalidTag as exc:
            raise DecryptionError(f"envelope does not authenticate for {row.table}.{field} row {row.row_id}") from exc
        return plaintext.decode("utf-8")


def seal(plaintext: str, *, key: bytes, key_id: uuid.UUID, binding: Binding) -> bytes:
    """Encrypt ``plaintext`` under ``key`` with a fresh random 96-bit nonce."""
    return EnvelopeCipher(key, key_id).seal(plaintext, row=binding.row, field=binding.field)


def envelope_key_id(envelope: bytes) -> uuid.UUID:
    """The id of the data key an envelope was sealed with (needed to fetch that key before opening)."""
    return uuid.UUID(bytes=envelope_key_id_bytes(envelope))


def envelope_key_id_bytes(envelope: bytes) -> bytes:
    """:func:`envelope_key_id` as its 16 bytes (a dictionary key without building a UUID per field)."""
    _check_format(envelope)
    return bytes(envelope[1:_KEY_ID_END])


def open_envelope(envelope: bytes, *, key: bytes, binding: Binding) -> str:
    """Decrypt, or raise. Never returns an empty or partial value on failure."""
    _check_format(envelope)
    nonce = bytes(envelope[_KEY_ID_END:_HEADER_LEN])
    try:
        plaintext = AESGCM(key).decrypt(nonce, bytes(envelope[_HEADER_LEN:]), binding.associated_data())
    except InvalidTag as exc:
        raise DecryptionError(
            f"envelope does not authenticate for {binding.table}.{binding.field} row {binding.row_id}"
        ) from exc
    return plaintext.decode("utf-8")


def _check_format(envelope: bytes) -> None:
    if len(envelope) < _HEADER_LEN + _TAG_LEN:
        raise EnvelopeFormatError("envelope is truncated")
    if envelope[0] != VERSION:
        raise EnvelopeFormatError(f"unknown envelope version {envelope[0]}")
