"""The five core steps three ways, in the bench's own process and database, and the throughput of whole cases.

* ``BareFlow``: a bare viewflow flow of the five core steps — start, triage, a split into two inputs, the join,
  the assessment — each human step completed from code the way viewflow's own views do it (the process lock, then
  assign, start and execute in one transaction).
* :class:`MinimalSql`: the same process as hand-written SQL on two small tables of its own (``bench_sql_process``,
  ``bench_sql_task``): update the task, insert the next ones, lock the process where two branches meet.
* :func:`project_case`: one case of the product from report to approved plan through the services and the flow
  (:func:`bench.journey.case_story`), statements counted with ``CaptureQueriesContext``. ``bench.steps`` (the
  lean-steps work) measures this in depth when it is there; this is the fallback that keeps the key.
* :func:`concurrent_cases_per_s`: whole cases per second with 1 and with 8 clients (processes, one connection each).

Statement counts include BEGIN/COMMIT and savepoints as Django logs them (``CaptureQueriesContext``).
"""

from __future__ import annotations

import contextlib
import itertools
import statistics
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.views import UpdateProcessView
from viewflow.workflow.models import Task

HUMAN_STEPS = ("triage", "input_a", "input_b", "assessment")


class BareFlow(flow.Flow):
    """start → triage → split → input_a, input_b → join → assessment → end, nothing else."""

    process_title = "Bench bare flow"
    lock_impl = lock.SelectForUpdateLock(nowait=False)

    start = flow.StartHandle(this.start_case).Next(this.triage)
    triage = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.split)
    split = flow.Split().Next(this.input_a).Next(this.input_b)
    input_a = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.join)
    input_b = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.join)
    join = flow.Join().Next(this.assessment)
    assessment = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.end)
    end = flow.End()

    def start_case(self, activation: Any, reference: str = "") -> Any:
        activation.process.data = {"reference": reference}
        return activation.process


class _Request:
    def __init__(self, user: Any) -> None:
        self.user = user


def _bare_case(user: Any, n: int, counts: dict[str, int] | None = None) -> None:
    """One bare case; ``counts`` (if given) receives the statements of each step ("start" and the human steps)."""

    def counted(name: str) -> Any:
        if counts is None:
            return contextlib.nullcontext()
        return _Counted(counts, name)

    from workflows.savepoints import as_shipped

    # viewflow as shipped: the product's savepoint-free node bodies (workflows.savepoints) are not the baseline's.
    with as_shipped():
        with counted("start"), transaction.atomic():
            process = BareFlow.start.run(reference=f"B{n}")
        for name in HUMAN_STEPS:
            with counted(name):
                _bare_step(user, process, name)


class _Counted:
    def __init__(self, counts: dict[str, int], name: str) -> None:
        self.counts, self.name = counts, name
        self.captured = CaptureQueriesContext(connection)

    def __enter__(self) -> None:
        self.captured.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.captured.__exit__(*exc)
        self.counts[self.name] = len(self.captured.captured_queries)


def _bare_step(user: Any, process: Any, name: str) -> None:
    task = Task.objects.get(process_id=process.pk, flow_task=getattr(BareFlow, name))
    with transaction.atomic(), BareFlow.lock(process.pk), transaction.atomic():
        task = Task.objects.get(pk=task.pk)
        activation = task.flow_task.activation_class(task)
        if not task.flow_task.can_assign(user, task):
            raise PermissionError
        activation.assign(user)
        if not task.flow_task.can_execute(user, task):
            raise PermissionError
        activation.start(_Request(user))
        activation.task.data = {"outcome": "ok"}
        activation.execute()


class MinimalSql:
    """The five steps in hand-written SQL (one transaction per step)."""

    def __init__(self) -> None:
        pg = connection.vendor == "postgresql"
        self.lock_sql = (
            "SELECT status FROM bench_sql_process WHERE id = %s FOR UPDATE"
            if pg
            else "SELECT status FROM bench_sql_process WHERE id = %s"
        )
        serial = "bigserial PRIMARY KEY" if pg else "integer PRIMARY KEY AUTOINCREMENT"
        with connection.cursor() as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS bench_sql_process (id {serial}, status varchar(16) NOT NULL, "
                "reference varchar(32) NOT NULL, updated timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            )
            c.execute(
                f"CREATE TABLE IF NOT EXISTS bench_sql_task (id {serial}, process_id bigint NOT NULL "
                "REFERENCES bench_sql_process (id), name varchar(16) NOT NULL, status varchar(8) NOT NULL, "
                "owner_id bigint, finished timestamp)"
            )
            c.execute("CREATE INDEX IF NOT EXISTS bench_sql_task_process ON bench_sql_task (process_id)")

    def _done(self, c: Any, task_id: int, user_id: int) -> None:
        c.execute(
            "UPDATE bench_sql_task SET status = 'DONE', owner_id = %s, finished = CURRENT_TIMESTAMP "
            "WHERE id = %s AND status = 'NEW' RETURNING id",
            [user_id, task_id],
        )
        if c.fetchone() is None:
            raise RuntimeError("task not open")

    def _insert(self, c: Any, process_id: int, name: str) -> int:
        c.execute(
            "INSERT INTO bench_sql_task (process_id, name, status) VALUES (%s, %s, 'NEW') RETURNING id",
            [process_id, name],
        )
        return int(c.fetchone()[0])

    def case(self, user_id: int, n: int) -> None:
        with transaction.atomic(), connection.cursor() as c:
            c.execute("INSERT INTO bench_sql_process (status, reference) VALUES ('triage', %s) RETURNING id", [f"S{n}"])
            pid = int(c.fetchone()[0])
            triage = self._insert(c, pid, "triage")
        with transaction.atomic(), connection.cursor() as c:
            self._done(c, triage, user_id)
            inputs = [self._insert(c, pid, "input_a"), self._insert(c, pid, "input_b")]
            c.execute("UPDATE bench_sql_process SET status = 'inputs' WHERE id = %s", [pid])
        assessment = 0
        for task_id in inputs:
            with transaction.atomic(), connection.cursor() as c:
                c.execute(self.lock_sql, [pid])
                c.fetchone()
                self._done(c, task_id, user_id)
                c.execute(
                    "SELECT count(*) FROM bench_sql_task WHERE process_id = %s AND name IN ('input_a', 'input_b') "
                    "AND status <> 'DONE'",
                    [pid],
                )
                if c.fetchone()[0] == 0:
                    assessment = self._insert(c, pid, "assessment")
                    c.execute("UPDATE bench_sql_process SET status = 'assessment' WHERE id = %s", [pid])
        with transaction.atomic(), connection.cursor() as c:
            self._done(c, assessment, user_id)
            c.execute("UPDATE bench_sql_process SET status = 'closed' WHERE id = %s", [pid])


def _measure(run: Callable[[int], None], *, cases: int, counter: itertools.count[int]) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, statements) of ``run`` per case."""
    run(next(counter))  # warm-up
    with CaptureQueriesContext(connection) as queries:
        run(next(counter))
    samples = []
    for _ in range(cases):
        start = time.perf_counter()
        run(next(counter))
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))]
    return statistics.median(samples), p95, len(queries.captured_queries)


def project_case(world: Any, n: int) -> None:
    from bench import journey

    journey.case_story(world, n, "approved", note=False)


def measure_steps(results: dict[str, Any], *, cases: int) -> None:
    """``case_statements``/``case_ms`` (the product), beside the bare viewflow flow and hand-written SQL."""
    from bench import journey

    world = journey.load_world()
    user = get_user_model().objects.get(username="koord1")
    counter = itertools.count(journey.MEASURED_FROM + 500_000)
    sql = MinimalSql()
    bare_ms, bare_p95, bare_statements = _measure(lambda n: _bare_case(user, n), cases=cases, counter=counter)
    sql_ms, sql_p95, sql_statements = _measure(lambda n: sql.case(user.pk, n), cases=cases, counter=counter)
    lean_steps: ModuleType | None
    try:
        from bench import steps as lean_steps  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        lean_steps = None
    case_ms, case_p95, case_statements = _measure(
        lambda n: project_case(world, n), cases=max(2, cases // 4), counter=counter
    )
    results["case_ms"] = round(case_ms, 2)
    results["case_p95_ms"] = round(case_p95, 2)
    results["case_statements_journey"] = case_statements  # bench.journey's path, whatever counts case_statements
    if lean_steps is not None:
        # The lean-steps work's own count (step by step as the pages drive them); the time stays this module's.
        measured = lean_steps.measure_case_statements()
        measured.pop("database", None)
        measured.pop("case_ms", None)
        results.update(measured)
        case_statements = int(measured["case_statements"])
        results["case_statements_source"] = "bench.steps.measure_case_statements"
    else:
        results["case_statements"] = case_statements
        results["case_statements_source"] = "bench.baselines (report → approved plan; bench.steps missing)"
    results["bare_viewflow_statements"] = bare_statements
    results["bare_viewflow_ms"] = round(bare_ms, 2)
    results["bare_viewflow_p95_ms"] = round(bare_p95, 2)
    results["minimal_sql_statements"] = sql_statements
    results["minimal_sql_ms"] = round(sql_ms, 3)
    results["minimal_sql_p95_ms"] = round(sql_p95, 3)
    # The core steps side by side: the product's filing, taking and completing the triage, asking for one input,
    # the input (its join) and the assessment, against the bare flow with its first (non-joining) input left out, so
    # both have one input that closes the join.
    bare_by_step: dict[str, int] = {}
    _bare_case(user, next(counter), bare_by_step)
    bare_core = sum(bare_by_step.values()) - bare_by_step["input_a"]
    results["bare_viewflow_statements_by_step"] = bare_by_step
    results["bare_viewflow_core_statements"] = bare_core
    core_statements = results.get("core_step_statements")
    results["step_vs_bare_viewflow"] = {
        "statements": round(core_statements / bare_core, 2) if core_statements else None,
        "whole_case_statements": round(case_statements / bare_statements, 2),
        "ms": round(case_ms / bare_ms, 2),
        "note": "statements: the core steps (bench.steps.CORE_STEPS, one input) ÷ the bare flow's with one input; "
        "whole_case_statements and ms: the whole product case (report → approved plan) ÷ the whole bare flow",
    }
    results["step_vs_minimal_sql"] = {
        "statements": round(case_statements / sql_statements, 2),
        "ms": round(case_ms / sql_ms, 2),
    }


def measure_audit_lock(results: dict[str, Any]) -> None:
    try:
        from bench import steps as lean_steps  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        results["audit_lock_hold_share"] = "missing"
        results["audit_lock_hold_note"] = "bench.steps.measure_audit_lock_hold() is not there yet"
        return
    measured = lean_steps.measure_audit_lock_hold()
    measured.pop("database", None)
    if "case_ms" in measured:
        measured["audit_lock_case_ms"] = measured.pop("case_ms")
    results.update(measured)


#: How long the measuring process waits for its clients to be ready (each loads the cast on its own connection).
_CLIENT_READY_S = 300.0


def _client_cases(i: int, first: int, seconds: float, start: Any, report: Any) -> None:
    """One client: whole cases from the common start for ``seconds``, on its own connection; puts
    ``(i, done, failed, kinds)`` on ``report``. Runs in a process of its own (or a thread, see below)."""
    from django.db import connections

    from bench import journey

    done = failed = 0
    kinds: dict[str, int] = {}

    def count(exc: BaseException) -> None:
        nonlocal failed
        failed += 1
        cause = exc.__cause__ or exc
        kind = f"{type(exc).__name__}/{type(cause).__name__}"  # exception classes only: messages may quote values
        kinds[kind] = kinds.get(kind, 0) + 1

    try:
        world: Any = None
        try:
            world = journey.load_world()  # opens this client's connection before the start
        except Exception as exc:
            count(exc)
        try:
            start.wait(timeout=_CLIENT_READY_S)  # every client and the measuring process: one common start
        except threading.BrokenBarrierError as exc:  # another never came: no common start, no cases
            if world is not None:
                count(exc)
            world = None
        stop = time.monotonic() + seconds
        n = first + i * 10_000
        while world is not None and time.monotonic() < stop:
            try:
                project_case(world, n)
                done += 1
            except Exception as exc:  # counted: a deadlock or lock timeout is a result here
                count(exc)
            n += 1
    finally:
        report.put((i, done, failed, kinds))
        connections.close_all()


def _shares_memory_database() -> bool:
    """SQLite in memory: another process would see a database of its own (the clients then run as threads)."""
    from django.db import connection

    return connection.vendor == "sqlite" and bool(getattr(connection, "is_in_memory_db", lambda: False)())


def concurrent_cases_per_s(results: dict[str, Any], *, seconds: float, clients: tuple[int, ...] = (1, 8)) -> None:
    """Whole cases (report → approved plan) per second with ``clients`` clients started together, each a **process**
    with its own connection, as production serves requests from several server processes (docs/adr/0012, README
    "The server processes"): client threads of one process would share its GIL, which alone capped 8 ÷ 1 near 1.2 on
    two cores. The rate is the cases finished ÷ the time from the common start to the last client's end. A SQLite
    database in memory cannot be shared between processes: there the clients are threads."""
    import multiprocessing
    import queue

    from django.db import connections

    from bench import journey

    as_threads = _shares_memory_database()
    context = multiprocessing.get_context("fork")
    base = journey.MEASURED_FROM + 600_000
    rates: dict[int, float] = {}
    errors: dict[int, int] = {}
    kinds: dict[str, int] = {}
    for count in clients:
        report: Any
        if as_threads:
            start: Any = threading.Barrier(count + 1)
            report = queue.Queue()
            workers: list[Any] = [
                threading.Thread(target=_client_cases, args=(i, base, seconds, start, report)) for i in range(count)
            ]
        else:
            connections.close_all()  # never share a socket with a forked client
            start = context.Barrier(count + 1)
            report = context.Queue()
            workers = [
                context.Process(target=_client_cases, args=(i, base, seconds, start, report), daemon=True)
                for i in range(count)
            ]
        for worker in workers:
            worker.start()
        with contextlib.suppress(threading.BrokenBarrierError):  # a client never came: counted below
            start.wait(timeout=_CLIENT_READY_S)
        started = time.monotonic()
        done = failed = 0
        for _ in workers:
            try:
                _i, client_done, client_failed, client_kinds = report.get(timeout=seconds + _CLIENT_READY_S)
            except queue.Empty:
                failed += 1
                kinds["ClientLost"] = kinds.get("ClientLost", 0) + 1
                continue
            done += client_done
            failed += client_failed
            for kind, n in client_kinds.items():
                kinds[kind] = kinds.get(kind, 0) + n
        elapsed = time.monotonic() - started
        for worker in workers:
            worker.join(timeout=30)
        rates[count] = done / elapsed
        errors[count] = failed
        base += 100_000
    for count in clients:
        results[f"concurrent_cases_per_s_{count}"] = round(rates[count], 3)
        results[f"concurrent_failed_{count}"] = errors[count]
    results["concurrent_failure_kinds"] = kinds  # exception classes only: messages may quote values
    if 1 in rates and 8 in rates and rates[1]:
        results["concurrent_cases_per_s"] = {
            "1": round(rates[1], 3),
            "8": round(rates[8], 3),
            "ratio_8_vs_1": round(rates[8] / rates[1], 3),
            "clients": "threads" if as_threads else "processes",
        }
