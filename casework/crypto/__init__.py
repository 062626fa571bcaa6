"""Field sealing: envelopes, key providers and the blind index.

This package imports nothing from the domain or the policy (DESIGN.md): it knows bytes, keys and bindings, not
children or cases. ``casework.sealing`` connects it to models; only ``permissions.gate`` opens values for a user.
"""

from .envelope import Binding, EnvelopeCipher, RowBinding, envelope_key_id, envelope_key_id_bytes, open_envelope, seal
from .errors import CryptoError, DecryptionError, EnvelopeFormatError, KeyDestroyedError, KeyUnavailableError

__all__ = [
    "Binding",
    "CryptoError",
    "DecryptionError",
    "EnvelopeCipher",
    "EnvelopeFormatError",
    "KeyDestroyedError",
    "KeyUnavailableError",
    "RowBinding",
    "envelope_key_id",
    "envelope_key_id_bytes",
    "open_envelope",
    "seal",
]
