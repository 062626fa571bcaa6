"""An import killed with SIGKILL half-way resumes on a rerun of the same file: no child twice, none half-written.

The import runs as a real ``manage.py import_register`` process against a database the test can watch: on SQLite a
file copy of the test database, on PostgreSQL the test database itself. It is killed once some rows are committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from casework import register_import
from casework.models import Child, ImportedRow, User
from casework.services.competence import competence_ensure_defaults
from permissions.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
ROWS = 300
KILL_AFTER = 25


def _said(label: str) -> str:
    """A label of the command's summary as it prints it: in the installation's language (Czech by default)."""
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(label)


@pytest.fixture(autouse=True)
def _municipalities(db: None) -> None:
    """The municipality → ORP table as migrated (a transactional test before this one may have flushed it)."""
    competence_ensure_defaults()


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        **extra,
    }


def _import(path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_register", str(path), "--authority", "OM", "--as", "koord", "--commit"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _drill(tmp_path: Path, database_url: str, committed_rows: Callable[[], int]) -> str:
    path = tmp_path / "register.csv"
    register_import.write_csv(path, register_import.sample_rows(ROWS, municipality_names=["Olomouc", "Dolany"]))
    process = _import(path, _env(database_url, IMPORT_PAUSE_AFTER_ROW_SECONDS="0.05"))
    deadline = time.monotonic() + 240
    while committed_rows() < KILL_AFTER and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    stderr = process.stderr.read() if process.stderr else ""
    assert process.returncode == -signal.SIGKILL, (committed_rows(), stderr[-3000:])
    done = committed_rows()
    assert KILL_AFTER <= done < ROWS

    rerun = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "import_register",
            str(path),
            "--authority",
            "OM",
            "--as",
            "koord",
            "--commit",
            "--no-progress",
        ],
        cwd=ROOT,
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{_said('already imported (skipped)')}: {done}" in rerun.stdout
    return rerun.stdout


def _sqlite_url(tmp_path: Path) -> str:
    """A file copy of the (in-memory) test database, committed data and all, for a second process to use."""
    target = tmp_path / "db.sqlite3"
    connection.ensure_connection()
    with closing(sqlite3.connect(target)) as destination:
        connection.connection.backup(destination)
    return f"sqlite:///{target}"


def test_an_import_killed_half_way_resumes_without_duplicates_on_sqlite(
    transactional_db: None, tmp_path: Path, coordinator: User
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite drill; the PostgreSQL one is below")
    url = _sqlite_url(tmp_path)
    database = url.removeprefix("sqlite:///")

    def committed() -> int:
        with closing(sqlite3.connect(database, timeout=30)) as db:
            return int(db.execute("select count(*) from casework_importedrow").fetchone()[0])

    output = _drill(tmp_path, url, committed)
    assert f"{_said('rejected')}: 0; {_said('already imported (skipped)')}" in output
    with closing(sqlite3.connect(database)) as db:
        rows, children, distinct = db.execute(
            "select count(*), (select count(*) from casework_child), count(distinct child_id) from casework_importedrow"
        ).fetchone()
        assert rows == children == distinct == ROWS
        assert db.execute("select count(*) from casework_legalrepresentative").fetchone()[0] == ROWS
        # Every child has its import record: none was written without the rest of its row.
        assert (
            db.execute(
                "select count(*) from casework_child where id not in (select child_id from casework_importedrow)"
            ).fetchone()[0]
            == 0
        )
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=_env(url), capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _postgres_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
def test_an_import_killed_half_way_resumes_without_duplicates_on_postgresql(
    transactional_db: None, tmp_path: Path, coordinator: User
) -> None:
    _drill(tmp_path, _postgres_url(), lambda: ImportedRow.objects.count())
    assert ImportedRow.objects.count() == Child.objects.count() == ROWS
    assert ImportedRow.objects.values("child").distinct().count() == ROWS
    assert not Child.objects.exclude(pk__in=ImportedRow.objects.values("child")).exists()
    assert AuditEvent.objects.filter(object_type="casework.importedrow", purpose="import").count() == ROWS
