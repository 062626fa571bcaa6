"""Seeded databases for the bench, built once and cached between runs.

``base``: migrated, the cast of :func:`bench.journey.build_world`, and ``BENCH_BASE`` stories seeded through the
services (:func:`bench.journey.case_story`). ``size N``: the base multiplied to N cases' worth of stories
(:mod:`bench.multiply`). The cache key is a hash of the migrations, the models and the seeding code, so a change to
any of them builds afresh.

PostgreSQL: cached as template databases ``casework_bench_<key>_<label>`` (``CREATE DATABASE … TEMPLATE`` copies one
in seconds); each run measures on its own copies, named after DATABASE_URL's database. SQLite: cached as files under
``var/bench/``, copied the same way.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / "var" / "bench"
#: What a seeded base depends on besides the migrations: the stories seeded (and BENCH_BASE).
_BASE_CODE = ("bench/journey.py",)
#: What a multiplied size depends on besides its base.
_SIZE_CODE = ("bench/multiply.py",)
#: Migration operations that change no table a seed writes: a migration made only of these is applied to the cached
#: databases (``migrate`` on each working copy) instead of seeding afresh.
_INDEX_ONLY = (
    "AddIndex",
    "RemoveIndex",
    "RenameIndex",
    "AddIndexConcurrently",
    "RemoveIndexConcurrently",
    "CreateExtension",
    "TrigramExtension",
)


def _schema_migrations() -> list[Path]:
    """The migration files that shape the seeded rows: every one but those made only of index operations. (The
    models are not hashed: ``make check-migrations`` keeps them equal to the migrations.)"""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True, load=False)
    loader.load_disk()
    files = []
    for migration in loader.disk_migrations.values():
        ops = migration.operations
        if ops and all(type(op).__name__ in _INDEX_ONLY for op in ops):
            continue
        module = sys.modules[type(migration).__module__]
        files.append(Path(str(module.__file__)))
    return sorted(files)


def _digest(base: int, paths: list[Path]) -> str:
    digest = hashlib.sha256(str(base).encode())
    for path in paths:
        digest.update(str(path.resolve().relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def cache_key(base: int) -> str:
    """The base's key: its size, the seeding code and the schema migrations."""
    return _digest(base, [ROOT / p for p in _BASE_CODE] + _schema_migrations())


def size_key(base: int) -> str:
    """A multiplied size's key: the base's key and the multiplying code."""
    return _digest(base, [ROOT / p for p in (*_BASE_CODE, *_SIZE_CODE)] + _schema_migrations())


# --- Switching the one connection between databases ------------------------------------------------------------


def use(name: str, *, building: bool = False) -> None:
    """Point the default connection at database ``name`` (a PostgreSQL database or a SQLite file). ``building``: a
    database being seeded, whose loss costs nothing but a rebuild — SQLite skips its fsyncs."""
    from django.contrib.contenttypes.models import ContentType

    connection.close()
    connection.settings_dict["NAME"] = name
    ContentType.objects.clear_cache()
    if building and connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")


def _admin(sql: str) -> None:
    """Run a statement outside any database we might copy (PostgreSQL's maintenance database)."""
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql)


def _pg_exists(name: str) -> bool:
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


class Databases:
    """The cached seeded databases and this run's working copies."""

    def __init__(self, *, base: int, log: Callable[[str], None] = print) -> None:
        self.base = base
        self.log = log
        self.key = cache_key(base)
        self.size_key = size_key(base)
        self.pg = connection.vendor == "postgresql"
        self.run_name = str(connection.settings_dict["NAME"])
        self.created: list[str] = []

    # naming
    def _cached(self, label: str) -> str:
        """A cached database's name: named after this run's database (``casework_bench`` gives
        ``casework_bench_<key>_<label>``), so runs with different DATABASE_URLs never share or drop each other's."""
        key = self.key if label.startswith("base") else self.size_key
        if self.pg:
            return f"{self.run_name}_{key}_{label}"
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        return str(CACHE_DIR / f"{key}_{label}.sqlite3")

    def _exists(self, name: str) -> bool:
        return _pg_exists(name) if self.pg else Path(name).exists()

    def _copy(self, source: str, target: str) -> None:
        connection.close()
        if self.pg:
            _admin(f'DROP DATABASE IF EXISTS "{target}"')
            _admin(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
        else:
            Path(target).unlink(missing_ok=True)
            shutil.copyfile(source, target)

    def _rename(self, source: str, target: str) -> None:
        connection.close()
        if self.pg:
            _admin(f'ALTER DATABASE "{source}" RENAME TO "{target}"')
        else:
            Path(source).replace(target)

    def _drop(self, name: str) -> None:
        connection.close()
        if self.pg:
            _admin(f'DROP DATABASE IF EXISTS "{name}"')
        else:
            Path(name).unlink(missing_ok=True)

    # building
    def base_db(self) -> str:
        name = self._cached("base")
        if self._exists(name):
            return self._migrate(name)
        from django.core.management import call_command

        from bench import journey

        building = self._cached("base_building")
        self._drop(building)
        if self.pg:
            _admin(f'CREATE DATABASE "{building}"')
        started = time.perf_counter()
        use(building, building=True)
        call_command("migrate", verbosity=0, interactive=False)
        world = journey.build_world()
        for n in range(self.base):
            journey.case_story(world, n, journey.stage_of(n))
        self.log(f"seeded {self.base} stories through the services in {time.perf_counter() - started:.0f} s")
        self._vacuum()
        self._rename(building, name)
        return name

    def sized(self, cases: int) -> str:
        """The cached database with ``cases`` stories (the base multiplied)."""
        label = f"n{cases}"
        name = self._cached(label)
        if self._exists(name):
            return self._migrate(name)
        from bench.multiply import Multiplier

        base = self.base_db()
        factor = max(1, round(cases / self.base))
        building = self._cached(f"{label}_building")
        self._copy(base, building)
        use(building, building=True)
        started = time.perf_counter()
        if factor > 1:
            Multiplier(log=self.log).run(
                1,
                factor - 1,
                batch=int(os.environ.get("BENCH_SEED_BATCH", "25")),
                processes=int(os.environ.get("BENCH_SEED_PROCESSES", "3")),
            )
        self._vacuum()
        self.log(f"multiplied to {self.base * factor} stories in {time.perf_counter() - started:.0f} s")
        self._rename(building, name)
        return name

    def _vacuum(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if self.pg else "ANALYZE")
        connection.close()

    def working_copy(self, cases: int) -> str:
        """A copy of the sized database for this run to write into (audit rows, the case journeys measured)."""
        source = self.sized(cases)
        target = f"{self.run_name}_{cases}" if self.pg else str(CACHE_DIR / f"run_{cases}.sqlite3")
        self._copy(source, target)
        self.created.append(target)
        return target

    def _migrate(self, name: str) -> str:
        """Apply the index-only migrations newer than a cached database (once: the template keeps them)."""
        from django.core.management import call_command

        use(name)
        call_command("migrate", verbosity=0, interactive=False)
        connection.close()
        return name

    def cleanup(self) -> None:
        connection.close()
        for name in self.created:
            self._drop(name)


def counts() -> dict[str, Any]:
    from casework.models import Case, Report

    return {"cases": Case.objects.count(), "reports": Report.objects.count()}


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.seed [SIZE …]``: build the cached databases only (the base, then each size), timed — to seed
    ahead of ``make bench`` or to measure the seeding alone."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    connection.settings_dict.get("OPTIONS", {}).pop("pool", None)
    sizes = [int(a) for a in (argv if argv is not None else sys.argv[1:])]
    databases = Databases(base=int(os.environ.get("BENCH_BASE", "50")), log=lambda line: print(line, flush=True))
    started = time.perf_counter()
    print(f"base: {databases.base_db()} ({time.perf_counter() - started:.0f} s)", flush=True)
    for size in sizes:
        begun = time.perf_counter()
        print(f"{size}: {databases.sized(size)} ({time.perf_counter() - begun:.0f} s)", flush=True)
    print(f"total {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
