"""Backups that restore: the restore drill (dump, restore into a new database, the audit chain verifies there, a sealed
field opens there), the keys kept apart from the dump, and a restore or a start without the keys failing with one
clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from psycopg import sql
from psycopg.conninfo import make_conninfo

from casework.backup import BackupError, read_key_file, restore
from casework.models import Child, Role, Sector
from permissions.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.children import register_child

BASE_DIR = Path(__file__).resolve().parents[2]
GIVEN_NAME = "Zálohovaná"
OPEN_GIVEN_NAME = (
    "from casework.models import Child; from casework.sealing import open_values; "
    "print(open_values(Child.objects.get(pk='{pk}'), ['given_name'])['given_name'])"
)


def _protected_data() -> Child:
    """A child whose identity is sealed, with the audit rows its registration writes."""
    ospod = OrganisationFactory.create(sector=Sector.OSPOD, name="OSPOD Olomouc")
    worker = UserFactory.create(role=Role.OSPOD_WORKER, organisation=ospod)
    child = register_child(by=worker, given_name=GIVEN_NAME)
    assert AuditEvent.objects.exists()
    return child


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180
    )


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in {"DATABASE_URL", "KEY_FILE"}}
    return {**env, "DATABASE_URL": database_url, **extra}


def _keyless_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Development settings with no key file and no keys in the environment: an installation that lost its keys."""
    env = _env(
        database_url,
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        KEY_FILE=str(tmp_path / "no-such-keys.env"),
        LOG_DIR=str(tmp_path / "log"),
    )
    for name in ("FIELD_KEKS", "FIELD_KEK_CURRENT", "AUDIT_HMAC_KEY", "BLIND_INDEX_KEY", "DJANGO_SECRET_KEY"):
        env.pop(name, None)
    return env


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


def _drill(tmp_path: Path, target_url: str) -> None:
    child = _protected_data()
    backup_dir, keys_file = tmp_path / "backup", tmp_path / "elsewhere" / "keys.env"
    call_command("backup", str(backup_dir), keys=str(keys_file))

    # The dump and the keys are apart: no key in the backup directory, the key file readable by its owner only.
    key_values = [settings.AUDIT_HMAC_KEY, settings.BLIND_INDEX_KEY, settings.FIELD_KEKS.split(":", 1)[1]]
    for path in backup_dir.iterdir():
        content = path.read_bytes()
        assert not any(value.encode() in content for value in key_values), path.name
    assert keys_file.stat().st_mode & 0o777 == 0o600
    assert read_key_file(keys_file)["AUDIT_HMAC_KEY"] == settings.AUDIT_HMAC_KEY
    assert (
        GIVEN_NAME.encode()
        not in (backup_dir / json.loads((backup_dir / "manifest.json").read_text())["dump"]).read_bytes()
    )

    # Without the keys: one line, and the new database is never touched.
    keyless = _manage(["restore", str(backup_dir), "--database-url", target_url], _keyless_env(target_url, tmp_path))
    _assert_one_line_failure(keyless, "key-encryption key", "missing")

    restored = _manage(
        ["restore", str(backup_dir), "--database-url", target_url, "--keys", str(keys_file)], _env(target_url)
    )
    assert restored.returncode == 0, restored.stderr
    assert "chain intact" in restored.stdout
    assert "sealed fields open" in restored.stdout

    # The restored database on its own: the audit chain verifies, a sealed field opens with the backup's keys.
    verified = _manage(["verify_audit"], _env(target_url))
    assert verified.returncode == 0, verified.stderr
    assert f"OK: {AuditEvent.objects.count()} rows" in verified.stdout
    opened = _manage(["shell", "-c", OPEN_GIVEN_NAME.format(pk=child.pk)], _env(target_url))
    assert opened.stdout.strip().splitlines()[-1] == GIVEN_NAME, opened.stderr

    # Started without the keys, it says so in one line.
    for command in (["verify_audit"], ["verify_keys"]):
        _assert_one_line_failure(
            _manage(command, _keyless_env(target_url, tmp_path)),
            "KEK" if command == ["verify_keys"] else "AUDIT_HMAC_KEY",
        )


@pytest.mark.django_db(transaction=True)
def test_restore_drill_on_sqlite(tmp_path: Path) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL drill runs in this pass")
    _drill(tmp_path, f"sqlite:///{tmp_path / 'restored.sqlite3'}")


@pytest.fixture
def new_pg_database() -> Iterator[str]:
    """The URL of a database that does not exist yet (the restore creates it); dropped afterwards."""
    source = connection.settings_dict
    name = f"{source['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    libpq = {
        "host": source.get("HOST"),
        "port": source.get("PORT"),
        "user": source.get("USER"),
        "password": source.get("PASSWORD"),
    }
    params = {key: str(value) for key, value in libpq.items() if value}
    credentials = params.get("user", "")
    if params.get("password"):
        credentials += ":" + params["password"]
    yield f"postgres://{credentials}@{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{name}"
    with psycopg.connect(make_conninfo(dbname="postgres", **params), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_drill_on_postgresql(tmp_path: Path, new_pg_database: str) -> None:
    _drill(tmp_path, new_pg_database)


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_damaged_dump_wrong_keys_and_a_database_in_use(tmp_path: Path) -> None:
    _protected_data()
    backup_dir, keys_file = tmp_path / "backup", tmp_path / "keys.env"
    call_command("backup", str(backup_dir), keys=str(keys_file))
    material = read_key_file(keys_file)
    target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    if connection.vendor == "postgresql":
        target = "postgres://unused/never"  # refused before any connection is made

    other_audit_key = {**material, "AUDIT_HMAC_KEY": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="}
    with pytest.raises(BackupError, match="AUDIT_HMAC_KEY given is not the backup's"):
        restore(directory=backup_dir, database_url=target, material=other_audit_key)

    dump = next(path for path in backup_dir.iterdir() if path.name.startswith("database."))
    dump.write_bytes(dump.read_bytes() + b"tampered")
    with pytest.raises(BackupError, match="does not match its checksum"):
        restore(directory=backup_dir, database_url=target, material=material)


@pytest.mark.django_db
def test_backup_refuses_to_put_the_keys_beside_the_dump(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="outside the backup directory"):
        call_command("backup", str(tmp_path / "backup"), keys=str(tmp_path / "backup" / "keys.env"))
    assert not (tmp_path / "backup").exists()
