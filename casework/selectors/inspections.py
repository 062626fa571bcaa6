"""The read model of a case's § 55 inspections (DESIGN invariant 11): who inspected the file or is to, which parts,
who prepared and who approved it, when it took place and whether the file was shown or copied.

For the case's lead only (``permissions.policy.may_see_inspections``; the pages check it first). The representatives'
names are identity fields of the child's register entry: read through the gate (one batch, audited) with the page's
purpose. Three queries and one gate batch whatever the number of inspections.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from casework.models import (
    FileInspection,
    InspectionRecipient,
    InspectionSection,
    InspectionStatus,
    LegalRepresentative,
    User,
)
from permissions import gate
from permissions.access import AccessedCase
from permissions.policy import Subject, may_decide_inspection


@dataclass(frozen=True)
class RepresentativeChoice:
    id: uuid.UUID
    label: str
    parental_responsibility: bool


@dataclass(frozen=True)
class InspectionRow:
    id: uuid.UUID
    recipient: str
    sections: tuple[str, ...]
    status: str
    status_label: str
    prepared_by: str
    prepared_at: datetime.datetime
    decided_by: str
    decided_at: datetime.datetime | None
    inspected_at: datetime.datetime | None
    mode: str
    recorded_by: str
    #: The viewer may approve or return it now (a supervisor of the authority who did not prepare it).
    may_decide: bool
    exportable: bool


@dataclass(frozen=True)
class InspectionsView:
    rows: tuple[InspectionRow, ...]
    representatives: tuple[RepresentativeChoice, ...]


def _name(rep: LegalRepresentative, disclosure: gate.Disclosure) -> str:
    name = disclosure.get("full_name") or ""
    return f"{name} ({rep.get_relation_display()})" if name else str(rep.get_relation_display())


def recipient_label(inspection: FileInspection, names: dict[uuid.UUID, str]) -> str:
    if inspection.recipient == InspectionRecipient.CHILD or inspection.representative_id is None:
        return str(InspectionRecipient.CHILD.label)
    return names.get(inspection.representative_id, str(InspectionRecipient.REPRESENTATIVE.label))


def inspections_disclosed(
    *, user: User, case: AccessedCase, purpose: str, inspection_id: uuid.UUID | None = None
) -> InspectionsView:
    """The case's inspections (newest first; only ``inspection_id`` when given) and the child's representatives."""
    accessed_case, _access = case
    reps = list(LegalRepresentative.objects.filter(child_id=accessed_case.child_id).order_by("position", "id"))
    disclosures = gate.read_rows(user, accessed_case.child, reps, ["full_name"], purpose=purpose) if reps else []
    names = {rep.pk: _name(rep, d) for rep, d in zip(reps, disclosures, strict=True)}
    query = FileInspection.objects.filter(case=accessed_case).select_related("prepared_by", "decided_by", "recorded_by")
    if inspection_id is not None:
        query = query.filter(pk=inspection_id)
    subject = Subject.from_user(user)
    rows = [
        InspectionRow(
            id=row.pk,
            recipient=recipient_label(row, names),
            sections=tuple(str(InspectionSection(s).label) for s in row.sections if s in InspectionSection.values),
            status=row.status,
            status_label=row.get_status_display(),
            prepared_by=row.prepared_by.display_name(),
            prepared_at=row.prepared_at,
            decided_by=row.decided_by.display_name() if row.decided_by else "",
            decided_at=row.decided_at,
            inspected_at=row.inspected_at,
            mode=row.get_mode_display() if row.mode else "",
            recorded_by=row.recorded_by.display_name() if row.recorded_by else "",
            may_decide=row.status == InspectionStatus.PREPARED
            and may_decide_inspection(
                subject, municipality_id=accessed_case.municipality_id, prepared_by_id=row.prepared_by_id
            ),
            exportable=row.exportable,
        )
        for row in query.order_by("-prepared_at", "-id")
    ]
    return InspectionsView(
        rows=tuple(rows),
        representatives=tuple(
            RepresentativeChoice(id=rep.pk, label=names[rep.pk], parental_responsibility=rep.parental_responsibility)
            for rep in reps
        ),
    )
