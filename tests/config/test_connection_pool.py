"""Database connections per server process stay within the pool, however many requests it serves.

Under ASGI every request runs its sync code in a fresh thread; with persistent connections (``CONN_MAX_AGE``) each
finished thread left its connection open until garbage collection: 101 sequential requests opened 102 PostgreSQL
sessions. With Django's psycopg pool a process holds at most ``DB_POOL_MAX_SIZE`` sessions.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import psycopg
import pytest

from tests.stack import DAPHNE, Session, Stack, _postgres_url, _with_database

pytestmark = pytest.mark.postgres

POOL_MAX = 3
REQUESTS = 40


def _sessions(database: str) -> int:
    base = _postgres_url()
    assert base is not None
    with psycopg.connect(_with_database(base, "postgres", keep_query=False), autocommit=True) as admin:
        row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database]).fetchone()
    assert row is not None
    return int(row[0])


def test_sequential_requests_open_at_most_the_pool_size_of_sessions(tmp_path: Path) -> None:
    stack = Stack(workdir=tmp_path, setup=[["migrate", "--noinput"]])
    try:
        stack.prepare()
        stack.create_partner("pool-partner")
        stack.env.update({"DB_POOL_MIN_SIZE": "1", "DB_POOL_MAX_SIZE": str(POOL_MAX)})
        server = stack.start(command=DAPHNE)
        session = Session(server, "pool-partner")
        peak = 0
        for n in range(REQUESTS):
            path = "/notifications/" if n % 2 else "/inbox/?" + urllib.parse.urlencode({"n": n})
            status, _ = session.get(path)
            assert status == 200
            peak = max(peak, _sessions(stack.db_name))
        assert 1 <= peak <= POOL_MAX
    finally:
        stack.stop()
