"""The full export of an authority (``manage.py export_authority``): everything, in clear, to its supervisor only,
through the gate in one audited batch, into files only their owner can read."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from casework import register_import
from casework.models import Case, Child, User
from casework.services import case_note_add
from casework.services.competence import competence_ensure_defaults
from permissions.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

NOTE_CANARY = "Poznámka-kanárek-exportu"


@pytest.fixture(autouse=True)
def _municipalities(db: None) -> None:
    """The municipality → ORP table as migrated (a transactional test before this one may have flushed it)."""
    competence_ensure_defaults()


@pytest.fixture
def imported(tmp_path: Path, coordinator: User) -> list[Child]:
    path = tmp_path / "register.csv"
    register_import.write_csv(path, register_import.template_rows())
    with translation.override("en"):
        call_command(
            "import_register",
            str(path),
            "--authority",
            "OM",
            "--as",
            coordinator.username,
            "--commit",
            "--no-progress",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    case = Case.objects.order_by("number").first()
    assert case is not None
    case_note_add(case=case, author=coordinator, compartment="social", text=NOTE_CANARY)
    return list(Child.objects.all())


def _export(out: Path, username: str) -> str:
    stdout = io.StringIO()
    with translation.override("en"):
        call_command("export_authority", "--authority", "OM", "--as", username, "--out", str(out), stdout=stdout)
    return stdout.getvalue()


def test_the_supervisor_exports_everything_into_private_files_audited_in_one_batch(
    tmp_path: Path, imported: list[Child], supervisor: User
) -> None:
    out = tmp_path / "export"
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    output = _export(out, supervisor.username)
    assert "children: 3" in output
    assert "cases: 2" in output
    assert NOTE_CANARY not in output

    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    names = {path.name for path in out.iterdir()}
    assert names == {"manifest.json", "children.csv", "cases.csv", "team.csv", "records.json", "tables.json"}
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "casework-authority-export/1"
    assert manifest["exported_by"] == supervisor.username
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest

    children = list(csv.DictReader(io.StringIO((out / "children.csv").read_text())))
    assert {(c["given_name"], c["family_name"]) for c in children} == {
        ("Ukázka", "Smyšlená"),
        ("Příklad", "Vymyšlený"),
        ("Cvičný", "Bezčísla"),
    }
    assert {c["birth_number"] for c in children} == {"1453090100", "1701150110", ""}
    cases = list(csv.DictReader(io.StringIO((out / "cases.csv").read_text())))
    assert {c["previous_reference"] for c in cases} == {"SPOD 2024/117", ""}
    assert {c["coordinator"] for c in cases} == {"koord"}
    records = json.loads((out / "records.json").read_text())
    assert [note["sealed"]["text"] for note in records["casework.casenote"]] == [NOTE_CANARY]
    assert len(records["casework.legalrepresentative"]) == 3
    exported = b"".join(path.read_bytes() for path in out.iterdir())
    for child in imported:
        for index in (child.birth_number_index, child.identity_index):
            assert not index or index.encode() not in exported

    # One batch of read rows, all committed before anything was opened, plus the export's own row.
    rows = AuditEvent.objects.filter(seq__gt=before)
    assert {row.purpose for row in rows} == {"export"}
    assert {row.actor_username for row in rows} == {supervisor.username}
    assert {row.outcome for row in rows} == {"allowed"}
    assert rows.filter(object_type="casework.municipality", action="write").count() == 1
    read_children = set(rows.filter(object_type="casework.child", action="read").values_list("object_id", flat=True))
    assert read_children == {str(child.pk) for child in imported}


def test_nobody_but_the_authoritys_supervisor_exports(
    tmp_path: Path, imported: list[Child], coordinator: User, dpo: User, administrator: User, prostejov: object
) -> None:
    foreign = UserFactory.create(
        username="cizi-vedouci",
        role="supervisor",
        organisation=OrganisationFactory.create(name="OSPOD PV", sector="ospod", municipality=prostejov),
    )
    for user in (coordinator, dpo, administrator, foreign):
        out = tmp_path / user.username
        with pytest.raises(CommandError, match="--as must be a supervisor"):
            _export(out, user.username)
        assert not out.exists()
        assert AuditEvent.objects.filter(actor_username=user.username, purpose="export", outcome="denied").exists()
        assert not AuditEvent.objects.filter(actor_username=user.username, purpose="export", action="read").exists()


def test_an_existing_directory_is_never_written_into(tmp_path: Path, imported: list[Child], supervisor: User) -> None:
    out = tmp_path / "there"
    out.mkdir()
    with pytest.raises(CommandError, match="exists"):
        _export(out, supervisor.username)
    assert list(out.iterdir()) == []


def test_the_gate_opens_nothing_of_another_authority_for_an_export(
    imported: list[Child], supervisor: User, foreign_worker: User
) -> None:
    from django.core.exceptions import PermissionDenied

    from permissions import gate
    from tests.factories.children import register_child

    foreign_child = register_child(by=foreign_worker, given_name="Cizí")
    own = imported[0]
    with pytest.raises(PermissionDenied):
        gate.read_for_export(
            supervisor,
            own.municipality_id,
            [(own, [own], ["given_name"]), (foreign_child, [foreign_child], ["given_name"])],
            purpose="export",
        )
    assert not AuditEvent.objects.filter(actor_username=supervisor.username, action="read").exists()
    assert AuditEvent.objects.filter(actor_username=supervisor.username, outcome="denied", purpose="export").exists()
