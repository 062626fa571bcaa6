"""§ 55 file inspection: the coordinator prepares it, a supervisor approves it (four eyes), the lead records that it
took place. The export itself is made on download (``casework.inspection_pdf``), audited there.

Same contract as every service here: keyword-only, one transaction, field-level ``ValidationError`` with nothing
written, ``PermissionDenied`` after a committed denial row (the checks run before the transaction opens), writes
audited by field name. Notifications carry the kind, the case reference and ids only.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import (
    Case,
    FileInspection,
    InspectionMode,
    InspectionRecipient,
    InspectionSection,
    InspectionStatus,
    LegalRepresentative,
    User,
)
from casework.selectors.accounts import supervisor_ids
from notifications.models import Kind as NotificationKind
from notifications.services import notify, notify_many
from permissions import audit
from permissions.access import load_case_access, refuse
from permissions.policy import (
    Subject,
    may_decide_inspection,
    may_inspect_as_representative,
    may_prepare_inspection,
    may_record_inspection,
)

OBJECT = "casework.fileinspection"


def _lead(by: User, case: Case, purpose: str) -> None:
    access = load_case_access(by, case)
    allowed = may_record_inspection(access) if purpose == "record file inspection" else may_prepare_inspection(access)
    if not allowed:
        raise refuse(by, case, purpose=purpose)


def inspection_prepare(
    *,
    case: Case,
    by: User,
    recipient: str,
    representative_id: uuid.UUID | str | None,
    sections: Sequence[str],
) -> FileInspection:
    """Prepare an inspection of the file for the child or a legal representative with parental responsibility for
    the case's child (§ 55(3)); the supervisors of the authority are told it waits for one of them. ``sections``:
    the parts of the file to include (at least one); what the law keeps apart is left out of every part anyway."""
    purpose = "prepare file inspection"
    _lead(by, case, purpose)
    errors: dict[str, list[str]] = {}
    representative: LegalRepresentative | None = None
    if recipient not in InspectionRecipient.values:
        errors.setdefault("recipient", []).append(_("Choose who inspects the file."))
    elif recipient == InspectionRecipient.REPRESENTATIVE:
        representative = _representative(case, representative_id, errors)
    chosen = [s for s in InspectionSection.values if s in set(sections)]
    if not chosen or len(chosen) != len(set(sections)):
        errors.setdefault("sections", []).append(_("Choose at least one part of the file from the list."))
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        inspection = FileInspection.objects.create(
            case=case,
            recipient=recipient,
            representative=representative,
            sections=chosen,
            prepared_by=by,
            prepared_at=timezone.now(),
        )
        audit.record_write(by, case.pk, OBJECT, inspection.pk, ["recipient", "representative", "sections"], purpose)
        notify_many(
            recipient_ids=[pk for pk in supervisor_ids(case.municipality_id) if pk != by.pk],
            kind=NotificationKind.INSPECTION_PREPARED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type=OBJECT,
            object_id=inspection.pk,
            actor_id=by.pk,
        )
    return inspection


def _representative(
    case: Case, representative_id: uuid.UUID | str | None, errors: dict[str, list[str]]
) -> LegalRepresentative | None:
    """The named representative of the case's child, if they hold parental responsibility; a field error otherwise."""
    try:
        found = LegalRepresentative.objects.filter(pk=representative_id).first() if representative_id else None
    except (TypeError, ValueError, ValidationError):
        found = None  # a malformed id is just "not one of the child's representatives"
    if found is None:
        errors.setdefault("representative", []).append(_("Choose the parent or guardian who inspects the file."))
        return None
    if not may_inspect_as_representative(
        parental_responsibility=found.parental_responsibility, same_child=found.child_id == case.child_id
    ):
        if found.child_id != case.child_id:
            errors.setdefault("representative", []).append(_("Choose the parent or guardian who inspects the file."))
        else:
            errors.setdefault("representative", []).append(
                _(
                    "This person does not hold parental responsibility for the child. Under § 55(3) only the child "
                    "and a parent or guardian with parental responsibility may inspect the file."
                )
            )
        return None
    return found


def _deciding(inspection: FileInspection, by: User, purpose: str) -> Case:
    case = inspection.case
    if not may_decide_inspection(
        Subject.from_user(by), municipality_id=case.municipality_id, prepared_by_id=inspection.prepared_by_id
    ):
        raise refuse(by, case, purpose=purpose)
    return case


def _locked(inspection: FileInspection, status: str, message: str) -> FileInspection:
    locked = FileInspection.objects.select_for_update(no_key=True).get(pk=inspection.pk)
    if locked.status != status:
        raise ValidationError({"status": [message]})
    return locked


def inspection_decide(*, inspection: FileInspection, by: User, approve: bool) -> FileInspection:
    """Approve (the export may then be handed over) or return a prepared inspection: a supervisor of the case's
    authority who did not prepare it. The preparer is told."""
    purpose = "approve file inspection" if approve else "return file inspection"
    case = _deciding(inspection, by, purpose)
    waiting = _("This inspection is no longer waiting for a decision.")
    if inspection.status != InspectionStatus.PREPARED:
        raise ValidationError({"status": [waiting]})
    with audit.atomic():
        locked = _locked(inspection, InspectionStatus.PREPARED, waiting)
        locked.status = InspectionStatus.APPROVED if approve else InspectionStatus.RETURNED
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record_write(by, case.pk, OBJECT, locked.pk, ["status", "decided_by"], purpose)
        notify(
            recipient_id=locked.prepared_by_id,
            kind=NotificationKind.INSPECTION_APPROVED if approve else NotificationKind.INSPECTION_RETURNED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type=OBJECT,
            object_id=locked.pk,
            actor_id=by.pk,
        )
    inspection.refresh_from_db()
    return inspection


def inspection_record(
    *, inspection: FileInspection, by: User, inspected_at: datetime.datetime | None, mode: str
) -> FileInspection:
    """Record that the approved inspection took place: when, and whether the file was shown or a copy handed over;
    who recorded it is ``by`` (the case's lead). Not in the future; not before the approval."""
    purpose = "record file inspection"
    case = inspection.case
    _lead(by, case, purpose)
    errors: dict[str, list[str]] = {}
    if mode not in InspectionMode.values:
        errors.setdefault("mode", []).append(_("Say whether the file was shown or a copy handed over."))
    if inspected_at is None:
        errors.setdefault("inspected_at", []).append(_("Enter when the inspection took place."))
    elif inspected_at > timezone.now() + datetime.timedelta(minutes=5):
        errors.setdefault("inspected_at", []).append(_("The inspection cannot be recorded ahead of time."))
    elif inspection.decided_at is not None and inspected_at < inspection.decided_at - datetime.timedelta(minutes=5):
        errors.setdefault("inspected_at", []).append(_("The inspection cannot precede its approval."))
    if inspection.status != InspectionStatus.APPROVED:
        errors.setdefault("status", []).append(_("Only an approved inspection can be recorded, and only once."))
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        locked = _locked(
            inspection, InspectionStatus.APPROVED, _("Only an approved inspection can be recorded, and only once.")
        )
        locked.status = InspectionStatus.DONE
        locked.inspected_at = inspected_at
        locked.mode = mode
        locked.recorded_by = by
        locked.recorded_at = timezone.now()
        locked.save(update_fields=["status", "inspected_at", "mode", "recorded_by", "recorded_at"])
        audit.record_write(by, case.pk, OBJECT, locked.pk, ["status", "inspected_at", "mode"], purpose)
    inspection.refresh_from_db()
    return inspection
