"""Commit-to-socket latency of notifications: 500 sockets on 2 server processes over Redis.

Two halves, because the server processes and the measuring process must share one database and one Redis prefix:

* :func:`measure` (called by ``bench.run`` in the ``make bench`` process) checks that Redis answers, builds a
  ``tests.stack.Stack`` (a fresh database — PostgreSQL when ``DATABASE_URL`` names one, else a SQLite file — migrated
  and seeded, and two ``manage.py serve_demo`` processes on loopback with a shared Redis channel layer), then runs the
  worker below in a subprocess with exactly the stack's environment and reads its JSON.
* The worker (``python -m bench.notify worker URL…``) creates the users and their login sessions directly in the
  database (what a login stores: user id, backend, session hash), opens the sockets (half on each server) with asyncio
  + websockets, measures the baselines, then writes notifications with ``notifications.services.notify`` inside
  ``transaction.atomic()`` for random recipients. A commit hook registered before ``notify`` stamps the commit; the
  after-commit push goes from this process through Redis to whichever server holds the recipient's socket; the frame's
  arrival is stamped by the socket's reader. Latency = arrival - commit, per notification.

Baselines measured in the same run: a bare Redis PING round trip, a bare channel-layer ``group_send`` → ``receive``
round trip (one process, through Redis), and a websocket ``ping`` → ``pong`` round trip to a server (which includes
the consumer's session check).

``BENCH_DUMP=<file>`` makes the worker write each measured notification's (commit, arrival) stamps there, to look at
where a slow tail comes from.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
GOAL_P99_MS = 100.0


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` from 0 to 100) of ``samples``."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _summary(name: str, samples: Sequence[float]) -> dict[str, float]:
    return {f"{name}_p50_ms": round(percentile(samples, 50), 3), f"{name}_p99_ms": round(percentile(samples, 99), 3)}


def raise_open_file_limit(needed: int) -> int:
    """Raise the soft limit of open files towards ``needed`` (as far as the hard limit allows); the new soft limit.
    Child processes started afterwards (the servers) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


# --- The make-bench side -------------------------------------------------------------------------------------------


def redis_problem(url: str) -> str | None:
    """Why Redis at ``url`` cannot be used (None when it answers a PING)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"Redis at {url} is unreachable ({type(exc).__name__}: {exc})"
    return None


def measure(
    results: dict[str, Any], *, sockets: int = 500, servers: int = 2, notifications: int = 500, gap_ms: float = 20.0
) -> None:
    """Run the benchmark and put its numbers into ``results`` (or an entry saying why it was skipped)."""
    from tests.stack import Stack

    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    problem = redis_problem(redis_url)
    if problem is not None:
        results["notify_latency"] = {"skipped": True, "reason": problem}
        print(f"notify latency: skipped: {problem}", file=sys.stderr)
        return
    raise_open_file_limit(sockets + 1024)
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as workdir:
        stack = Stack(workdir=Path(workdir), redis_url=redis_url)
        try:
            stack.prepare()
            for _ in range(servers):
                stack.start()
            command = [
                sys.executable,
                "-m",
                "bench.notify",
                "worker",
                *(server.url for server in stack.servers),
                f"--sockets={sockets}",
                f"--notifications={notifications}",
                f"--gap-ms={gap_ms}",
            ]
            # The production push: handed to the sender thread after commit (``BENCH_PUSH_BACKGROUND=0``: the
            # committing thread pushes itself, as before docs/adr/0026-lean-steps-second-pass.md).
            env = {**stack.env, "NOTIFICATIONS_PUSH_BACKGROUND": os.environ.get("BENCH_PUSH_BACKGROUND", "1")}
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                logs = "\n".join(f"--- {s.log.name}\n{s.output()[-3000:]}" for s in stack.servers)
                raise RuntimeError(f"notify bench worker failed ({done.returncode}):\n{done.stderr[-5000:]}\n{logs}")
            measured: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            stack.stop()
    measured["met_goal"] = measured["notify_p99_ms"] < GOAL_P99_MS
    measured["push"] = "background sender" if os.environ.get("BENCH_PUSH_BACKGROUND", "1") == "1" else "inline"
    for key in ("notify_p50_ms", "notify_p99_ms", "redis_rtt_p50_ms", "redis_rtt_p99_ms"):
        results[key] = measured[key]
    results["notify_latency"] = {
        **measured,
        "goal": f"notify_p99_ms < {GOAL_P99_MS:g}",
        "what": (
            "commit of a notify() transaction in the bench process → frame received on the recipient's websocket, "
            f"{measured['sockets']} sockets spread over {measured['servers']} serve_demo processes, Redis channel "
            "layer; baselines: bare Redis PING, channel-layer group_send→receive, websocket ping→pong"
        ),
    }


# --- The worker (runs with the stack's environment) ----------------------------------------------------------------


def _create_people(count: int) -> list[tuple[int, str]]:
    """``count`` partner users with a login session each: [(user id, session key)]."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from casework.models import Organisation, Role, Sector, User

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    organisation = Organisation.objects.exclude(sector=Sector.OSPOD).order_by("name").first()
    prefix = f"bench-{os.getpid()}-"
    with transaction.atomic():
        User.objects.bulk_create(
            User(
                username=f"{prefix}{n:04d}",
                first_name="Bench",
                last_name=f"{n:04d}",
                role=Role.PARTNER,
                organisation=organisation,
                password=make_password(None),
            )
            for n in range(count)
        )
        people = []
        for user in User.objects.filter(username__startswith=prefix).order_by("username"):
            session = store_class()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            assert session.session_key is not None
            people.append((int(user.pk), session.session_key))
    return people


class Sockets:
    """The open websockets, each with a reader task stamping what arrives."""

    def __init__(self) -> None:
        self.connections: list[Any] = []
        self.owner: list[int] = []
        self.arrived: dict[int, float] = {}
        self.pongs: dict[int, asyncio.Queue[float]] = {}
        self.unexpected: list[str] = []
        self.readers: list[asyncio.Task[None]] = []

    async def open(self, urls: Sequence[str], people: Sequence[tuple[int, str]]) -> None:
        from django.conf import settings
        from websockets.asyncio.client import connect

        limit = asyncio.Semaphore(25)

        async def one(n: int, user_id: int, session_key: str) -> Any:
            url = urls[n % len(urls)]
            async with limit:
                return await connect(
                    url.replace("http://", "ws://") + "/ws/notifications/?last_seen=0",
                    additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}", "Origin": url},
                    proxy=None,
                    compression=None,
                    open_timeout=60,
                    ping_interval=None,
                )

        self.connections = await asyncio.gather(*(one(n, u, k) for n, (u, k) in enumerate(people)))
        self.owner = [user_id for user_id, _ in people]
        for n, connection in enumerate(self.connections):
            self.pongs[n] = asyncio.Queue()
            self.readers.append(asyncio.create_task(self._read(n, connection)))

    async def _read(self, n: int, connection: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for raw in connection:
                now = time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "notification":
                    self.arrived.setdefault(int(message["id"]), now)
                elif kind == "pong":
                    self.pongs[n].put_nowait(now)
                else:
                    self.unexpected.append(str(raw)[:200])
        if connection.close_code not in (None, 1000):
            self.unexpected.append(f"socket {n} closed with {connection.close_code}")

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.connections), return_exceptions=True)
        await asyncio.gather(*self.readers, return_exceptions=True)


async def _redis_rtt(url: str, rounds: int) -> list[float]:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    try:
        await client.ping()
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            await client.ping()
            samples.append((time.perf_counter() - start) * 1000)
        return samples
    finally:
        await client.aclose()


async def _layer_rtt(rounds: int) -> list[float]:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    group = f"bench-rtt-{os.getpid()}"
    await layer.group_add(group, channel)
    samples = []
    try:
        for n in range(rounds + 5):
            start = time.perf_counter()
            await layer.group_send(group, {"type": "bench.rtt", "n": n})
            await layer.receive(channel)
            if n >= 5:  # the first few open the connections
                samples.append((time.perf_counter() - start) * 1000)
    finally:
        await layer.group_discard(group, channel)
    return samples


async def _ws_ping_rtt(sockets: Sockets, rounds: int) -> list[float]:
    samples = []
    for n in range(min(rounds, len(sockets.connections))):
        start = time.perf_counter()
        await sockets.connections[n].send('{"type": "ping"}')
        arrived = await asyncio.wait_for(sockets.pongs[n].get(), timeout=10)
        samples.append((arrived - start) * 1000)
    return samples


async def _notify_rounds(
    sockets: Sockets, *, count: int, warm_up: int, gap_ms: float, seed: int
) -> tuple[list[float], int]:
    """Write ``warm_up + count`` notifications, one transaction each, ``gap_ms`` apart; latencies of the last
    ``count`` in ms, and how many of them never arrived."""
    from asgiref.sync import sync_to_async
    from django.db import transaction

    from notifications.models import Kind
    from notifications.services import notify

    committed: dict[int, float] = {}

    def write_one(recipient_id: int, n: int) -> int:
        stamp: list[float] = []
        with transaction.atomic():
            # Registered before notify()'s own hook, so it runs first: right after COMMIT, before the push.
            transaction.on_commit(lambda: stamp.append(time.perf_counter()))
            row = notify(
                recipient_id=recipient_id,
                kind=Kind.TASK_ASSIGNED,
                case_reference="BENCH 0001",
                object_type="bench",
                object_id=n,
            )
        assert row is not None
        committed[row.pk] = stamp[0]
        return int(row.pk)

    # thread_sensitive: one worker thread (one DB connection); its async_to_sync push runs on this event loop.
    write = sync_to_async(write_one, thread_sensitive=True)
    rng = random.Random(seed)
    measured: list[int] = []
    for n in range(warm_up + count):
        row_id = await write(rng.choice(sockets.owner), n)
        if n >= warm_up:
            measured.append(row_id)
        await asyncio.sleep(gap_ms / 1000)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(r not in sockets.arrived for r in measured):
        await asyncio.sleep(0.05)
    latencies = [(sockets.arrived[r] - committed[r]) * 1000 for r in measured if r in sockets.arrived]
    if os.environ.get("BENCH_DUMP"):
        Path(os.environ["BENCH_DUMP"]).write_text(
            json.dumps([[committed[r], sockets.arrived.get(r)] for r in measured])
        )
    return latencies, sum(1 for r in measured if r not in sockets.arrived)


async def _run_worker(urls: list[str], people: list[tuple[int, str]], args: argparse.Namespace) -> dict[str, Any]:
    from channels.layers import get_channel_layer
    from django.conf import settings

    sockets = Sockets()
    started = time.perf_counter()
    await sockets.open(urls, people)
    connect_s = time.perf_counter() - started
    try:
        ws_ping = await _ws_ping_rtt(sockets, 200)
        redis_rtt = await _redis_rtt(settings.REDIS_URL, 1000)
        layer_rtt = await _layer_rtt(300)
        latencies, missing = await _notify_rounds(
            sockets, count=args.notifications, warm_up=20, gap_ms=args.gap_ms, seed=20260601
        )
    finally:
        await sockets.close()
        layer = get_channel_layer()
        flush = getattr(layer, "flush", None)
        if flush is not None:
            with contextlib.suppress(Exception):
                await flush()
    if missing or sockets.unexpected:
        raise RuntimeError(f"{missing} notification(s) never arrived; unexpected: {sockets.unexpected[:10]}")
    return {
        **_summary("notify", latencies),
        "notify_max_ms": round(max(latencies), 3),
        **_summary("redis_rtt", redis_rtt),
        **_summary("layer_rtt", layer_rtt),
        **_summary("ws_ping_rtt", ws_ping),
        "notifications": len(latencies),
        "sockets": len(sockets.connections),
        "servers": len(urls),
        "gap_ms": args.gap_ms,
        "connect_500_sockets_s": round(connect_s, 2),
    }


def worker(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.notify worker")
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--notifications", type=int, default=500)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    raise_open_file_limit(args.sockets + 1024)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, connections

    if not settings.REDIS_URL:
        raise SystemExit("the worker needs REDIS_URL (it runs with the stack's environment)")
    people = _create_people(args.sockets)
    connections.close_all()
    measured = asyncio.run(_run_worker(args.urls, people, args))
    measured["database"] = connection.vendor
    print(json.dumps(measured))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        raise SystemExit(worker(sys.argv[2:]))
    raise SystemExit("usage: python -m bench.notify worker URL [URL…] (bench.run calls measure())")
