"""Selectors of the child register."""

from __future__ import annotations

import datetime
import unicodedata
import uuid
from collections.abc import Collection

from django.core.exceptions import ValidationError

from casework.birth_number import normalize_birth_number
from casework.crypto.blind_index import blind_index
from casework.models import Child, ChildMerge, ChildMergeStatus, LegalRepresentative, User

BIRTH_NUMBER_INDEX_PURPOSE = "child.birth_number"
IDENTITY_INDEX_PURPOSE = "child.name_and_birth_date"


def normalise_name(value: str) -> str:
    """Case, diacritics, hyphens and spacing do not tell two children apart: "Nováková-Dvořák" = "novakova dvorak"."""
    decomposed = unicodedata.normalize("NFKD", value)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(letters.replace("-", " ").casefold().split())


def identity_index(given_name: str, family_name: str, date_of_birth: datetime.date) -> str:
    """The blind index of a child's normalised name and date of birth (its own purpose, so it is unrelated to the
    birth number's index): equal for the same child typed twice, and no use to anyone without the key."""
    value = "\x1f".join((normalise_name(given_name), normalise_name(family_name), date_of_birth.isoformat()))
    return blind_index(value, purpose=IDENTITY_INDEX_PURPOSE)


def child_merges_pending(*, municipality_ids: Collection[int]) -> list[ChildMerge]:
    """Merges of the authorities' register entries waiting for a supervisor's decision, oldest first."""
    return list(
        ChildMerge.objects.filter(municipality_id__in=municipality_ids, status=ChildMergeStatus.PENDING)
        .select_related("proposed_by")
        .order_by("proposed_at")
    )


def birth_number_index(normalized: str) -> str:
    """The blind index of a normalised (digits-only) birth number."""
    return blind_index(normalized, purpose=BIRTH_NUMBER_INDEX_PURPOSE)


def child_find_by_birth_number(*, user: User, birth_number: str) -> Child | None:
    """Exact match through the blind index, within the user's own ORP. Invalid input raises ValidationError."""
    normalized = normalize_birth_number(birth_number)
    if user.organisation is None:
        return None
    municipality_id = user.organisation.municipality_id
    return (
        Child.objects.filter(
            birth_number_index=birth_number_index(normalized), municipality_id=municipality_id, shredded_at=None
        )
        .select_related("municipality")
        .first()
    )


def child_get(*, child_id: uuid.UUID | str) -> Child | None:
    try:
        return Child.objects.select_related("municipality").filter(pk=child_id).first()
    except ValidationError:
        return None  # a malformed UUID is just "not found"


def child_representatives(*, child: Child) -> list[LegalRepresentative]:
    return list(child.representatives.all())


def children_registered_by(*, user: User, limit: int = 20) -> list[Child]:
    """The user's most recent registrations (ids and dates only; names are read through the gate)."""
    return list(Child.objects.filter(created_by=user, shredded_at=None).order_by("-created_at")[:limit])
