"""Services write: keyword-only functions, one transaction each, field-level ValidationErrors."""

from .cases import (
    case_close,
    case_note_add,
    case_open,
    coordinator_handover,
    team_member_add,
    team_member_end,
    team_roles_ensure_defaults,
)
from .children import RepresentativeInput, child_create, child_crypto_shred

__all__ = [
    "RepresentativeInput",
    "case_close",
    "case_note_add",
    "case_open",
    "child_create",
    "child_crypto_shred",
    "coordinator_handover",
    "team_member_add",
    "team_member_end",
    "team_roles_ensure_defaults",
]
