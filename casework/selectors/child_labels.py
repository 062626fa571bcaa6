"""The child beside a case number: one read model for every list that names cases (the inbox, the team queue, the
notification list, the task pages, the plan board).

``child_labels(user=..., case_ids=..., purpose=...)`` answers, for the cases among ``case_ids`` that ``user`` may see
today *and* whose basics the policy lets them read (``CaseAccess.may_read_compartment(BASICS)``), the child's name
and age, read through the gate (``permissions.gate.read_case_children``). Cases the user may not see, or whose basics
they may not read, are simply absent: the page shows the reference alone, and nothing is read or denied for them.

A fixed number of queries whatever the number of cases: one for the cases (filtered by ``visible_cases`` in SQL),
the viewer's standing on all of them at once (``accessed_cases``), and the gate's one committed audit write (one
read row per child, as every other read of case basics is audited). No ids at all: no query.

The labels are rendered into pages only; notification rows, websocket payloads, e-mails and URLs never carry them.
This module imports ``permissions``, so it is imported from its own path, never from ``casework.selectors``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import ngettext

from casework.compartments import Compartment
from casework.models import Case, User
from permissions import gate
from permissions.access import AccessedCase, accessed_case, accessed_cases, visible_cases

#: The child's fields a label shows (the case basics' name and date of birth).
LABEL_FIELDS = ["given_name", "family_name", "date_of_birth"]


@dataclass(frozen=True)
class ChildLabel:
    """The child's name and age as the viewer may read them (a withheld part is left out)."""

    name: str
    age: int | None

    @property
    def text(self) -> str:
        if self.age is None:
            return self.name
        years = ngettext("%(years)s year", "%(years)s years", self.age) % {"years": self.age}
        return f"{self.name}, {years}" if self.name else years

    def __str__(self) -> str:
        return self.text


def _age(born: datetime.date) -> int:
    today = timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _label(disclosure: gate.Disclosure) -> ChildLabel | None:
    name = " ".join(filter(None, [disclosure.get("given_name"), disclosure.get("family_name")]))
    born = disclosure.get("date_of_birth")
    age = _age(datetime.date.fromisoformat(born)) if born else None
    if not name and age is None:
        return None
    return ChildLabel(name=name, age=age)


def _as_uuid(value: uuid.UUID | str | None) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def child_labels(
    *, user: User | None, case_ids: Iterable[uuid.UUID | str | None], purpose: str
) -> dict[uuid.UUID, ChildLabel]:
    """case id → the child's label, for the cases of ``case_ids`` whose basics ``user`` may read; audited by the gate.

    Duplicates and ``None`` in ``case_ids`` are ignored (a list with ten tasks of one case reads that child once).
    """
    wanted = {found for found in (_as_uuid(value) for value in case_ids) if found is not None}
    if user is None or not wanted:
        return {}
    # A child whose identity was crypto-shredded (a file destroyed after a shredding review) has no label to read.
    cases = list(
        Case.objects.filter(visible_cases(user), pk__in=wanted, child__shredded_at__isnull=True).select_related(
            "child", "municipality", "coordinator"
        )
    )
    return child_labels_of(user=user, cases=accessed_cases(user, cases), purpose=purpose)


def child_labels_of(
    *, user: User | None, cases: Sequence[AccessedCase | Case], purpose: str
) -> dict[uuid.UUID, ChildLabel]:
    """:func:`child_labels` for cases a page already holds: pass what ``access_case_by_id`` returned (its decision is
    used as it is, no query) or a bare case (decided here). Cases whose basics ``user`` may not read are left out."""
    decided = [accessed_case(user, case) for case in cases]
    readable = [found for found in decided if found.access.may_read_compartment(Compartment.BASICS)]
    if not readable:
        return {}
    disclosures = gate.read_case_children(user, readable, LABEL_FIELDS, purpose=purpose)
    labels: dict[uuid.UUID, ChildLabel] = {}
    for accessed, disclosure in zip(readable, disclosures, strict=True):
        label = _label(disclosure)
        if label is not None:
            labels[accessed.case.pk] = label
    return labels


def child_label_texts(user: User | None, case_ids: Iterable[uuid.UUID | str | None], purpose: str) -> dict[str, str]:
    """:func:`child_labels` as plain text keyed by the case id's string, for the notification list
    (``settings.NOTIFICATIONS_CHILD_LABELS``: ``notifications`` stores case ids and imports nothing of casework)."""
    labels = child_labels(user=user, case_ids=case_ids, purpose=purpose)
    return {str(case_id): label.text for case_id, label in labels.items()}
