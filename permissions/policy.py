"""The read policy: who may see which compartment. One module, one table (DOMAIN.md, "Information sharing rules").

Default is deny (§51 of Act 359/1999 Coll.: data go to others only as far as their task needs). The table maps a
*relationship* — how a user stands to a protected object — to the compartments that relationship may read. Deciding
the relationship is the only logic here; everything else is data that tests enumerate.

Relationships that exist so far: staff of the child's own authority (OSPOD worker or supervisor of the ORP that
registered the child) and everybody else. Case relationships (coordinator, team member of the same sector, other team
members, shares, break-glass) join this table when cases exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from casework.compartments import Compartment
from casework.models import OSPOD_ROLES, Child, Municipality, Sector, User


class Relationship(StrEnum):
    AUTHORITY_STAFF = "authority_staff"
    NONE = "none"


C = Compartment
READ_POLICY: dict[Relationship, frozenset[Compartment]] = {
    # The child register: OSPOD staff of the child's ORP identify the child and contact the family.
    Relationship.AUTHORITY_STAFF: frozenset({C.BASICS, C.IDENTITY}),
    # Administrators, the DPO, partners, other authorities: nothing.
    Relationship.NONE: frozenset(),
}


@dataclass(frozen=True)
class Subject:
    """The user as the policy sees them: role, sector and authority, captured once per decision."""

    user_id: int | None
    role: str | None
    sector: str | None
    municipality_id: int | None
    active: bool

    @classmethod
    def from_user(cls, user: User | None) -> Subject:
        if user is None or not user.is_authenticated:
            return cls(user_id=None, role=None, sector=None, municipality_id=None, active=False)
        organisation = user.organisation
        return cls(
            user_id=user.pk,
            role=user.role,
            sector=organisation.sector if organisation else None,
            municipality_id=organisation.municipality_id if organisation else None,
            active=user.is_active,
        )

    @property
    def is_authority_staff(self) -> bool:
        return self.active and self.role in OSPOD_ROLES and self.sector == Sector.OSPOD

    def works_for(self, municipality_id: int) -> bool:
        return self.is_authority_staff and self.municipality_id == municipality_id


def relationship_to_child(subject: Subject, child: Child) -> Relationship:
    if subject.works_for(child.municipality_id):
        return Relationship.AUTHORITY_STAFF
    return Relationship.NONE


def readable_compartments(subject: Subject, relationship: Relationship) -> frozenset[Compartment]:
    if not subject.active:
        return frozenset()
    return READ_POLICY[relationship]


def may_register_child(user: User, municipality: Municipality) -> bool:
    """Registering a child is OSPOD work for the child's own ORP."""
    return Subject.from_user(user).works_for(municipality.pk)


def may_search_register(user: User) -> bool:
    return Subject.from_user(user).is_authority_staff
