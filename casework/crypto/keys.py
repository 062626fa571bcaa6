"""Key-encryption keys (KEKs) behind a provider interface.

Data keys (one per owner: a child's identity, a case, a report) are random 256-bit AES keys stored wrapped by a KEK.
The provider is pluggable (``settings.KEY_PROVIDER``): the local provider reads KEKs from the environment or the key
file; a Vault/OpenBao transit provider can implement the same three methods without the database noticing.
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid
from functools import cache
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.module_loading import import_string

from .errors import DecryptionError, KeyUnavailableError

DATA_KEY_BYTES = 32
_NONCE_LEN = 12


class KeyProvider(Protocol):
    def current_kek_id(self) -> str: ...

    def wrap(self, data_key: bytes, *, data_key_id: uuid.UUID) -> tuple[str, bytes]:
        """Wrap under the current KEK; returns (kek id, wrapped bytes)."""
        ...

    def unwrap(self, kek_id: str, wrapped: bytes, *, data_key_id: uuid.UUID) -> bytes: ...

    def has_kek(self, kek_id: str) -> bool: ...


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


def parse_kek_list(spec: str) -> dict[str, bytes]:
    """Parse ``"id:base64,id2:base64"``. Errors name the key id, never the key."""
    keks: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kek_id, sep, encoded = item.partition(":")
        if not sep or not kek_id:
            raise KeyUnavailableError("FIELD_KEKS must look like 'key-id:base64key[,key-id:base64key]'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyUnavailableError(f"FIELD_KEKS entry {kek_id!r} is not valid base64") from exc
        if len(key) != DATA_KEY_BYTES:
            raise KeyUnavailableError(f"FIELD_KEKS entry {kek_id!r} must be {DATA_KEY_BYTES} bytes")
        keks[kek_id] = key
    return keks


class LocalKeyProvider:
    """KEKs held in process memory, read from settings (environment or key file).

    Several KEKs may be configured at once: the current one wraps new and re-wrapped data keys; older ones stay
    readable until ``rotate_kek`` has re-wrapped every data key, after which the operator removes them.
    """

    def __init__(self, keks: dict[str, bytes], current: str | None = None) -> None:
        if not keks:
            raise KeyUnavailableError("no key-encryption key configured (FIELD_KEKS); run `make keys` for the demo")
        self._keks = dict(keks)
        self._current = current or list(keks)[-1]
        if self._current not in self._keks:
            raise KeyUnavailableError(f"FIELD_KEK_CURRENT {self._current!r} is not among FIELD_KEKS")

    @classmethod
    def from_settings(cls) -> LocalKeyProvider:
        return cls(parse_kek_list(settings.FIELD_KEKS), settings.FIELD_KEK_CURRENT or None)

    def current_kek_id(self) -> str:
        return self._current

    def has_kek(self, kek_id: str) -> bool:
        return kek_id in self._keks

    def add_kek(self, kek_id: str, key: bytes, *, make_current: bool) -> None:
        if len(key) != DATA_KEY_BYTES:
            raise KeyUnavailableError(f"key-encryption key {kek_id!r} must be {DATA_KEY_BYTES} bytes")
        self._keks[kek_id] = key
        if make_current:
            self._current = kek_id

    def wrap(self, data_key: bytes, *, data_key_id: uuid.UUID) -> tuple[str, bytes]:
        nonce = os.urandom(_NONCE_LEN)
        wrapped = AESGCM(self._keks[self._current]).encrypt(nonce, data_key, _wrap_ad(data_key_id))
        return self._current, nonce + wrapped

    def unwrap(self, kek_id: str, wrapped: bytes, *, data_key_id: uuid.UUID) -> bytes:
        try:
            kek = self._keks[kek_id]
        except KeyError:
            raise KeyUnavailableError(f"key-encryption key {kek_id!r} is not configured") from None
        data = bytes(wrapped)
        try:
            return AESGCM(kek).decrypt(data[:_NONCE_LEN], data[_NONCE_LEN:], _wrap_ad(data_key_id))
        except InvalidTag as exc:
            raise DecryptionError(f"data key {data_key_id} does not unwrap under {kek_id!r}") from exc


def _wrap_ad(data_key_id: uuid.UUID) -> bytes:
    # Binds a wrapped key to its row: swapping wrapped keys between DataKey rows fails.
    return b"datakey\x1f" + data_key_id.bytes


@cache
def get_key_provider() -> KeyProvider:
    provider_class = import_string(settings.KEY_PROVIDER)
    provider: KeyProvider = provider_class.from_settings()
    return provider


def reset_key_provider() -> None:
    """Forget the cached provider (tests and ``rotate_kek`` after the key file changed)."""
    get_key_provider.cache_clear()
