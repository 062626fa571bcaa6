from .children import Child, LegalRepresentative, Relation
from .keys import DataKey, KeyOwnerType, ReencryptionRun
from .organisations import OSPOD_ROLES, Municipality, Organisation, Role, Sector, User

__all__ = [
    "OSPOD_ROLES",
    "Child",
    "DataKey",
    "KeyOwnerType",
    "LegalRepresentative",
    "Municipality",
    "Organisation",
    "ReencryptionRun",
    "Relation",
    "Role",
    "Sector",
    "User",
]
