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
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / "var" / "bench"
_HASHED = (
    "*/migrations/*.py",
    "*/models/*.py",
    "*/models.py",
    "bench/journey.py",
    "bench/multiply.py",
    "bench/seed.py",
)


def cache_key(base: int) -> str:
    digest = hashlib.sha256(str(base).encode())
    for pattern in _HASHED:
        for path in sorted(ROOT.glob(pattern)):
            if ".venv" in path.parts:
                continue
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


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
        self.pg = connection.vendor == "postgresql"
        self.run_name = str(connection.settings_dict["NAME"])
        self.created: list[str] = []

    # naming
    def _cached(self, label: str) -> str:
        if self.pg:
            return f"casework_bench_{self.key}_{label}"
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        return str(CACHE_DIR / f"{self.key}_{label}.sqlite3")

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
            return name
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
            return name
        from bench.multiply import Multiplier

        base = self.base_db()
        factor = max(1, round(cases / self.base))
        building = self._cached(f"{label}_building")
        self._copy(base, building)
        use(building, building=True)
        started = time.perf_counter()
        if factor > 1:
            Multiplier(log=self.log).run(1, factor - 1)
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

    def cleanup(self) -> None:
        connection.close()
        for name in self.created:
            self._drop(name)


def counts() -> dict[str, Any]:
    from casework.models import Case, Report

    return {"cases": Case.objects.count(), "reports": Report.objects.count()}
