"""Possible-duplicate hints of the child register: who may see them depends on who is asking, so this module imports
the policy and is imported from its own path (as ``casework.selectors.lists``), not re-exported by the package."""

from __future__ import annotations

import datetime
import uuid

from casework.models import Child, User
from casework.selectors.children import identity_index
from permissions.policy import may_see_identity_hints


def _hint_rows(user: User, municipality_id: int, index: str, exclude: uuid.UUID | None) -> list[Child]:
    if not may_see_identity_hints(user, municipality_id):
        return []
    rows = Child.objects.filter(
        identity_index=index, municipality_id=municipality_id, shredded_at=None, merged_into=None
    ).order_by("created_at")
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return list(rows)


def child_possible_duplicates(*, user: User, child: Child) -> list[Child]:
    """Other entries of the child's register with the same name and date of birth (by blind index, one query), for
    the authority's OSPOD staff only; anyone else gets none. Ids only: names are read through the gate."""
    if child.identity_index is None:
        return []
    return _hint_rows(user, child.municipality_id, child.identity_index, child.pk)


def children_matching_identity(
    *, user: User, municipality_id: int, given_name: str, family_name: str, date_of_birth: datetime.date | None
) -> list[Child]:
    """Registered children of the authority with this name and date of birth (triage of a report without a birth
    number): the blind index of what was typed, never a search over plaintext."""
    if date_of_birth is None or not given_name.strip() or not family_name.strip():
        return []
    return _hint_rows(user, municipality_id, identity_index(given_name, family_name, date_of_birth), None)
