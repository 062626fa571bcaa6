"""Small numbers: a cell below the threshold and the complement that would give it away are hidden."""

from __future__ import annotations

from figures.selectors import Row, Table
from figures.suppression import suppress


def _table(rows: list[tuple[int, ...]]) -> Table:
    return Table(
        key="t",
        title="t",
        columns=("a", "b", "total"),
        rows=tuple(Row(f"r{i}", cells, is_total=i == len(rows) - 1) for i, cells in enumerate(rows)),
        total_row=True,
        total_column=True,
    )


def test_a_cell_of_three_and_its_complements_are_hidden() -> None:
    published = suppress(
        _table(
            [
                (3, 20, 23),
                (12, 30, 42),
                (15, 50, 65),
            ]
        ),
        5,
    )
    cells = [row.cells for row in published.rows]
    assert cells[0][0] is None  # the 3
    # Its row would give it away (23 - 20) and its column too (15 - 12): one more cell hidden in each.
    assert cells[0][1] is None
    assert cells[1][0] is None
    # and then their own lines: 20's column and 12's row get a complement each.
    assert cells[1][1] is None
    # No line has exactly one hidden cell.
    for r in range(3):
        assert sum(1 for c in range(3) if cells[r][c] is None) != 1
    for c in range(3):
        assert sum(1 for r in range(3) if cells[r][c] is None) != 1
    # The grand total and the other totals stay.
    assert cells[2] == (15, 50, 65)


def test_zeros_and_large_cells_are_shown() -> None:
    table = _table([(0, 20, 20), (10, 30, 40), (10, 50, 60)])
    assert suppress(table, 5) == table


def test_a_small_total_is_hidden_too() -> None:
    published = suppress(_table([(0, 2, 2), (0, 30, 30), (0, 32, 32)]), 5)
    cells = [row.cells for row in published.rows]
    assert cells[0][1] is None
    assert cells[0][2] is None
    # The column of the 2: 32 - 30 would give it away, so 30 is hidden as well (and then its row's total).
    assert cells[1][1] is None


def test_a_measure_of_a_row_with_a_hidden_count_is_hidden() -> None:
    table = Table(
        key="k",
        title="k",
        columns=("on time", "late", "%"),
        rows=(Row("ipod", (2, 40, 5)), Row("feedback", (50, 50, 50))),
        measure_columns=frozenset({2}),
    )
    published = suppress(table, 5)
    assert published.rows[0].cells == (None, 40, None)
    assert published.rows[1].cells == (50, 50, 50)
