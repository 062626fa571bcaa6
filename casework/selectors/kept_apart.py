"""What § 55(2) keeps apart on a case: the read model the § 55 inspection export leaves out, and the lead's page.

Content-free: item kinds, ids, reasons, who marked and when — never what an item says (nothing here decrypts, so no
gate read). The case's reports (intake) are always kept apart (the notifier's identity and the report's text, § 55(2)
and § 57), with no mark needed; they are listed with the reason "notifier" and no one who marked them.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from casework.models import (
    HELD_STATUSES,
    ActionReport,
    AssessmentInput,
    Case,
    CaseNote,
    Conference,
    InputStatus,
    KeptApartItem,
    KeptApartMark,
    KeptApartReason,
    Report,
)

#: The report (intake) as a kind of item: always kept apart.
REPORT_ITEM = "casework.report"


@dataclass(frozen=True)
class KeptApartRow:
    """One item kept apart: what kind, which row, why; ``mark_id`` is None for what is kept apart always."""

    item_type: str
    item_label: str
    item_id: uuid.UUID
    reason: str
    reason_label: str
    mark_id: int | None
    marked_by: str
    marked_at: datetime.datetime | None
    always: bool


def kept_apart_items(*, case: Case) -> list[KeptApartRow]:
    """Every item of the case kept apart under § 55(2): its reports (always), then the marked items in the order
    they were marked. The § 55 inspection export excludes exactly these rows. Two queries whatever the size."""
    rows = [
        KeptApartRow(
            item_type=REPORT_ITEM,
            item_label=str(_("report (notifier and report text)")),
            item_id=pk,
            reason=KeptApartReason.NOTIFIER,
            reason_label=str(KeptApartReason.NOTIFIER.label),
            mark_id=None,
            marked_by="",
            marked_at=None,
            always=True,
        )
        for pk in Report.objects.filter(case=case).order_by("received_at", "id").values_list("pk", flat=True)
    ]
    marks = KeptApartMark.objects.filter(case=case).select_related("marked_by").order_by("marked_at", "id")
    rows += [
        KeptApartRow(
            item_type=mark.item_type,
            item_label=str(KeptApartItem(mark.item_type).label),
            item_id=mark.item_id,
            reason=mark.reason,
            reason_label=str(KeptApartReason(mark.reason).label),
            mark_id=mark.pk,
            marked_by=mark.marked_by.display_name(),
            marked_at=mark.marked_at,
            always=False,
        )
        for mark in marks
    ]
    return rows


def kept_apart_ids(*, case: Case) -> dict[str, frozenset[uuid.UUID]]:
    """Item kind → the ids kept apart (for the export's filter: ``pk not in ids[kind]``)."""
    found: dict[str, set[uuid.UUID]] = {}
    for row in kept_apart_items(case=case):
        found.setdefault(row.item_type, set()).add(row.item_id)
    return {kind: frozenset(ids) for kind, ids in found.items()}


@dataclass(frozen=True)
class MarkableItem:
    """An item the lead may mark, described without its content: kind, when, who, which part of the file."""

    item_type: str
    item_id: uuid.UUID
    label: str


def markable_items(*, case: Case) -> Sequence[MarkableItem]:
    """The case's items that can carry a mark, newest first (four queries whatever the size)."""
    items: list[tuple[datetime.datetime, MarkableItem]] = []

    def add(kind: KeptApartItem, pk: uuid.UUID, at: datetime.datetime | None, who: str, part: str) -> None:
        when = at or datetime.datetime.min.replace(tzinfo=datetime.UTC)
        label = " · ".join(x for x in (str(kind.label), f"{when:%Y-%m-%d %H:%M}" if at else "", who, part) if x)
        items.append((when, MarkableItem(item_type=kind.value, item_id=pk, label=label)))

    for note in CaseNote.objects.filter(case=case).select_related("author"):
        add(KeptApartItem.NOTE, note.pk, note.created_at, note.author.display_name(), note.get_compartment_display())
    for item in AssessmentInput.objects.filter(case=case, status=InputStatus.PROVIDED).select_related("member"):
        add(KeptApartItem.INPUT, item.pk, item.provided_at, item.member.display_name(), item.get_compartment_display())
    for conference in Conference.objects.filter(case=case, status__in=HELD_STATUSES):
        add(KeptApartItem.MINUTES, conference.pk, conference.held_at or conference.starts_at, "", "")
    for report in ActionReport.objects.filter(action__plan__case=case).select_related("author"):
        add(
            KeptApartItem.ACTION_REPORT,
            report.pk,
            report.created_at,
            report.author.display_name(),
            report.get_compartment_display(),
        )
    return [item for _when, item in sorted(items, key=lambda pair: pair[0], reverse=True)]


def kept_apart_reason_of(*, item_type: str, item_id: uuid.UUID) -> str:
    """The item's mark's reason, or "" (the edit form starts from it)."""
    return (
        KeptApartMark.objects.filter(item_type=item_type, item_id=item_id).values_list("reason", flat=True).first()
        or ""
    )
