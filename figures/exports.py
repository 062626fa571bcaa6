"""CSV and XLSX of a figure's table exactly as shown (suppressed cells as an en dash); the audit of each export."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from casework.models import User
from figures.selectors import Period, Table
from permissions import audit

#: How a suppressed cell is written in every table, page and file.
HIDDEN = "\u2013"  # an en dash


def cell_text(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def table_matrix(table: Table) -> list[list[str | int]]:
    """The table as rows of cells: the header row first, labels in the first column; suppressed cells as an en dash."""
    header: list[str | int] = ["", *(str(column) for column in table.columns)]
    body: list[list[str | int]] = [
        [str(row.label), *(HIDDEN if value is None else value for value in row.cells)] for row in table.rows
    ]
    return [header, *body]


def to_csv(tables: Sequence[Table]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow([str(table.title)])
        writer.writerows(table_matrix(table))
    # With a BOM: Excel opens Czech diacritics right.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(tables: Sequence[Table]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "figures"
    line = 1
    for table in tables:
        sheet.cell(row=line, column=1, value=str(table.title)).font = Font(bold=True)
        line += 1
        for values in table_matrix(table):
            for column, value in enumerate(values, start=1):
                sheet.cell(row=line, column=column, value=value)
            line += 1
        line += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def record_export(user: User, *, object_type: str, key: str, fmt: str, period: Period, scope: Sequence[int]) -> None:
    """Audited and committed before the file is produced (no audit row, no file): what, the period, the ORPs."""
    orps = ",".join(str(pk) for pk in sorted(scope))
    audit.record_committed(
        actor=user,
        action=audit.AuditAction.EXPORT,
        object_type=object_type,
        object_id=key,
        fields=["counts"],
        purpose=f"statistics export {fmt} {period.start.isoformat()}..{period.last_day.isoformat()} orp {orps}"[:200],
        outcome=audit.AuditOutcome.ALLOWED,
    )
