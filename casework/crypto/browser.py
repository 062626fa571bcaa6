"""Sealing under a one-time key that the browser keeps (a cookie), not the server.

Used for a form posted after its session ended: the server stores only the envelope, the browser only the token
and the key, so neither alone reads the text, and it can be restored only in the browser that wrote it. The
envelope is the product's usual one (``envelope.seal``), bound to its row; the key id inside it is the row id.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

from .envelope import Binding, open_envelope, seal

_KEY_LEN = 32
_TOKEN_LEN = 24


def _binding(row_id: uuid.UUID) -> Binding:
    return Binding(
        table="casework_keptwork", row_id=str(row_id), field="envelope", owner_id="browser", schema_version=1
    )


def new_browser_secret() -> tuple[str, str, bytes]:
    """``(cookie value, token hash, key)``: the cookie carries ``token.key`` (URL-safe base64)."""
    token = os.urandom(_TOKEN_LEN)
    key = os.urandom(_KEY_LEN)
    cookie = f"{_b64(token)}.{_b64(key)}"
    return cookie, hashlib.sha256(token).hexdigest(), key


def parse_browser_secret(cookie: str) -> tuple[str, bytes] | None:
    """``(token hash, key)`` from a cookie value, or ``None`` for anything malformed."""
    try:
        token_part, key_part = cookie.split(".", 1)
        token = base64.urlsafe_b64decode(token_part + "=" * (-len(token_part) % 4))
        key = base64.urlsafe_b64decode(key_part + "=" * (-len(key_part) % 4))
    except (ValueError, TypeError):
        return None
    if len(token) != _TOKEN_LEN or len(key) != _KEY_LEN:
        return None
    return hashlib.sha256(token).hexdigest(), key


def seal_for_browser(plaintext: str, *, key: bytes, row_id: uuid.UUID) -> bytes:
    return seal(plaintext, key=key, key_id=row_id, binding=_binding(row_id))


def open_from_browser(envelope: bytes, *, key: bytes, row_id: uuid.UUID) -> str:
    """Decrypt or raise ``DecryptionError`` (a wrong key, another row's envelope)."""
    return open_envelope(envelope, key=key, binding=_binding(row_id))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
