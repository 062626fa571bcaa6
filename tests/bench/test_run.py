"""``make bench-quick`` as CI's smoke test: the bench runs at small sizes and writes every key (never timed)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = (
    "gate_read_encrypted_vs_plaintext",
    "case_statements",
    "case_ms",
    "step_vs_bare_viewflow",
    "step_vs_minimal_sql",
    "audit_lock_hold_share",
    "concurrent_cases_per_s",
    "notify_latency",
    "coordinator_inbox_ratio_100k_vs_1k",
    "coordinator_case_list_ratio_100k_vs_1k",
    "coordinator_search_ratio_100k_vs_1k",
    "coordinator_case_page_ratio_100k_vs_1k",
    "coordinator_notifications_ratio_100k_vs_1k",
    "supervisor_inbox_ratio_100k_vs_1k",
    "supervisor_case_list_ratio_100k_vs_1k",
    "supervisor_search_ratio_100k_vs_1k",
    "supervisor_case_page_ratio_100k_vs_1k",
    "supervisor_notifications_ratio_100k_vs_1k",
    "supervisor_oversight_case_ratio_100k_vs_1k",
)


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def test_the_quick_bench_writes_every_key(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {**os.environ, "BENCH_OUT": str(out), "DJANGO_SETTINGS_MODULE": "bench.settings"}
    env.pop("PYTEST_XDIST_WORKER", None)
    if env.get("DATABASE_URL", "").startswith("postgres"):
        # A database name of its own: the bench creates and drops test_<name> and <name>_<size> copies, which must
        # never be this pytest run's own test database.
        server, _, name = env["DATABASE_URL"].rpartition("/")
        env["DATABASE_URL"] = f"{server}/{name.split('?')[0]}_benchq"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    missing = [key for key in REQUIRED if key not in results]
    assert not missing, missing
    for key, value in results.items():
        assert all(math.isfinite(n) for n in _numbers(value)), key
    # Every measured page answered (no 500 hides behind a fast ratio).
    statuses = {k: v["status"] for k, v in results.items() if k.endswith("_detail")}
    assert all(s == [200, 200] for s in statuses.values()), statuses
    assert out.with_suffix(".md").read_text().startswith("Database:")
