"""Small numbers: what is published outside the authority hides cells that could single a child out.

Primary suppression hides every count from 1 to ``threshold - 1`` (``settings.STATISTICS_SMALL_CELL_THRESHOLD``,
default 5), totals included. Secondary suppression then hides complements: along every line a total sums (a row
with its row total, a column with its column total), a line with exactly one hidden cell would let it be recomputed
(total minus the others), so one more cell of that line is hidden — the smallest non-zero visible one, else the
line's total. Repeated until no line has exactly one hidden cell. Zeros stay visible unless needed as a complement:
a zero singles out nobody. Measures (a share in %, a median) are not counts and are neither hidden nor summed; a
measure derived from hidden counts is hidden with them (``measure_of``).
"""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings

from figures.selectors import Row, Table

Cell = tuple[int, int]


def threshold() -> int:
    return int(getattr(settings, "STATISTICS_SMALL_CELL_THRESHOLD", 5))


def _lines(table: Table) -> list[tuple[list[Cell], Cell | None]]:
    """(member cells, their total cell) for every line a total sums; a table without totals has none."""
    counts = [c for c in range(len(table.columns)) if c not in table.measure_columns]
    last_row = len(table.rows) - 1
    last_col = counts[-1] if counts else -1
    body_rows = [r for r in range(len(table.rows)) if not (table.total_row and r == last_row)]
    body_cols = [c for c in counts if not (table.total_column and c == last_col)]
    lines: list[tuple[list[Cell], Cell | None]] = []
    if table.total_column:
        for r in range(len(table.rows)):
            lines.append(([(r, c) for c in body_cols], (r, last_col)))
    if table.total_row:
        for c in counts:
            lines.append(([(r, c) for r in body_rows], (last_row, c)))
    return lines


def suppress(table: Table, limit: int | None = None) -> Table:
    """The table as published outside the authority: small cells and their complements replaced by ``None``."""
    limit = threshold() if limit is None else limit
    values = {
        (r, c): row.cells[c]
        for r, row in enumerate(table.rows)
        for c in range(len(row.cells))
        if c not in table.measure_columns
    }
    hidden = {cell for cell, value in values.items() if value is not None and 0 < value < limit}
    lines = _lines(table)
    changed = bool(hidden)
    while changed:
        changed = False
        for members, total in lines:
            line = [*members, *([total] if total else [])]
            if sum(1 for cell in line if cell in hidden) != 1:
                continue
            visible = [cell for cell in members if cell not in hidden]
            nonzero = sorted((cell for cell in visible if values[cell]), key=lambda cell: (values[cell], cell))
            if nonzero:
                pick = nonzero[0]
            elif total is not None and total not in hidden:
                pick = total
            elif visible:
                pick = visible[0]
            else:
                continue
            hidden.add(pick)
            changed = True
    if not hidden:
        return table
    hidden_rows = {r for r, _c in hidden}
    rows = []
    for r, row in enumerate(table.rows):
        cells = tuple(
            None if (r, c) in hidden or (c in table.measure_columns and r in hidden_rows) else value
            for c, value in enumerate(row.cells)
        )
        rows.append(Row(row.label, cells, is_total=row.is_total))
    return replace(table, rows=tuple(rows))
