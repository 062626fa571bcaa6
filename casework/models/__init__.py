from .cases import (
    DEFAULT_TEAM_ROLES,
    NOTE_COMPARTMENTS,
    Case,
    CaseNote,
    CaseStatus,
    CloseReason,
    CoordinatorAssignment,
    HandoverReason,
    MembershipEndReason,
    OpenReason,
    TeamMembership,
    TeamRole,
)
from .children import Child, LegalRepresentative, Relation
from .keys import DataKey, KeyOwnerType, ReencryptionRun
from .organisations import OSPOD_ROLES, Municipality, Organisation, Role, Sector, User

__all__ = [
    "DEFAULT_TEAM_ROLES",
    "NOTE_COMPARTMENTS",
    "OSPOD_ROLES",
    "Case",
    "CaseNote",
    "CaseStatus",
    "Child",
    "CloseReason",
    "CoordinatorAssignment",
    "DataKey",
    "HandoverReason",
    "KeyOwnerType",
    "LegalRepresentative",
    "MembershipEndReason",
    "Municipality",
    "OpenReason",
    "Organisation",
    "ReencryptionRun",
    "Relation",
    "Role",
    "Sector",
    "TeamMembership",
    "TeamRole",
    "User",
]
