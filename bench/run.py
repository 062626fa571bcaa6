"""Benchmarks: ratios against a baseline measured in the same run, written to bench/results.json.

Run with ``make bench``. Uses a throw-away test database (a temporary SQLite file by default, or the PostgreSQL named
by DATABASE_URL). Each measure is the median of several rounds of many iterations, so one slow moment doesn't decide.

The notifications benchmark (``bench.notify``) runs its own stack instead: two ``serve_demo`` processes over Redis
(REDIS_URL, else redis://127.0.0.1:6379/8) with 500 sockets; without a reachable Redis it is recorded as skipped.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"


def _timed(*fns: Callable[[], object], iterations: int, rounds: int = 5) -> list[float]:
    """Median milliseconds per call of each of ``fns``, their rounds interleaved (A B C, C B A, A B C, …) so that a
    slow moment of the machine falls on every one of them alike, not on whichever ran then."""
    for fn in fns:
        fn()  # warm up caches and connections
    samples: list[list[float]] = [[] for _ in fns]
    for r in range(rounds):
        order = list(enumerate(fns)) if r % 2 == 0 else list(reversed(list(enumerate(fns))))
        for i, fn in order:
            start = time.perf_counter()
            for _ in range(iterations):
                fn()
            samples[i].append((time.perf_counter() - start) * 1000 / iterations)
    return [statistics.median(s) for s in samples]


def bench_gate(results: dict[str, Any]) -> None:
    from django.db import models

    from casework.compartments import Compartment
    from casework.models import Child, KeyOwnerType, Municipality, Organisation, Role, Sector, User
    from casework.sealing import Keyring, SealedField, SealedModel, seal_values
    from permissions import gate
    from tests.factories.children import register_child

    fields = [f"f{i:02d}" for i in range(20)]

    class BenchRecord(SealedModel):
        """Twenty protected fields of one child, held in memory (never saved)."""

        SEAL_OWNER_TYPE = KeyOwnerType.CHILD
        child_id: Any

        class Meta:
            app_label = "casework"
            managed = False

        def seal_owner_id(self) -> Any:
            return self.child_id

    for name in fields:
        SealedField(compartment=Compartment.BASICS).contribute_to_class(BenchRecord, name)
    models.UUIDField(null=True).contribute_to_class(BenchRecord, "child_id")

    municipality = Municipality.objects.get_or_create(code="OM", defaults={"name": "Olomouc"})[0]
    org = Organisation.objects.create(name="OSPOD", sector=Sector.OSPOD, municipality=municipality)
    user = User.objects.create(username="bench", role=Role.OSPOD_WORKER, organisation=org)
    child = register_child(by=user)
    text = "Dítě chodí do školy nepravidelně, rodina spolupracuje se SAS. " * 3

    sealed = BenchRecord(child_id=child.pk)
    seal_values(sealed, dict.fromkeys(fields, text), Keyring())
    plain = BenchRecord(child_id=child.pk)
    for name in fields:
        setattr(plain, name, text.encode())

    real_open = gate.open_values
    real_keyring = gate.Keyring

    def plaintext_open(row: Any, names: Any, keyring: Any = None) -> dict[str, str]:
        return {name: bytes(getattr(row, name)).decode() for name in names}

    class PlaintextKeyring:
        """Plaintext needs no data keys: nothing to look up before opening."""

        def preload_envelopes(self, envelopes: Any) -> None:
            return None

    def encrypted_read() -> None:
        row = Child.objects.get(pk=child.pk)
        gate.read_rows(user, row, [sealed], fields, purpose="bench")

    def plaintext_read() -> None:
        row = Child.objects.get(pk=child.pk)
        gate.open_values = plaintext_open  # type: ignore[assignment]
        gate.Keyring = PlaintextKeyring  # type: ignore[assignment,misc]
        try:
            gate.read_rows(user, row, [plain], fields, purpose="bench")
        finally:
            gate.open_values = real_open
            gate.Keyring = real_keyring  # type: ignore[misc]

    def bare_read() -> None:
        Child.objects.get(pk=child.pk)

    iterations = int(os.environ.get("BENCH_ITERATIONS", "200"))
    encrypted_ms, plaintext_ms, bare_ms = _timed(
        encrypted_read,
        plaintext_read,
        bare_read,
        iterations=iterations,
        rounds=int(os.environ.get("BENCH_GATE_ROUNDS", "9")),
    )
    results["gate_read_encrypted_vs_plaintext"] = {
        "ratio": round(encrypted_ms / plaintext_ms, 3),
        "encrypted_ms": round(encrypted_ms, 4),
        "plaintext_ms": round(plaintext_ms, 4),
        "goal": "<= 1.3",
        "what": "gate read of 20 protected fields (policy + committed audit row) sealed vs plaintext",
    }
    results["gate_read_vs_bare_read"] = {
        "ratio": round(encrypted_ms / bare_ms, 3),
        "gate_ms": round(encrypted_ms, 4),
        "bare_orm_ms": round(bare_ms, 4),
        "what": "gate read (row load + policy + committed audit row + decryption) vs loading the same row",
    }


def bench_scale(results: dict[str, Any], *, quick: bool) -> None:
    """Pages at two sizes (alternated), the case's statements beside the baselines, the audit lock and throughput."""
    from bench import baselines, pages
    from bench.seed import Databases, counts, use

    small = int(os.environ.get("BENCH_SMALL", "50" if quick else "1000"))
    large = int(os.environ.get("BENCH_LARGE", "200" if quick else "100000"))
    base = int(os.environ.get("BENCH_BASE", "10" if quick else "50"))
    databases = Databases(base=base, log=lambda line: print(line, file=sys.stderr))
    started = time.perf_counter()
    try:
        names = {size: databases.working_copy(size) for size in (small, large)}
        results["seed_s"] = round(time.perf_counter() - started, 1)
        sizes = {}
        for size, name in names.items():
            use(name)
            sizes[str(size)] = counts()
        results["sizes"] = {"small": small, "large": large, "base_stories": base, "counts": sizes}
        pages.measure(
            results,
            small=names[small],
            large=names[large],
            use=use,
            rounds=int(os.environ.get("BENCH_ROUNDS", "2" if quick else "4")),
            iterations=int(os.environ.get("BENCH_PAGE_ITERATIONS", "1" if quick else "10")),
            label_small=str(small),
            label_large=str(large),
        )
        use(names[large])
        baselines.measure_steps(results, cases=int(os.environ.get("BENCH_CASES", "2" if quick else "20")))
        baselines.measure_audit_lock(results)
        baselines.concurrent_cases_per_s(
            results, seconds=float(os.environ.get("BENCH_SECONDS", "2" if quick else "30"))
        )
    finally:
        databases.cleanup()


def _write(out: Path, results: dict[str, Any], started: float) -> None:
    from bench.report import markdown

    results["total_s"] = round(time.perf_counter() - started, 1)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    out.with_suffix(".md").write_text(markdown(results))


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.path.insert(0, str(ROOT))
    if quick:
        os.environ.setdefault("BENCH_ITERATIONS", "5")
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    # One connection per thread, kept for the run: the pool would outlive the database switches.
    connection.settings_dict.get("OPTIONS", {}).pop("pool", None)
    setup_test_environment()
    started = time.perf_counter()
    tmp = tempfile.TemporaryDirectory()
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        # A file, as in the demo: commits cost what they cost on disk.
        connection.settings_dict["TEST"]["NAME"] = str(Path(tmp.name) / "bench.sqlite3")
    run_name = connection.settings_dict["NAME"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    results: dict[str, Any] = {"database": connection.vendor, "quick": quick}
    try:
        bench_gate(results)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        tmp.cleanup()
    connection.settings_dict["NAME"] = run_name
    bench_scale(results, quick=quick)
    out = Path(os.environ.get("BENCH_OUT", str(RESULTS)))
    _write(out, results, started)  # what is measured so far survives a failing notification bench
    if quick and not os.environ.get("BENCH_NOTIFY"):
        results["notify_latency"] = {"skipped": True, "reason": "quick run (BENCH_NOTIFY=1 runs it)"}
    else:
        from bench import notify

        try:
            notify.measure(
                results,
                sockets=int(os.environ.get("BENCH_SOCKETS", "500")),
                notifications=int(os.environ.get("BENCH_NOTIFICATIONS", "500")),
            )
        except RuntimeError as exc:  # the worker's own report; kept short in the results, whole on stderr
            print(exc, file=sys.stderr)
            results["notify_latency"] = {"skipped": True, "reason": f"failed: {str(exc).splitlines()[0]}"}
    _write(out, results, started)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
