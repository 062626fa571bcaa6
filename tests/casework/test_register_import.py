"""Importing an authority's existing register (``manage.py import_register``): the dry run's report, the real run,
reruns, refusals and the shipped template. The kill -9 drills are in test_register_import_resume.py."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from casework import register_import
from casework.models import Case, CaseStatus, Child, ImportedRow, LegalRepresentative, User
from casework.sealing import Keyring, open_values
from casework.services.competence import competence_ensure_defaults
from permissions.models import AuditChainHead, AuditEvent
from tests.factories.children import register_child, synthetic_birth_number
from tests.scan import find_in_database

ROOT = Path(__file__).resolve().parents[2]
CANARY_GIVEN = "Kanárek"
CANARY_FAMILY = "Importovaný"


def _row(**values: str) -> dict[str, str]:
    return {name: values.get(name, "") for name in register_import.COLUMN_NAMES}


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    register_import.write_csv(path, rows)
    return path


def _run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("import_register", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def _state() -> tuple[int, int, int, int, int, int]:
    head = AuditChainHead.objects.first()
    return (
        Child.objects.count(),
        Case.objects.count(),
        LegalRepresentative.objects.count(),
        ImportedRow.objects.count(),
        AuditEvent.objects.count(),
        head.seq if head else 0,
    )


BORN = datetime.date(2015, 4, 20)
GOOD_BN = synthetic_birth_number(BORN, serial=311)
OTHER_BN = synthetic_birth_number(BORN, serial=312)
CONFLICT_BN = synthetic_birth_number(BORN, serial=315)
REGISTERED_BN = synthetic_birth_number(BORN, serial=316)
REGISTERED_TOO_BN = synthetic_birth_number(BORN, serial=317)


def _mixed_rows() -> list[dict[str, str]]:
    good = _row(
        given_name=CANARY_GIVEN,
        family_name=CANARY_FAMILY,
        birth_number=GOOD_BN,
        municipality="Olomouc",
        address="Smyšlená 5",
        representative_relation="mother",
        representative_name="Matka Importovaná",
        representative_contact="+420 600 000 009",
        representative_parental_responsibility="ano",
        open_case="ano",
        case_open_reason="report",
        case_previous_reference="SPOD 2023/12",
        case_opened_on="2023-02-01",
    )
    return [
        good,  # row 2: created, with a case
        _row(given_name="Druhý", family_name="Smyšlený", date_of_birth="1.2.2018", municipality="Dolany"),  # 3
        dict(good),  # row 4: duplicate of row 2
        _row(given_name="Chybný", family_name="Smyšlený", birth_number="1234567890", municipality="Olomouc"),  # 5
        _row(given_name="Konflikt", family_name="Jedna", birth_number=CONFLICT_BN, municipality="Olomouc"),  # 6
        _row(given_name="Konflikt", family_name="Dva", birth_number=CONFLICT_BN, municipality="Olomouc"),  # 7
        _row(given_name="Cizí", family_name="Obec", birth_number=OTHER_BN, municipality="Prostějov"),  # 8
        _row(given_name="Budoucí", family_name="Dítě", date_of_birth="2999-01-01", municipality="Olomouc"),  # 9
        _row(family_name="Bezjména", date_of_birth="2016-01-01", municipality="Olomouc"),  # 10
        _row(given_name="Jiné", family_name="Jméno", birth_number=REGISTERED_TOO_BN, municipality="Olomouc"),  # 11
        _row(
            given_name="Eliška",
            family_name="Nováková",
            birth_number=REGISTERED_BN,
            municipality="Olomouc",
            open_case="ano",
        ),  # 12: matched (the register's entry), case opened
        _row(
            given_name="Pozdní",
            family_name="Případ",
            date_of_birth="2017-05-05",
            municipality="Olomouc",
            open_case="ano",
            case_opened_on="2999-01-01",
        ),  # 13
        _row(
            given_name="Neznámý",
            family_name="Koordinátor",
            date_of_birth="2017-05-06",
            municipality="Olomouc",
            open_case="ano",
            case_coordinator="nikdo",
        ),  # 14
    ]


@pytest.fixture(autouse=True)
def _municipalities(db: None) -> None:
    """The municipality → ORP table as migrated (a transactional test before this one may have flushed it)."""
    competence_ensure_defaults()


@pytest.fixture
def registered(coordinator: User) -> Child:
    register_child(by=coordinator, born=BORN, birth_number=REGISTERED_TOO_BN, given_name="Jiná")
    return register_child(by=coordinator, born=BORN, birth_number=REGISTERED_BN)


def test_the_dry_run_reports_every_row_by_number_and_reason_and_changes_nothing(
    tmp_path: Path, coordinator: User, registered: Child
) -> None:
    path = _write(tmp_path / "register.csv", _mixed_rows())
    before = _state()
    output = _run(str(path), "--authority", "OM", "--as", coordinator.username)
    assert _state() == before

    assert "Dry run: nothing was written" in output
    assert "would be created: 2; would be matched: 1; rejected: 10; already imported (skipped): 0" in output
    assert "cases to open: 2" in output
    expected = {
        4: "birth_number: Duplicate of row 2",
        5: "birth_number: The birth number does not contain a valid date of birth",
        6: "birth_number: Conflicting rows 6, 7",
        7: "birth_number: Conflicting rows 6, 7",
        8: "municipality: Unknown municipality",
        9: "date_of_birth: The date of birth cannot be in the future",
        10: "given_name: This field is required",
        11: "birth_number: Conflicts with the register",
        13: "case_opened_on: The date cannot be in the future",
        14: "case_coordinator: Unknown coordinator",
    }
    for row, reason in expected.items():
        assert f"Row {row}: rejected — {reason}" in output, (row, output)
    for row in (2, 3, 12):
        assert f"Row {row}:" not in output


def test_the_report_names_no_value_of_the_file(tmp_path: Path, coordinator: User, registered: Child) -> None:
    path = _write(tmp_path / "register.csv", _mixed_rows())
    outputs = [
        _run(str(path), "--authority", "OM", "--as", coordinator.username),
        _run(str(path), "--authority", "OM", "--as", coordinator.username, "--commit"),
    ]
    values = {value for row in _mixed_rows() for value in row.values() if len(value) > 3}
    values -= {"Olomouc", "Prostějov", "Dolany", "report", "mother"}  # column choices, not a person's data
    for output in outputs:
        for value in (CANARY_GIVEN, CANARY_FAMILY, GOOD_BN, GOOD_BN.replace("/", ""), *values):
            assert value not in output, value


def test_the_real_run_seals_audits_and_a_rerun_creates_nothing(
    tmp_path: Path, coordinator: User, supervisor: User, registered: Child
) -> None:
    path = _write(tmp_path / "register.csv", _mixed_rows())
    output = _run(str(path), "--authority", "OM", "--as", supervisor.username, "--commit")
    assert "created: 2; matched: 1; rejected: 10; already imported (skipped): 0; cases opened: 2" in output

    imported = ImportedRow.objects.get(row_number=2)
    child = imported.child
    opened = open_values(child, ["given_name", "family_name", "birth_number", "date_of_birth"], Keyring())
    assert opened == {
        "given_name": CANARY_GIVEN,
        "family_name": CANARY_FAMILY,
        "birth_number": GOOD_BN.replace("/", ""),
        "date_of_birth": BORN.isoformat(),
    }
    # Sealed on the way in: no column of any table holds the name, the number or the address in clear.
    assert find_in_database([CANARY_GIVEN, CANARY_FAMILY, GOOD_BN.replace("/", ""), "Matka Importovaná"]) == []
    assert child.representatives.count() == 1
    case = imported.case
    assert case is not None
    assert case.status == CaseStatus.OPEN
    assert case.coordinator == supervisor  # the --as user by default
    assert (imported.previous_reference, imported.previous_opened_on) == ("SPOD 2023/12", datetime.date(2023, 2, 1))
    matched = ImportedRow.objects.get(row_number=12)
    assert (matched.outcome, matched.child_id) == ("matched", registered.pk)
    assert Case.objects.get(child=registered, status=CaseStatus.OPEN).open_reason == "own_finding"
    purposes = set(
        AuditEvent.objects.filter(object_type__in=["casework.child", "casework.case", "casework.importedrow"])
        .filter(actor_username=supervisor.username)
        .values_list("purpose", flat=True)
    )
    assert purposes == {"import"}
    assert AuditEvent.objects.filter(object_type="casework.importedrow", object_id=str(imported.pk)).exists()

    # The same file again: every carried-out row is skipped, nothing new is written.
    before = _state()
    again = _run(str(path), "--authority", "OM", "--as", supervisor.username, "--commit")
    assert "created: 0; matched: 0; rejected: 10; already imported (skipped): 3" in again
    assert _state() == before

    # The file corrected and exported again (another hash): the children already there are matched, not doubled.
    rows = _mixed_rows()
    rows[1]["address"] = "Opravená 1"
    corrected = _write(tmp_path / "corrected.csv", [rows[0], rows[1], rows[10]])
    third = _run(str(corrected), "--authority", "OM", "--as", supervisor.username, "--commit")
    assert "created: 0; matched: 3; rejected: 0" in third
    assert Child.objects.count() == before[0]
    assert Case.objects.count() == before[1]


def test_the_row_without_a_birth_number_that_resembles_an_entry_is_left_for_a_person(
    tmp_path: Path, coordinator: User
) -> None:
    register_child(by=coordinator, given_name="Podobná", family_name="Osoba", born=BORN, birth_number=None)
    path = _write(
        tmp_path / "register.csv",
        [_row(given_name="Podobná", family_name="Osoba", date_of_birth=BORN.isoformat(), municipality="Olomouc")],
    )
    output = _run(str(path), "--authority", "OM", "--as", coordinator.username, "--commit")
    assert "Row 2: rejected — given_name: Possible duplicate of a register entry" in output


def test_a_file_without_a_required_column_is_refused_whole(tmp_path: Path, coordinator: User) -> None:
    path = tmp_path / "register.csv"
    path.write_text("given_name,family_name,date_of_birth\nA,B,2015-01-01\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Required columns are missing: birth_number, municipality"):
        _run(str(path), "--authority", "OM", "--as", coordinator.username)
    path.write_text("given_name,family_name,date_of_birth,birth_number,municipality,nickname\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Unknown columns"):
        _run(str(path), "--authority", "OM", "--as", coordinator.username)


def test_only_the_authoritys_ospod_staff_import(
    tmp_path: Path, teacher: User, foreign_worker: User, dpo: User, coordinator: User
) -> None:
    path = _write(tmp_path / "register.csv", _mixed_rows()[:1])
    for user in (teacher, foreign_worker, dpo):
        with pytest.raises(CommandError, match="--as must be"):
            _run(str(path), "--authority", "OM", "--as", user.username, "--commit")
        assert AuditEvent.objects.filter(actor_username=user.username, outcome="denied", purpose="import").exists()
    assert Child.objects.count() == 0


def test_a_semicolon_csv_and_an_xlsx_read_alike(tmp_path: Path, coordinator: User) -> None:
    rows = register_import.template_rows()
    semicolon = tmp_path / "register.csv"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(register_import.COLUMN_NAMES), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    semicolon.write_text(buffer.getvalue(), encoding="utf-8-sig")
    workbook = tmp_path / "register.xlsx"
    register_import.write_xlsx(workbook, rows)
    _header, from_csv = register_import.read_rows(semicolon)
    _header, from_xlsx = register_import.read_rows(workbook)
    assert [row.values for row in from_csv] == [row.values for row in from_xlsx]
    assert [row.number for row in from_csv] == [2, 3, 4]


def test_the_shipped_template_is_current_and_imports_cleanly(tmp_path: Path, coordinator: User) -> None:
    call_command("import_register", "--write-template", str(tmp_path), stdout=io.StringIO())
    shipped = ROOT / "docs" / "import"
    assert (shipped / "register-template.csv").read_bytes() == (tmp_path / "register-template.csv").read_bytes()
    _h, shipped_rows = register_import.read_rows(shipped / "register-template.xlsx")
    _h, fresh_rows = register_import.read_rows(tmp_path / "register-template.xlsx")
    assert [r.values for r in shipped_rows] == [r.values for r in fresh_rows]
    for name in ("register-template.csv", "register-template.xlsx"):
        output = _run(str(shipped / name), "--authority", "OM", "--as", coordinator.username)
        assert "would be created: 3; would be matched: 0; rejected: 0" in output, output


def test_the_help_documents_every_column() -> None:
    from casework.management.commands.import_register import Command

    with translation.override("en"):
        text = " ".join(Command().create_parser("manage.py", "import_register").format_help().split())
    for name in register_import.COLUMN_NAMES:
        assert name in text
