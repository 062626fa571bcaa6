"""Keyset pages for lists that can grow (DESIGN invariant 12): "the next rows after this one", never "skip N rows".

A list orders its rows by a key that is unique (its sort columns, then the primary key as the tie-breaker) and asks
for ``size + 1`` rows after the last key the reader saw; the extra row only says that there is a next page. The
key of the page's last row travels in the URL as an opaque *cursor* (``?after=...``): numbers, timestamps and ids
only, never a name or a reference. A cursor that does not parse (edited by hand, from an older version) starts at the
first page: it is a position, not a permission, so the list's own filter still decides which rows exist.

Each step costs the same whatever the list's length: the database walks an index in the key's order from the cursor
and stops after ``size + 1`` rows. No ``COUNT(*)``, no ``OFFSET``.

Imports nothing of the domain: ``workflows`` and ``casework`` lists use it alike.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)

#: Rows per page of every keyset list.
PAGE_SIZE = 50

#: What a cursor's parts may be. ``None`` is a NULL sort value (a task without a due date).
KeyValue = datetime.datetime | datetime.date | uuid.UUID | int | None
KeyType = type[datetime.datetime] | type[datetime.date] | type[uuid.UUID] | type[int]

_SEPARATOR = "."
_NULL = "n"
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _encode(value: KeyValue) -> str:
    if value is None:
        return _NULL
    if isinstance(value, datetime.datetime):
        delta = value - _EPOCH
        return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    if isinstance(value, datetime.date):
        return str(value.toordinal())
    if isinstance(value, uuid.UUID):
        return value.hex
    return str(int(value))


def _decode(text: str, kind: KeyType, *, nullable: bool) -> KeyValue:
    if text == _NULL:
        if not nullable:
            raise ValueError("a NULL where the key has none")
        return None
    if kind is uuid.UUID:
        return uuid.UUID(hex=text)
    if not text.isdigit():
        raise ValueError("not a count of microseconds or an id")
    number = int(text)
    if kind is datetime.datetime:
        return _EPOCH + datetime.timedelta(microseconds=number)
    if kind is datetime.date:
        return datetime.date.fromordinal(number)
    return number


def cursor_for(values: Sequence[KeyValue]) -> str:
    """The URL-safe cursor for a row whose sort key is ``values`` (digits, hex and dots; ``n`` for a NULL)."""
    return _SEPARATOR.join(_encode(value) for value in values)


def parse_cursor(
    token: str | None, kinds: Sequence[KeyType], *, nullable: Sequence[bool] | None = None
) -> tuple[KeyValue, ...] | None:
    """The key in ``token``, or None (the first page) when it is empty or not a key of this shape."""
    if not token or len(token) > 200:
        return None
    parts = token.split(_SEPARATOR)
    if len(parts) != len(kinds):
        return None
    allowed = nullable or [False] * len(kinds)
    try:
        return tuple(
            _decode(part, kind, nullable=may_be_null)
            for part, kind, may_be_null in zip(parts, kinds, allowed, strict=True)
        )
    except (ValueError, OverflowError):
        return None


def after(keys: Sequence[tuple[str, bool]], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in the order of ``keys`` (``(field, descending)`` pairs, none nullable).

    Written as "first key at or beyond the cursor, and then beyond it on some key" so that the first key is a plain
    range condition: the database seeks to it in an index of the list's order and walks on from there."""
    (first, first_desc), first_value = keys[0], values[0]
    disjuncts = Q()
    equal = Q()
    for (field, descending), value in zip(keys, values, strict=True):
        disjuncts |= equal & Q(**{f"{field}__{'lt' if descending else 'gt'}": value})
        equal &= Q(**{field: value})
    return Q(**{f"{first}__{'lte' if first_desc else 'gte'}": first_value}) & disjuncts


def take(rows: QuerySet[M], size: int) -> tuple[list[M], bool]:
    """The first ``size`` of ``rows`` (already ordered and filtered after the cursor) and whether a next page exists:
    one statement, ``size + 1`` rows."""
    fetched = list(rows[: size + 1])
    return fetched[:size], len(fetched) > size


def newest_first(rows: QuerySet[M], field: str, before: int | None, size: int = PAGE_SIZE) -> tuple[list[M], bool]:
    """A page of ``rows`` by a unique increasing integer column (an id, the audit chain's ``seq``), newest first,
    older than ``before`` (the last value the reader saw; None for the first page), and whether there are older."""
    if before is not None:
        rows = rows.filter(**{f"{field}__lt": before})
    return take(rows.order_by(f"-{field}"), size)
