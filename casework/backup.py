"""Backups that restore: a consistent database dump, the key material kept apart from it, and a checked restore.

A backup is a directory holding the database (``database.dump``: ``pg_dump`` custom format, one consistent snapshot;
or ``database.sqlite3``: SQLite's online backup API) and ``manifest.json`` (what, when, a checksum, and *fingerprints*
of the keys the data needs, never the keys). The key material (KEKs, the audit chain's key, the blind-index key) goes
to a separate file, which must be stored apart (another medium, the secret store): whoever has the dump alone has only
ciphertext; whoever has both has everything.

A restore goes into a new, empty database, and first checks that the keys it was given are the backup's (by their
fingerprints), so a restore without them stops with one line instead of leaving a database nobody can read. Then it
runs ``verify_audit`` and ``verify_keys`` against the restored database. README, "Backup and restore".
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import environ
import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql
from psycopg.conninfo import make_conninfo

from casework.crypto.errors import KeyUnavailableError
from casework.crypto.keys import parse_kek_list
from casework.models import DataKey

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_DUMP = "database.sqlite3"
KEY_NAMES = ("FIELD_KEKS", "FIELD_KEK_CURRENT", "AUDIT_HMAC_KEY", "BLIND_INDEX_KEY")
FORMAT_VERSION = 1
_BASE_DIR = Path(__file__).resolve().parents[1]


class BackupError(Exception):
    """A backup or restore that cannot go on. The message is one line for the operator and names no secret."""


# --- Keys ------------------------------------------------------------------------------------------------------------


def fingerprint(key: bytes) -> str:
    """A short, one-way name for a key, so a manifest can say which keys it needs without holding them."""
    return hashlib.sha256(b"spod-backup-fingerprint\0" + key).hexdigest()[:16]


def _b64(name: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BackupError(f"{name} is not valid base64.") from None


def key_material_from_settings() -> dict[str, str]:
    if settings.KEY_PROVIDER != "casework.crypto.keys.LocalKeyProvider":
        raise BackupError("The key-encryption keys live in an external key service: back them up there.")
    return {name: str(getattr(settings, name, "") or "") for name in KEY_NAMES}


def key_fingerprints(material: Mapping[str, str]) -> dict[str, Any]:
    return {
        "field_keks": {kek_id: fingerprint(key) for kek_id, key in parse_kek_list(material["FIELD_KEKS"]).items()},
        "audit_hmac_key": fingerprint(_b64("AUDIT_HMAC_KEY", material["AUDIT_HMAC_KEY"])),
        "blind_index_key": fingerprint(_b64("BLIND_INDEX_KEY", material["BLIND_INDEX_KEY"])),
    }


def read_key_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (the format of ``var/keys.env`` and of the file :func:`write_key_file` writes)."""
    if not path.is_file():
        raise BackupError(f"The key file {path} does not exist.")
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return {name: values.get(name, "") for name in KEY_NAMES}


def write_key_file(path: Path, material: Mapping[str, str]) -> None:
    """Written with mode 0600 from the start (no moment where others could read it)."""
    lines = ["# Key material of a spod-casework backup. Store apart from the database dump.", ""]
    lines += [f"{name}={material[name]}" for name in KEY_NAMES]
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def check_keys_match(manifest: Mapping[str, Any], material: Mapping[str, str]) -> None:
    """Raise :class:`BackupError` naming the first key the backup needs and ``material`` lacks (or has otherwise)."""
    needed = manifest["keys"]
    try:
        have = key_fingerprints(material)
    except KeyUnavailableError as error:  # its messages name the key id, never the key
        raise BackupError(f"The key material is unusable: {error}") from None
    for kek_id in manifest["kek_ids_in_use"]:
        if kek_id not in have["field_keks"]:
            raise BackupError(f"The backup's key-encryption key {kek_id!r} is missing: pass --keys with its key file.")
        if have["field_keks"][kek_id] != needed["field_keks"].get(kek_id):
            raise BackupError(f"The key-encryption key {kek_id!r} given is not the backup's.")
    for name in ("audit_hmac_key", "blind_index_key"):
        if have[name] != needed[name]:
            raise BackupError(f"The {name.upper()} given is not the backup's: pass --keys with its key file.")


# --- Backup ----------------------------------------------------------------------------------------------------------


def _pg_env(database: Mapping[str, Any]) -> dict[str, str]:
    """libpq's variables, so no password ever appears in a process list."""
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if database.get(key):
            env[variable] = str(database[key])
    env["PGDATABASE"] = str(database["NAME"])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client).")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{tool} failed: {last}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class BackupResult:
    directory: Path
    dump: Path
    keys: Path | None


def backup(*, directory: Path, keys_file: Path | None, using: str = "default") -> BackupResult:
    """Dump the database into ``directory`` (new or empty) and the key material into ``keys_file`` (outside it)."""
    directory = directory.resolve()
    if keys_file is not None:
        keys_file = keys_file.resolve()
        if keys_file.is_relative_to(directory):
            raise BackupError("Write the keys outside the backup directory: they must be stored apart from the dump.")
        if keys_file.exists():
            raise BackupError(f"{keys_file} exists already: keys are never overwritten.")
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup goes into a new directory.")
    material = key_material_from_settings()
    fingerprints = key_fingerprints(material)
    connection = connections[using]
    kek_ids = sorted(
        set(DataKey.objects.using(using).filter(destroyed_at__isnull=True).values_list("kek_id", flat=True))
    )
    directory.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "postgresql":
        dump = directory / PG_DUMP
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump)], _pg_env(connection.settings_dict))
    elif connection.vendor == "sqlite":
        dump = directory / SQLITE_DUMP
        connection.ensure_connection()
        target = sqlite3.connect(dump)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        raise BackupError(f"No backup for the {connection.vendor!r} database backend.")
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "vendor": connection.vendor,
        "dump": dump.name,
        "sha256": _sha256(dump),
        "kek_ids_in_use": kek_ids,
        "keys": fingerprints,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if keys_file is not None:
        write_key_file(keys_file, material)
    return BackupResult(directory, dump, keys_file)


# --- Restore ---------------------------------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} is not a backup: {MANIFEST} is missing.")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    dump = directory / manifest["dump"]
    if not dump.is_file() or _sha256(dump) != manifest["sha256"]:
        raise BackupError(f"{dump.name} is missing or does not match its checksum: the backup is damaged.")
    return manifest


def _pg_target_empty(database: Mapping[str, Any]) -> None:
    """Create the target database if it does not exist; refuse one that has tables (never restore over data)."""
    libpq_names = {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD"}
    params = {name: str(database[key]) for name, key in libpq_names.items() if database.get(key)}
    name = str(database["NAME"])
    with psycopg.connect(make_conninfo(dbname="postgres", **params), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return
    with psycopg.connect(make_conninfo(dbname=name, **params)) as target:
        row = target.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()
        if row and row[0]:
            raise BackupError(f"The database {name!r} is not empty: restore into a new database.")


def restore(*, directory: Path, database_url: str, material: Mapping[str, str]) -> dict[str, Any]:
    """Restore the backup in ``directory`` into the new database at ``database_url``, after checking the keys."""
    manifest = read_manifest(directory)
    check_keys_match(manifest, material)
    database = environ.Env.db_url_config(database_url)
    vendor = "sqlite" if database["ENGINE"].endswith("sqlite3") else "postgresql"
    if vendor != manifest["vendor"]:
        raise BackupError(f"The backup is of a {manifest['vendor']} database; the target is {vendor}.")
    dump = directory / manifest["dump"]
    if vendor == "postgresql":
        _pg_target_empty(database)
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        _run([*command, "--dbname", str(database["NAME"]), str(dump)], _pg_env(database))
    else:
        target = Path(database["NAME"])
        if target.exists():
            raise BackupError(f"{target} exists: restore into a new database file.")
        source, destination = sqlite3.connect(dump), sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            source.close()
            destination.close()
    return manifest


def verify_restored(*, database_url: str, material: Mapping[str, str]) -> list[str]:
    """Run ``verify_audit`` and ``verify_keys`` against the restored database, with the given keys; their output."""
    env = {**os.environ, "DATABASE_URL": database_url, **{name: value for name, value in material.items()}}
    outputs = []
    for command in ("verify_audit", "verify_keys"):
        result = subprocess.run(  # noqa: S603
            [sys.executable, str(_BASE_DIR / "manage.py"), command],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=_BASE_DIR,
        )
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0:
            raise BackupError(f"{command} failed on the restored database: {output.splitlines()[-1] if output else ''}")
        outputs.append(output)
    return outputs
