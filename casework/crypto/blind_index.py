"""Blind index: a keyed HMAC of a normalised value, for exact-match search without storing the value.

It has its own key (``BLIND_INDEX_KEY``), separate from the KEKs, so the index can't be turned into a decryption
oracle, and a ``purpose`` prefix so the same value indexed for two purposes gives unrelated digests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from django.conf import settings

from .errors import KeyUnavailableError


def _key() -> bytes:
    try:
        key = base64.b64decode(settings.BLIND_INDEX_KEY, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyUnavailableError("BLIND_INDEX_KEY is not valid base64") from exc
    if len(key) < 32:
        raise KeyUnavailableError("BLIND_INDEX_KEY must be at least 32 bytes; run `make keys` for the demo")
    return key


def blind_index(value: str, *, purpose: str) -> str:
    """Hex HMAC-SHA256 of ``purpose`` and an already-normalised ``value``."""
    message = purpose.encode() + b"\x1f" + value.encode("utf-8")
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()
