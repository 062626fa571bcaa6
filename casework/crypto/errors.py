"""Errors of field sealing. Messages carry ids and reasons only, never a value or key material."""


class CryptoError(Exception):
    """Base class: a sealed value could not be produced or opened. Never caught to return an empty value."""


class EnvelopeFormatError(CryptoError):
    """The bytes are not an envelope this code understands (unknown version, truncated)."""


class DecryptionError(CryptoError):
    """Authentication failed: wrong key, or the envelope was moved to another row, field or owner, or altered."""


class KeyDestroyedError(CryptoError):
    """The owner's data key was destroyed (crypto-shredding): the content is gone for good."""


class KeyUnavailableError(CryptoError):
    """A data key or key-encryption key is missing or not configured."""
