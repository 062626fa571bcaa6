"""The envelope: ``version (1 byte) | data-key id (16 bytes, UUID) | nonce (12 bytes) | AES-GCM ciphertext+tag``.

The associated data binds a value to its place — table, row id, field, owner id and schema version — so an envelope
copied to another row, field or owner fails authentication instead of decrypting to someone else's data.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError, EnvelopeFormatError

VERSION = 1
_KEY_ID_LEN = 16
_NONCE_LEN = 12
_TAG_LEN = 16
_HEADER_LEN = 1 + _KEY_ID_LEN + _NONCE_LEN


@dataclass(frozen=True)
class Binding:
    """Where a sealed value lives. Every part goes into the AES-GCM associated data."""

    table: str
    row_id: str
    field: str
    owner_id: str
    schema_version: int

    def associated_data(self) -> bytes:
        parts = (f"v{VERSION}", self.table, self.row_id, self.field, self.owner_id, str(self.schema_version))
        for part in parts:
            if "\x1f" in part:
                raise ValueError("binding parts may not contain the unit separator")
        return "\x1f".join(parts).encode()


def seal(plaintext: str, *, key: bytes, key_id: uuid.UUID, binding: Binding) -> bytes:
    """Encrypt ``plaintext`` under ``key`` with a fresh random 96-bit nonce."""
    nonce = os.urandom(_NONCE_LEN)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), binding.associated_data())
    return bytes([VERSION]) + key_id.bytes + nonce + ciphertext


def envelope_key_id(envelope: bytes) -> uuid.UUID:
    """The id of the data key an envelope was sealed with (needed to fetch that key before opening)."""
    _check_format(envelope)
    return uuid.UUID(bytes=bytes(envelope[1 : 1 + _KEY_ID_LEN]))


def open_envelope(envelope: bytes, *, key: bytes, binding: Binding) -> str:
    """Decrypt, or raise. Never returns an empty or partial value on failure."""
    _check_format(envelope)
    data = bytes(envelope)
    nonce = data[1 + _KEY_ID_LEN : _HEADER_LEN]
    try:
        plaintext = AESGCM(key).decrypt(nonce, data[_HEADER_LEN:], binding.associated_data())
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
