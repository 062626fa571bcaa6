"""Importing an authority's existing register: children and their open cases from a CSV or XLSX file.

``manage.py import_register FILE --authority OM --as worker`` reads the file, plans every row and prints what would
be created, matched or rejected (a dry run: nothing is written, not even an audit row); ``--commit`` carries the plan
out. Every row that is carried out is one transaction: the child (through :func:`casework.services.child_create`,
sealed as at the counter), its case (:func:`casework.services.case_open`), an :class:`ImportedRow` and their audit
rows (purpose "import") commit together or not at all, so a killed import never leaves half a child, and a rerun of
the same file skips the rows already done (keyed by the file's SHA-256 and the row number).

Matching (docs/adr/0032-register-import-and-authority-export.md):

* a birth number already in the authority's register (blind index) whose name and date of birth agree (identity
  blind index) is **matched**: no new entry; the case is opened if the child has none;
* the same number with another name or date of birth, in the register or elsewhere in the file, is **rejected**
  (conflicting); a number registered with another authority is rejected; a repeat of an identical row is rejected
  as a duplicate of the first;
* a row without a birth number is matched only to an entry an earlier import created (same name and date of birth);
  any other entry with the same name and date of birth makes it a possible duplicate, rejected for a person to
  decide.

The report names rows by number and reasons by column: never a name, a birth number or any other value of the file.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework import plausibility
from casework.birth_number import parse_birth_number
from casework.models import (
    Case,
    CaseStatus,
    Child,
    ImportedRow,
    ImportOutcome,
    Municipality,
    OpenReason,
    Relation,
    ResidenceMunicipality,
    User,
)
from casework.selectors import birth_number_index
from casework.selectors.children import identity_index
from casework.services import RepresentativeInput, case_open, child_create
from casework.services.children import ADDRESS_MAX, NAME_MAX, OTHER_IDENTIFIERS_MAX
from casework.services.validation import clean_text
from permissions import audit
from permissions.policy import may_coordinate

PURPOSE = "import"

#: (column, required in the header, what it holds) — the documented format; the template has them in this order.
COLUMNS: tuple[tuple[str, bool, Any], ...] = (
    ("given_name", True, gettext_lazy("Child's given name(s). Required.")),
    ("family_name", True, gettext_lazy("Child's family name. Required.")),
    (
        "birth_number",
        True,
        gettext_lazy("Birth number (rodné číslo), 9 or 10 digits, slash optional; empty when the child has none."),
    ),
    (
        "date_of_birth",
        True,
        gettext_lazy("Date of birth, YYYY-MM-DD or D.M.YYYY; may be empty when the birth number is given."),
    ),
    ("date_of_birth_estimated", False, gettext_lazy("ano/ne: the date is an estimate from the child's age.")),
    (
        "municipality",
        True,
        gettext_lazy("Municipality (obec) of permanent residence; must belong to the authority's area. Required."),
    ),
    ("address", False, gettext_lazy("Address (free text).")),
    ("other_identifiers", False, gettext_lazy("Other identifiers of a child without a birth number (free text).")),
    (
        "representative_relation",
        False,
        gettext_lazy("Legal representative: mother, father, guardian, foster_carer or other."),
    ),
    ("representative_name", False, gettext_lazy("Legal representative's full name.")),
    ("representative_contact", False, gettext_lazy("Legal representative's phone or e-mail.")),
    ("representative_parental_responsibility", False, gettext_lazy("ano/ne: holds parental responsibility.")),
    ("representative2_relation", False, gettext_lazy("Second legal representative: relation.")),
    ("representative2_name", False, gettext_lazy("Second legal representative: full name.")),
    ("representative2_contact", False, gettext_lazy("Second legal representative: phone or e-mail.")),
    ("representative2_parental_responsibility", False, gettext_lazy("ano/ne: holds parental responsibility.")),
    ("open_case", False, gettext_lazy("ano/ne: the child has an open case file to carry over (default ne).")),
    (
        "case_open_reason",
        False,
        gettext_lazy("Why the case was opened: report, own_finding, parent_request, court or transfer."),
    ),
    ("case_coordinator", False, gettext_lazy("Username of the case's coordinator (default: the --as user).")),
    ("case_previous_reference", False, gettext_lazy("The case's reference in the previous system (kept).")),
    ("case_opened_on", False, gettext_lazy("When the case was opened in the previous system (kept).")),
)
COLUMN_NAMES = tuple(name for name, _required, _help in COLUMNS)
REQUIRED_COLUMNS = tuple(name for name, required, _help in COLUMNS if required)

_TRUE = {"ano", "a", "yes", "y", "1", "true", "x"}
_FALSE = {"", "ne", "n", "no", "0", "false"}
_REFERENCE = re.compile(r"^[\w ./-]{1,40}$")
_CZECH_DATE = re.compile(r"^(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4})$")


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, or a required column missing). One line, no values."""


@dataclass
class Row:
    number: int
    values: dict[str, str]


@dataclass
class RowPlan:
    """What one row will do (or did): ``action`` is create, match, reject or done (imported by an earlier run)."""

    number: int
    action: str = "create"
    reasons: list[tuple[str, str]] = field(default_factory=list)
    open_case: bool = False
    child: Child | None = None
    case_already_open: bool = False
    cleaned: dict[str, Any] = field(default_factory=dict)
    bn_index: str | None = None
    identity: str | None = None

    def reject(self, column: str, message: str) -> None:
        self.action = "reject"
        self.reasons.append((column, str(message)))


@dataclass
class ImportResult:
    plans: list[RowPlan]
    file_sha256: str
    committed: bool = False

    def count(self, action: str) -> int:
        return sum(1 for plan in self.plans if plan.action == action)

    @property
    def cases(self) -> int:
        return sum(1 for plan in self.plans if plan.action in {"create", "match"} and plan.open_case)


# --- Reading the file --------------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(cells: Iterable[Any]) -> list[str]:
    return [_cell(cell).strip().lower() for cell in cells]


def read_rows(path: Path) -> tuple[list[str], list[Row]]:
    """The header and the data rows of a CSV (UTF-8, comma or semicolon) or XLSX (first sheet) file. Rows are
    numbered as a spreadsheet shows them: the header is row 1. Entirely empty rows are left out."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            raw = list(_xlsx_rows(path))
        elif suffix == ".csv":
            raw = list(_csv_rows(path))
        else:
            raise ImportFileError(_("Give a .csv or .xlsx file."))
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
        raise ImportFileError(_("The file cannot be read (%(error)s).") % {"error": type(exc).__name__}) from None
    if not raw:
        raise ImportFileError(_("The file is empty."))
    header = _header(raw[0])
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportFileError(_("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)})
    unknown = [name for name in header if name and name not in COLUMN_NAMES]
    if unknown:
        raise ImportFileError(
            _("Unknown columns (check their spelling against the template): %(columns)s.")
            % {"columns": ", ".join(unknown[:10])[:300]}
        )
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise ImportFileError(_("Columns given twice: %(columns)s.") % {"columns": ", ".join(duplicated)})
    rows = []
    for number, cells in enumerate(raw[1:], start=2):
        values = {name: _cell(cell) for name, cell in zip(header, cells, strict=False) if name}
        if any(values.values()):
            rows.append(Row(number=number, values={name: values.get(name, "") for name in COLUMN_NAMES}))
    return header, rows


def _csv_rows(path: Path) -> Iterator[list[str]]:
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for cells in sheet.iter_rows(values_only=True):
            yield list(cells)
    finally:
        workbook.close()


# --- Checking the rows --------------------------------------------------------------------------------------------


def _flag(plan: RowPlan, values: dict[str, str], column: str) -> bool:
    value = values.get(column, "").strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        plan.reject(column, _("Write ano or ne."))
    return False


def _date(plan: RowPlan, values: dict[str, str], column: str) -> datetime.date | None:
    value = values.get(column, "").strip()
    if not value:
        return None
    try:
        czech = _CZECH_DATE.match(value)
        if czech:
            return datetime.date(int(czech[3]), int(czech[2]), int(czech[1]))
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        plan.reject(column, _("Write the date as YYYY-MM-DD or D.M.YYYY."))
        return None


def _text(plan: RowPlan, values: dict[str, str], column: str, limit: int, *, required: bool) -> str:
    errors: dict[str, list[str]] = {}
    cleaned = clean_text(errors, column, values.get(column, ""), limit, required=required)
    for message in errors.get(column, []):
        plan.reject(column, message)
    return cleaned


def _representatives(plan: RowPlan, values: dict[str, str]) -> list[RepresentativeInput]:
    found = []
    for prefix in ("representative", "representative2"):
        relation = values.get(f"{prefix}_relation", "").strip().lower()
        name = values.get(f"{prefix}_name", "")
        contact = values.get(f"{prefix}_contact", "")
        responsibility = _flag(plan, values, f"{prefix}_parental_responsibility")
        if not (relation or name.strip() or contact.strip()):
            continue
        if relation not in Relation.values:
            plan.reject(f"{prefix}_relation", _("Choose a relation: mother, father, guardian, foster_carer or other."))
        full_name = _text(plan, values, f"{prefix}_name", NAME_MAX, required=True)
        contact = _text(plan, values, f"{prefix}_contact", 200, required=False)
        found.append(RepresentativeInput(relation, full_name, contact, responsibility))
    return found


def _check_row(
    row: Row,
    *,
    municipality_names: set[str],
    coordinators: dict[str, User | None],
    default_coordinator: User,
    municipality: Municipality,
    today: datetime.date,
) -> RowPlan:
    plan = RowPlan(number=row.number)
    values = row.values
    given_name = _text(plan, values, "given_name", NAME_MAX, required=True)
    family_name = _text(plan, values, "family_name", NAME_MAX, required=True)
    address = _text(plan, values, "address", ADDRESS_MAX, required=False)
    other_identifiers = _text(plan, values, "other_identifiers", OTHER_IDENTIFIERS_MAX, required=False)
    estimated = _flag(plan, values, "date_of_birth_estimated")
    residence = values.get("municipality", "").strip()
    if not residence:
        plan.reject("municipality", _("This field is required."))
    elif residence.casefold() not in municipality_names:
        plan.reject("municipality", _("Unknown municipality: it is not in this authority's area."))
    parsed = None
    if values.get("birth_number", "").strip():
        try:
            parsed = parse_birth_number(values["birth_number"], today=today)
        except ValidationError as exc:
            for message in exc.messages:
                plan.reject("birth_number", message)
    born = _date(plan, values, "date_of_birth")
    if born is None and parsed is not None:
        born = parsed.date_of_birth
    elif born is None and "date_of_birth" not in {column for column, _m in plan.reasons}:
        plan.reject(
            "date_of_birth", _("Enter the date of birth (or an estimate from the child's age) or the birth number.")
        )
    elif born is not None and parsed is not None and born != parsed.date_of_birth:
        plan.reject("date_of_birth", _("The date of birth does not match the one in the birth number."))
    if born is not None:
        problem = plausibility.child_date_of_birth_problem(born, today)
        if problem:
            plan.reject("date_of_birth", problem)
    representatives = _representatives(plan, values)
    plan.open_case = _flag(plan, values, "open_case")
    reason = values.get("case_open_reason", "").strip().lower() or OpenReason.OWN_FINDING
    coordinator: User | None = default_coordinator
    previous_reference = values.get("case_previous_reference", "").strip()
    opened_on = _date(plan, values, "case_opened_on")
    if plan.open_case:
        if reason not in OpenReason.values:
            plan.reject("case_open_reason", _("Choose one of: report, own_finding, parent_request, court, transfer."))
        username = values.get("case_coordinator", "").strip()
        if username:
            coordinator = coordinators.get(username)
            if coordinator is None or not may_coordinate(coordinator, municipality.pk):
                plan.reject(
                    "case_coordinator",
                    _("Unknown coordinator: give the username of an active OSPOD worker of this authority."),
                )
        if previous_reference and not _REFERENCE.match(previous_reference):
            plan.reject("case_previous_reference", _("At most 40 letters, digits, spaces and the characters . / - _."))
        if opened_on is not None and opened_on > today:
            plan.reject("case_opened_on", _("The date cannot be in the future."))
    if parsed is not None:
        plan.bn_index = birth_number_index(parsed.normalized)
    if born is not None and given_name and family_name:
        plan.identity = identity_index(given_name, family_name, born)
    plan.cleaned = {
        "given_name": given_name,
        "family_name": family_name,
        "date_of_birth": born,
        "date_of_birth_estimated": estimated,
        "birth_number": parsed.normalized if parsed else "",
        "address": address,
        "other_identifiers": other_identifiers,
        "representatives": representatives,
        "reason": reason,
        "coordinator": coordinator,
        "previous_reference": previous_reference,
        "previous_opened_on": opened_on,
    }
    return plan


def _within_file(plans: list[RowPlan]) -> None:
    """Duplicates and conflicts inside the file: the same birth number (or, without one, the same name and date of
    birth) more than once. Identical identities: the first row stands, the repeats are duplicates. Different names
    or dates of birth under one number: every row of that number is rejected — which one is right is for a person."""
    by_number: dict[str, list[RowPlan]] = defaultdict(list)
    by_identity: dict[str, list[RowPlan]] = defaultdict(list)
    for plan in plans:
        if plan.bn_index:
            by_number[plan.bn_index].append(plan)
        elif plan.identity and not any(column == "birth_number" for column, _m in plan.reasons):
            by_identity[plan.identity].append(plan)
    for group in by_number.values():
        if len(group) < 2:
            continue
        if len({plan.identity for plan in group}) > 1:
            rows = ", ".join(str(plan.number) for plan in group)
            for plan in group:
                plan.reject(
                    "birth_number",
                    _("Conflicting rows %(rows)s: the same birth number with a different name or date of birth.")
                    % {"rows": rows},
                )
            continue
        for plan in group[1:]:
            plan.reject("birth_number", _("Duplicate of row %(row)d.") % {"row": group[0].number})
    for group in by_identity.values():
        for plan in group[1:]:
            plan.reject(
                "given_name",
                _("Duplicate of row %(row)d (same name and date of birth, no birth number).")
                % {"row": group[0].number},
            )


def _against_register(plans: list[RowPlan], municipality: Municipality) -> None:
    """Match rows to the register (blind indexes only: nothing is decrypted, so a dry run writes no audit row)."""
    numbers = [plan.bn_index for plan in plans if plan.bn_index and plan.action != "reject"]
    holders = {
        child.birth_number_index: child
        for child in Child.objects.filter(birth_number_index__in=numbers).only(
            "id", "municipality_id", "birth_number_index", "identity_index", "shredded_at"
        )
    }
    identities = [plan.identity for plan in plans if plan.identity and not plan.bn_index and plan.action != "reject"]
    namesakes: dict[str, list[Child]] = defaultdict(list)
    for child in Child.objects.filter(
        municipality=municipality, identity_index__in=identities, merged_into__isnull=True, shredded_at__isnull=True
    ).only("id", "municipality_id", "identity_index"):
        namesakes[child.identity_index or ""].append(child)
    imported = set(
        ImportedRow.objects.filter(
            municipality=municipality, child_id__in=[c.pk for found in namesakes.values() for c in found]
        ).values_list("child_id", flat=True)
    )
    open_cases = set(
        Case.objects.filter(
            child_id__in=[c.pk for c in holders.values()] + list(imported), status=CaseStatus.OPEN
        ).values_list("child_id", flat=True)
    )
    for plan in plans:
        if plan.action == "reject":
            continue
        holder = holders.get(plan.bn_index) if plan.bn_index else None
        if plan.bn_index and holder is not None:
            child = holder
            if child.municipality_id != municipality.pk:
                plan.reject("birth_number", _("A child with this birth number is registered with another authority."))
            elif child.identity_index != plan.identity:
                plan.reject(
                    "birth_number",
                    _(
                        "Conflicts with the register: this birth number is registered with a different name or date "
                        "of birth."
                    ),
                )
            else:
                plan.action, plan.child = "match", child
        elif not plan.bn_index and plan.identity in namesakes:
            found = namesakes[plan.identity or ""]
            ours = [c for c in found if c.pk in imported]
            if len(found) == 1 and ours:
                plan.action, plan.child = "match", ours[0]
            else:
                plan.reject(
                    "given_name",
                    _(
                        "Possible duplicate of a register entry (same name and date of birth, no birth number): "
                        "register this child by hand."
                    ),
                )
        if plan.child is not None and plan.child.pk in open_cases:
            plan.case_already_open = True


def plan_import(
    path: Path, *, municipality: Municipality, actor: User, today: datetime.date | None = None
) -> ImportResult:
    """Read and check the whole file; nothing is written."""
    today = today or timezone.localdate()
    digest = file_sha256(path)
    _header_row, rows = read_rows(path)
    done = set(ImportedRow.objects.filter(file_sha256=digest).values_list("row_number", flat=True))
    municipality_names = {
        name.casefold()
        for name in ResidenceMunicipality.objects.filter(orp=municipality).values_list("name", flat=True)
    }
    usernames = {row.values.get("case_coordinator", "").strip() for row in rows} - {""}
    coordinators: dict[str, User | None] = {
        user.username: user for user in User.objects.filter(username__in=usernames).select_related("organisation")
    }
    plans = []
    for row in rows:
        plans.append(
            _check_row(
                row,
                municipality_names=municipality_names,
                coordinators=coordinators,
                default_coordinator=actor,
                municipality=municipality,
                today=today,
            )
        )
    # Duplicates inside the file are judged on every row (the first of two may be done already), the register only
    # for the rows still to do.
    _within_file(plans)
    for plan in plans:
        if plan.number in done:
            plan.action, plan.reasons = "done", []
    _against_register([plan for plan in plans if plan.action != "done"], municipality)
    return ImportResult(plans=plans, file_sha256=digest)


# --- Carrying it out ----------------------------------------------------------------------------------------------


def _carry_out(plan: RowPlan, *, result: ImportResult, municipality: Municipality, actor: User) -> None:
    data = plan.cleaned
    with audit.atomic():
        if ImportedRow.objects.filter(file_sha256=result.file_sha256, row_number=plan.number).exists():
            plan.action = "done"  # another run got here first
            return
        if plan.child is None:
            child = child_create(
                municipality=municipality,
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
                date_of_birth_estimated=data["date_of_birth_estimated"],
                birth_number=data["birth_number"],
                address=data["address"],
                other_identifiers=data["other_identifiers"],
                representatives=data["representatives"],
                created_by=actor,
                purpose=PURPOSE,
            )
            outcome = ImportOutcome.CREATED
        else:
            child, outcome = plan.child, ImportOutcome.MATCHED
        case = None
        if plan.open_case and not plan.case_already_open:
            case = case_open(
                child=child,
                coordinator=data["coordinator"],
                opened_by=actor,
                reason=data["reason"],
                purpose=PURPOSE,
                notify_coordinator=False,
            )
        record = ImportedRow.objects.create(
            municipality=municipality,
            file_sha256=result.file_sha256,
            row_number=plan.number,
            outcome=outcome,
            child=child,
            case=case,
            previous_reference=data["previous_reference"] if case else "",
            previous_opened_on=data["previous_opened_on"] if case else None,
            imported_by=actor,
        )
        audit.record_write(
            actor,
            case.pk if case else None,
            "casework.importedrow",
            record.pk,
            ["file_sha256", "row_number", "child", "case"],
            PURPOSE,
        )


def carry_out(
    result: ImportResult,
    *,
    municipality: Municipality,
    actor: User,
    progress: Callable[[Iterable[RowPlan]], Iterable[RowPlan]] = lambda plans: plans,
) -> ImportResult:
    """Carry out every row planned as create or match, one transaction each. A row the services refuse at this point
    (the register changed since planning) is rejected with their field messages; the others go on."""
    todo = [plan for plan in result.plans if plan.action in {"create", "match"}]
    for plan in progress(todo):
        try:
            _carry_out(plan, result=result, municipality=municipality, actor=actor)
        except ValidationError as exc:
            plan.action = "reject"
            for column, messages in exc.message_dict.items():
                for message in messages:
                    plan.reasons.append((column, message))
        except IntegrityError:
            # Another run of the same file (or a worker at the counter) wrote this row's child or record at the same
            # moment: this row's transaction rolled back whole; a rerun sorts it out.
            plan.reject("row", _("Written by another run at the same moment: run the import again."))
    result.committed = True
    return result


# --- The report ---------------------------------------------------------------------------------------------------


def report_lines(result: ImportResult) -> list[str]:
    """One line per rejected row (row number, column, reason) and the totals. No value of the file appears."""
    lines = []
    for plan in result.plans:
        if plan.action == "reject":
            for column, message in plan.reasons:
                lines.append(
                    _("Row %(row)d: rejected — %(column)s: %(reason)s")
                    % {"row": plan.number, "column": column, "reason": message}
                )
    committed = result.committed
    totals = {
        "create": _("created") if committed else _("would be created"),
        "match": _("matched") if committed else _("would be matched"),
        "reject": _("rejected"),
        "done": _("already imported (skipped)"),
    }
    lines.append(
        "; ".join(f"{label}: {result.count(action)}" for action, label in totals.items())
        + "; "
        + (_("cases opened: %(count)d") if committed else _("cases to open: %(count)d")) % {"count": result.cases}
    )
    return lines


def template_rows() -> list[dict[str, str]]:
    """The shipped template's example rows (invented children of the Olomouc ORP, computed birth numbers): a child
    with an open case, a child with two representatives and no case, and a child without a birth number."""
    blank = dict.fromkeys(COLUMN_NAMES, "")
    return [
        {
            **blank,
            "given_name": "Ukázka",
            "family_name": "Smyšlená",
            "birth_number": "145309/0100",
            "date_of_birth": "2014-03-09",
            "date_of_birth_estimated": "ne",
            "municipality": "Olomouc",
            "address": "Smyšlená 1, 779 00 Olomouc",
            "representative_relation": "mother",
            "representative_name": "Vzorová Smyšlená",
            "representative_contact": "+420 600 000 001",
            "representative_parental_responsibility": "ano",
            "open_case": "ano",
            "case_open_reason": "report",
            "case_coordinator": "",
            "case_previous_reference": "SPOD 2024/117",
            "case_opened_on": "2024-05-02",
        },
        {
            **blank,
            "given_name": "Příklad",
            "family_name": "Vymyšlený",
            "birth_number": "1701150110",
            "date_of_birth": "15.1.2017",
            "date_of_birth_estimated": "ne",
            "municipality": "Velká Bystřice",
            "representative_relation": "father",
            "representative_name": "Otec Vymyšlený",
            "representative_contact": "otec@example.org",
            "representative_parental_responsibility": "ano",
            "representative2_relation": "mother",
            "representative2_name": "Matka Vymyšlená",
            "representative2_parental_responsibility": "ano",
            "open_case": "ne",
        },
        {
            **blank,
            "given_name": "Cvičný",
            "family_name": "Bezčísla",
            "date_of_birth": "2019-06-01",
            "date_of_birth_estimated": "ano",
            "municipality": "Dolany",
            "other_identifiers": "cestovní doklad (smyšlený) X0000000",
            "open_case": "ano",
            "case_open_reason": "own_finding",
        },
    ]


def sample_rows(count: int, *, municipality_names: list[str], seed: int = 23) -> list[dict[str, str]]:
    """``count`` rows of fictional children (invented name combinations, computed birth numbers with a valid check
    digit) for trying an import out. Never real people."""
    import random

    given_f = ["Adéla", "Bára", "Cecílie", "Dora", "Ema", "Filipa", "Gréta", "Hana", "Ilona", "Jitka", "Klára"]
    given_m = ["Adam", "Bořek", "Cyril", "Daniel", "Emil", "František", "Gustav", "Hynek", "Ivo", "Jonáš", "Kryštof"]
    family = ["Smyšlen", "Vymyšlen", "Ukázk", "Zkušebn", "Vzorov", "Příkladn", "Cvičn", "Testovac"]
    relations = ["mother", "father", "guardian"]
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    used: set[str] = set()
    today = datetime.date.today()
    while len(rows) < count:
        female = rng.random() < 0.5
        born = today - datetime.timedelta(days=rng.randint(200, 17 * 365))
        month = born.month + (50 if female else 0)
        first9 = f"{born.year % 100:02d}{month:02d}{born.day:02d}{rng.randint(0, 999):03d}"
        remainder = int(first9) % 11
        if remainder == 10 or first9 in used:
            continue
        used.add(first9)
        stem = rng.choice(family)
        surname = stem + ("á" if female else "ý")
        rows.append(
            {
                "given_name": rng.choice(given_f if female else given_m),
                "family_name": surname,
                "birth_number": f"{first9[:6]}/{first9[6:]}{remainder}",
                "date_of_birth": born.isoformat(),
                "date_of_birth_estimated": "ne",
                "municipality": rng.choice(municipality_names),
                "address": f"Smyšlená {rng.randint(1, 200)}",
                "other_identifiers": "",
                "representative_relation": rng.choice(relations),
                "representative_name": f"{rng.choice(given_f)} {stem}á",
                "representative_contact": f"+420 600 {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}",
                "representative_parental_responsibility": "ano",
                "representative2_relation": "",
                "representative2_name": "",
                "representative2_contact": "",
                "representative2_parental_responsibility": "",
                "open_case": "ano" if rng.random() < 0.6 else "ne",
                "case_open_reason": rng.choice(["report", "own_finding", "parent_request"]),
                "case_coordinator": "",
                "case_previous_reference": f"SPOD {rng.randint(2015, 2026)}/{len(rows) + 1}",
                "case_opened_on": (today - datetime.timedelta(days=rng.randint(1, 900))).isoformat(),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMN_NAMES))
        writer.writeheader()
        writer.writerows(rows)


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> None:
    """The same columns in a workbook; every cell is text (a birth number must keep its leading zero)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "register"
    sheet.append(list(COLUMN_NAMES))
    for row in rows:
        sheet.append([row.get(name, "") for name in COLUMN_NAMES])
    for column in sheet.iter_cols(min_row=1, max_row=len(rows) + 1):
        for cell in column:
            cell.number_format = "@"
    workbook.save(path)
