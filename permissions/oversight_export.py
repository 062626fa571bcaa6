"""Exports of the access oversight lists as CSV and XLSX (openpyxl), themselves audited.

The rows come from :func:`permissions.oversight.iter_access_rows` (audit rows and case references only, no content).
:func:`record_export` is called, and committed, before the first row is produced: no audit row, no file.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from casework.models import User
from permissions import audit
from permissions.models import AuditAction, AuditEvent, AuditOutcome
from permissions.oversight import AccessRow


def export_header() -> list[str]:
    return [
        _("Sequence"),
        _("Time"),
        _("Username"),
        _("Role"),
        _("Organisation"),
        _("Action"),
        _("Object type"),
        _("Case"),
        _("Fields"),
        _("Purpose"),
        _("Outcome"),
        _("Break-glass"),
    ]


def export_values(row: AccessRow) -> list[object]:
    return [
        row.seq,
        timezone.localtime(row.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
        row.username,
        row.role,
        row.organisation,
        row.action_label,
        row.object_type,
        row.case_reference,
        ", ".join(row.fields),
        row.purpose,
        row.outcome_label,
        _("yes") if row.break_glass else _("no"),
    ]


def _safe_cell(value: object) -> object:
    """Spreadsheets run a cell starting with = + - @ as a formula; usernames and purposes are text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def rows_as_csv(rows: Iterator[AccessRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export_header())
    for row in rows:
        writer.writerow([_safe_cell(value) for value in export_values(row)])
    # A byte-order mark so that spreadsheet programs read the Czech letters as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def rows_as_xlsx(rows: Iterator[AccessRow]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Accesses"))
    sheet.append(export_header())
    for row in rows:
        sheet.append([_safe_cell(value) for value in export_values(row)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", rows_as_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", rows_as_xlsx),
}


def record_export(user: User, *, fmt: str, case_id: uuid.UUID | None = None, actor_id: int | None = None) -> AuditEvent:
    """Audit the export before any row is written (fail closed: ``AuditUnavailable`` means no file). A case's export
    shows in the case's own timeline; a person's names them as the object."""
    if case_id is not None:
        object_type, object_id = "casework.case", str(case_id)
    elif actor_id is not None:
        object_type, object_id = "casework.user", str(actor_id)
    else:
        object_type, object_id = "permissions.auditevent", "oversight"
    return audit.record_committed(
        actor=user,
        action=AuditAction.EXPORT,
        object_type=object_type,
        object_id=object_id,
        fields=[],
        purpose=f"access oversight export ({fmt})",
        outcome=AuditOutcome.ALLOWED,
        case_id=case_id,
    )
