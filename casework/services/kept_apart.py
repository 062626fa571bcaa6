"""§ 55(2) marks: which items of a case are kept apart from the file a parent or the child may inspect, and why.

Same contract as every service here: keyword-only, one transaction, field-level ``ValidationError`` with nothing
written, ``PermissionDenied`` after a committed denial row, writes audited by field name. A mark is metadata beside
the item (``casework.models.kept_apart``): the services that write an item call :func:`kept_apart_on_write` inside
their own transaction, and writing the item again with no reason chosen leaves its mark as it is — only the case's
lead removes a mark, explicitly and audited (:func:`kept_apart_unmark`).
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import (
    ActionReport,
    AssessmentInput,
    Case,
    CaseNote,
    Conference,
    KeptApartItem,
    KeptApartMark,
    KeptApartReason,
    MarkSource,
    User,
)
from permissions import audit
from permissions.access import require_case_lead

#: The item kinds that carry a mark → how to find an item of a case.
MARKABLE: dict[str, type[models.Model]] = {
    KeptApartItem.NOTE: CaseNote,
    KeptApartItem.INPUT: AssessmentInput,
    KeptApartItem.MINUTES: Conference,
    KeptApartItem.ACTION_REPORT: ActionReport,
}
FIELD = "kept_apart"


def _item_case_id(item_type: str, item_id: uuid.UUID) -> uuid.UUID | None:
    model = MARKABLE.get(item_type)
    if model is None:
        return None
    if model is ActionReport:
        return ActionReport.objects.filter(pk=item_id).values_list("action__plan__case_id", flat=True).first()
    return model._default_manager.filter(pk=item_id).values_list("case_id", flat=True).first()


def kept_apart_check(errors: dict[str, list[str]], reason: str, *, field: str = FIELD) -> str:
    """The reason a form sent ("" for none), or a message on ``field`` for an unknown one."""
    reason = (reason or "").strip()
    if reason and reason not in KeptApartReason.values:
        errors.setdefault(field, []).append(_("Choose a reason from the list."))
    return reason


def _record(by: User | None, mark: KeptApartMark, purpose: str) -> None:
    audit.record_write(by, mark.case_id, "casework.keptapartmark", mark.pk, ["item_type", "reason"], purpose)


def kept_apart_on_write(
    *, case: Case, item_type: str, item_id: uuid.UUID, reason: str, by: User
) -> KeptApartMark | None:
    """Inside the writing service's transaction (the caller checked ``reason`` with :func:`kept_apart_check` and
    authorised the write): mark the item just written when a reason was chosen. An empty reason keeps a mark the item
    already has (an edit never drops it); a different reason replaces it, audited like any mark."""
    if not reason:
        return None
    mark = KeptApartMark.objects.select_for_update(no_key=True).filter(item_type=item_type, item_id=item_id).first()
    if mark is None:
        mark = KeptApartMark.objects.create(
            case=case,
            item_type=item_type,
            item_id=item_id,
            reason=reason,
            source=MarkSource.WRITTEN,
            marked_by=by,
        )
        _record(by, mark, "mark kept apart (§ 55(2))")
    elif mark.reason != reason:
        mark.reason = reason
        mark.marked_by = by
        mark.marked_at = timezone.now()
        mark.save(update_fields=["reason", "marked_by", "marked_at"])
        _record(by, mark, "mark kept apart (§ 55(2))")
    return mark


def kept_apart_mark(*, case: Case, by: User, item_type: str, item_id: uuid.UUID, reason: str) -> KeptApartMark:
    """The case's lead marks an item later (or changes the reason). Refused (audited) for anyone else; a field
    error for an item that is not this case's or an unknown reason."""
    require_case_lead(by, case, purpose="mark kept apart (§ 55(2))")
    errors: dict[str, list[str]] = {}
    if _item_case_id(item_type, item_id) != case.pk:
        errors.setdefault("item", []).append(_("Choose an item of this case."))
    reason = kept_apart_check(errors, reason, field="reason")
    if not reason:
        errors.setdefault("reason", []).append(_("This field is required."))
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        mark = KeptApartMark.objects.select_for_update(no_key=True).filter(item_type=item_type, item_id=item_id).first()
        if mark is None:
            mark = KeptApartMark.objects.create(
                case=case, item_type=item_type, item_id=item_id, reason=reason, source=MarkSource.LATER, marked_by=by
            )
        else:
            mark.reason = reason
            mark.source = MarkSource.LATER
            mark.marked_by = by
            mark.marked_at = timezone.now()
            mark.save(update_fields=["reason", "source", "marked_by", "marked_at"])
        _record(by, mark, "mark kept apart (§ 55(2))")
    return mark


def kept_apart_unmark(*, case: Case, by: User, mark_id: int) -> None:
    """The case's lead removes a mark (the item becomes part of what may be inspected); audited with the mark's id."""
    require_case_lead(by, case, purpose="remove § 55(2) mark")
    with audit.atomic():
        mark = KeptApartMark.objects.select_for_update(no_key=True).filter(pk=mark_id, case=case).first()
        if mark is None:
            raise ValidationError({"mark": [_("This mark does not exist.")]})
        _record(by, mark, "remove § 55(2) mark")
        mark.delete()
