"""The annual return: the children-at-risk part of the V (MPSV) 20-01 form ("Roční výkaz o výkonu sociálně-právní
ochrany dětí"), filled for one authority and one calendar year.

The ministry's form cannot be downloaded here: the sections and rows below are the product's rendering of the parts
of the return that concern the children-at-risk agenda, with the product's own row codes. Each cell's definition and
the selector it comes from are in docs/statistics.md ("The annual return"); each row below names its selector's
table and cell, so the return always equals the dashboard's tables for the same year and authority.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from figures import selectors
from figures.selectors import Period, Table

Label = str | Promise


@dataclass(frozen=True)
class ReturnRow:
    code: str
    label: Label
    cells: tuple[int | None, ...]


@dataclass(frozen=True)
class ReturnSection:
    code: str
    title: Label
    columns: tuple[Label, ...]
    rows: tuple[ReturnRow, ...]


@dataclass(frozen=True)
class AnnualReturn:
    authority: str
    year: int
    sections: tuple[ReturnSection, ...]


#: (section code, title, columns, [(row code, label, table key, row index, column indexes)]).
#: Row and column indexes point into the selector's table (``figures.selectors``); -1 is its total row.
def _layout() -> tuple[tuple[str, Label, tuple[Label, ...], list[tuple[str, Label, str, int, tuple[int, ...]]]], ...]:
    reports = [
        (f"1{index + 2:02d}", kind.label, "reports_by_source", index, (3,))
        for index, kind in enumerate(selectors.NotifierKind)
    ]
    ages = [
        (f"2{index + 1:02d}", label, "children_in_register", index, (0, 1, 2, 3))
        for index, (_low, _high, label) in enumerate(selectors.AGE_BANDS)
    ]
    return (
        (
            "I",
            _("Reports of children at risk (§ 10(4)) received"),
            (_("reports"),),
            [("101", _("reports received, total"), "reports_by_source", -1, (3,)), *reports],
        ),
        (
            "II",
            _("Children at risk in the register on 31 December, by age"),
            (_("boys"), _("girls"), _("sex not known"), _("total")),
            [
                *ages,
                ("206", _("age not known"), "children_in_register", len(selectors.AGE_BANDS), (0, 1, 2, 3)),
                ("207", _("children in the register, total"), "children_in_register", -1, (0, 1, 2, 3)),
            ],
        ),
        (
            "III",
            _("Case files (spis Om) opened and closed in the year"),
            (_("cases"),),
            [
                ("301", _("case files opened"), "cases_opened", -1, (0,)),
                ("302", _("case files closed"), "cases_closed", -1, (0,)),
            ],
        ),
        (
            "IV",
            _("Case conferences (§ 14) and protection plans (IPOD)"),
            (_("number"),),
            [
                ("401", _("case conferences held"), "conferences_held", 0, (0,)),
                ("402", _("children (cases) discussed at a case conference"), "conferences_held", 0, (1,)),
                ("403", _("protection plans made (first version approved)"), "ipods", 0, (0,)),
                ("404", _("of which within one month of the child's entry in the register"), "ipods", 1, (0,)),
                ("405", _("plan reviews (new versions approved)"), "reviews_held", 0, (0,)),
            ],
        ),
        (
            "V",
            _("Petitions to the court"),
            (_("filed by the authority"), _("filed by others")),
            [
                ("501", _("§ 14(1) measures in parental responsibility"), "court_petitions", 0, (0, 1)),
                ("502", _("§ 16 preliminary measure"), "court_petitions", 1, (0, 1)),
            ],
        ),
        (
            "VI",
            _("Feedback to mandated notifiers (§ 10(4))"),
            (_("reports"),),
            [
                ("601", _("feedback asked for"), "feedback", -1, (0,)),
                ("602", _("answered within 30 days"), "feedback", 0, (0,)),
            ],
        ),
    )


def build(municipality_id: int, authority: str, year: int, now: datetime.datetime | None = None) -> AnnualReturn:
    period = Period.year(year)
    tables: dict[str, Table] = {}
    sections = []
    for code, title, columns, rows in _layout():
        built = []
        for row_code, label, key, row_index, cells in rows:
            if key not in tables:
                tables[key] = selectors.figure(key, [municipality_id], period, now)
            source = tables[key].rows[row_index]
            built.append(ReturnRow(row_code, label, tuple(source.cells[i] for i in cells)))
        sections.append(ReturnSection(code, title, columns, tuple(built)))
    return AnnualReturn(authority=authority, year=year, sections=tuple(sections))


FORM_TITLE = _("V (MPSV) 20-01 - annual return on social and legal protection of children: children at risk")


def to_rows(form: AnnualReturn) -> list[list[str | int | None]]:
    """The return as the rows of its layout (the CSV, and the XLSX cell by cell)."""
    lines: list[list[str | int | None]] = [
        [str(FORM_TITLE)],
        [str(_("Authority")), form.authority],
        [str(_("Year")), form.year],
        [],
    ]
    for section in form.sections:
        lines.append([f"{section.code}.", str(section.title)])
        lines.append([str(_("row")), str(_("item")), *(str(column) for column in section.columns)])
        for row in section.rows:
            lines.append([row.code, str(row.label), *row.cells])
        lines.append([])
    return lines


def to_csv(form: AnnualReturn) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(to_rows(form))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(form: AnnualReturn) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"V20-01 {form.year}"
    for index, values in enumerate(to_rows(form), start=1):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=index, column=column, value=value)
            if column <= 2 and values and (index == 1 or str(values[0]).endswith(".")):
                cell.font = Font(bold=True)
            if column > 2:
                cell.alignment = Alignment(horizontal="right")
    sheet.column_dimensions["A"].width = 8
    sheet.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
