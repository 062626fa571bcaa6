"""The audit head's lock and cases per second with 1 and 8 clients, alone (issue 20, docs/adr/0025).

``make bench-concurrency`` (PostgreSQL from DATABASE_URL): a throw-away database with the bench's cast, then
``bench.steps.measure_audit_lock_hold`` and ``bench.baselines.concurrent_cases_per_s`` — the two figures of
``make bench`` that the audit chain decides — without seeding 100 000 cases first. Prints JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import django

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    connection.settings_dict.get("OPTIONS", {}).pop("pool", None)
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    results: dict[str, Any] = {"database": connection.vendor}
    try:
        from bench import baselines, journey, steps

        journey.build_world()
        for n in range(3):  # warm-up: content types, team roles, data keys of the authority
            journey.case_story(journey.load_world(), journey.MEASURED_FROM + 900_000 + n, "approved", note=False)
        measured = steps.measure_audit_lock_hold(cases=int(os.environ.get("BENCH_CASES", "5")))
        measured.pop("database", None)
        results.update(measured)
        baselines.concurrent_cases_per_s(results, seconds=float(os.environ.get("BENCH_SECONDS", "20")))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
