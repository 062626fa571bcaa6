"""Services write: keyword-only functions, one transaction each, field-level ValidationErrors."""

from .children import RepresentativeInput, child_create, child_crypto_shred

__all__ = ["RepresentativeInput", "child_create", "child_crypto_shred"]
