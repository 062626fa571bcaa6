"""A whole product stack in subprocesses, for tests that need real websockets or several server processes.

pytest-django's live server is WSGI only and shares the test's in-memory SQLite; websockets need the ASGI app served by
daphne, and "two server processes" needs a database both can reach. A :class:`Stack` therefore prepares its own
database — a fresh PostgreSQL database when ``DATABASE_URL`` points at PostgreSQL (.ci/run's second pass), a SQLite
file otherwise — migrates it, seeds the demo data, and starts ``manage.py serve_demo`` processes on free loopback ports
(the product's own server command: daphne plus the periodic jobs). The channel layer is Redis when ``REDIS_URL`` is set
(with a prefix of the stack's own) and the in-memory layer otherwise, which reaches only one process's sockets.

Tests talk to the stack over HTTP and websockets only, as a browser would; they never share its database connection.
"""

from __future__ import annotations

import base64
import contextlib
import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "demo-heslo-2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prod_environment(workdir: Path, *, database_url: str, redis_url: str = "redis://127.0.0.1:1/0") -> dict[str, str]:
    """An environment for ``config.settings.prod`` with freshly generated throwaway secrets.

    Nothing comes from the developer's environment or key file (``KEY_FILE`` points at a file that does not exist), so
    a test proves what an operator's fresh installation needs. Loopback only; e-mail goes to a file under ``workdir``.
    """

    def key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "PYTHONUNBUFFERED": "1",
        "KEY_FILE": str(workdir / "no-such-key-file.env"),
        "LOG_DIR": str(workdir / "log"),
        "STATIC_ROOT": str(workdir / "static"),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_KEKS": f"smoke:{key()}",
        "AUDIT_HMAC_KEY": key(),
        "BLIND_INDEX_KEY": key(),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_URL": "smtp://127.0.0.1:1",
    }


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _with_database(url: str, name: str, *, keep_query: bool = True) -> str:
    """``url`` with its database name replaced (options such as ``?conn_max_age=`` kept for Django's URLs)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}", query=parts.query if keep_query else ""))


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


#: The production server command (README, "Production"): one daphne process per port; ``{port}`` is filled in.
DAPHNE = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", "config.asgi:application"]

#: Creates a partner user (a school's teacher) with one unread notification; argv: username, password.
PARTNER_SCRIPT = """
import sys
from django.db import transaction
from casework.models import Municipality, Organisation, Role, Sector, User
from notifications.models import Kind
from notifications.services import notify
username, password = sys.argv[1:3]
with transaction.atomic():
    orp, _ = Municipality.objects.get_or_create(code="SM", defaults={"name": "Smoke ORP"})
    school, _ = Organisation.objects.get_or_create(
        name="ZS Smoke", municipality=orp, defaults={"sector": Sector.SCHOOL}
    )
    user = User.objects.create_user(
        username=username, password=password, organisation=school, role=Role.PARTNER, email=username + "@example.org"
    )
    notify(recipient_id=user.pk, kind=Kind.TASK_ASSIGNED, case_reference="SM 2026/0001")
"""


@dataclass
class Stack:
    """``prepare`` then ``start`` servers; ``stop`` ends every process it started and drops its database.

    ``base_env`` replaces the test settings' environment (``prod_environment`` for the production smoke test: its
    ``DATABASE_URL``/``REDIS_URL`` are filled in by ``prepare``); ``setup`` are the management commands ``prepare``
    runs (by default migrate and the demo seed).
    """

    workdir: Path
    redis_url: str = field(default_factory=lambda: os.environ.get("REDIS_URL", ""))
    servers: list[Server] = field(default_factory=list)
    _db_name: str = ""
    env: dict[str, str] = field(default_factory=dict)
    base_env: dict[str, str] | None = None
    setup: list[list[str]] = field(default_factory=lambda: [["migrate", "--noinput"], ["seed_demo"]])

    @property
    def db_name(self) -> str:
        return self._db_name

    def prepare(self) -> None:
        """Create the stack's database and run the setup commands on it."""
        tag = uuid.uuid4().hex[:10]
        if self.base_env is not None:
            env = dict(self.base_env)
        else:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_ALLOW_ASYNC"))}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": env.get("DJANGO_SETTINGS_MODULE", "config.settings.test"),
                # The test settings derive the channel prefix from this: one prefix per stack, shared by its servers.
                "PYTEST_XDIST_WORKER": f"stack-{tag}",
                "CHANNEL_PREFIX": f"stack-{tag}",
                "PYTHONUNBUFFERED": "1",
            }
        )
        base = _postgres_url()
        if base is not None:
            self._db_name = f"stack_{tag}"
            self._admin_sql(base, f'CREATE DATABASE "{self._db_name}"')
            env["DATABASE_URL"] = _with_database(base, self._db_name)
        else:
            env["DATABASE_URL"] = f"sqlite:///{self.workdir / 'stack.sqlite3'}"
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        else:
            env.pop("REDIS_URL", None)
        self.env = env
        for command in self.setup:
            self.manage(*command)

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py`` with the stack's environment; a failure raises with its output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
        return result

    def create_partner(self, username: str, password: str = DEMO_PASSWORD) -> None:
        """A partner user with one unread notification, made through the product's own models and services."""
        self.manage("shell", "-c", f"import sys; sys.argv = ['', {username!r}, {password!r}]; exec({PARTNER_SCRIPT!r})")

    def start(self, *, timeout: float = 60.0, command: list[str] | None = None) -> Server:
        """Start one more server process on a free port and wait until /healthz answers 200.

        ``command`` (``{port}`` is filled in) replaces the demo's ``serve_demo``, e.g. :data:`DAPHNE`."""
        port = free_port()
        log = self.workdir / f"server-{port}.log"
        argv = [sys.executable, "manage.py", "serve_demo", "--host", "127.0.0.1", "--port", "{port}"]
        with log.open("wb") as out:
            process = subprocess.Popen(
                [part.replace("{port}", str(port)) for part in (command or argv)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(port=port, process=process, log=log)
        self.servers.append(server)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{server.output()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response,  # noqa: S310
            ):
                if response.status == 200:
                    return server
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer within {timeout} s:\n{server.output()}")

    def stop(self) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.process.terminate()
        for server in self.servers:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=10)
        self.servers.clear()
        base = _postgres_url()
        if base is not None and self._db_name:
            self._admin_sql(base, f'DROP DATABASE IF EXISTS "{self._db_name}" WITH (FORCE)')

    @staticmethod
    def _admin_sql(base: str, sql: str) -> None:
        import psycopg

        admin = _with_database(base, "postgres", keep_query=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql)


@contextlib.contextmanager
def running_stack(workdir: Path, *, servers: int = 1) -> Iterator[Stack]:
    stack = Stack(workdir=workdir)
    try:
        stack.prepare()
        for _ in range(servers):
            stack.start()
        yield stack
    finally:
        stack.stop()


class Session:
    """A logged-in HTTP client for one user against one server (cookies, CSRF), standard library only."""

    def __init__(self, server: Server, username: str, password: str = DEMO_PASSWORD) -> None:
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"username": username, "password": password})
        if "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} failed ({response[0]})")

    @property
    def cookies(self) -> dict[str, str]:
        return {cookie.name: cookie.value or "" for cookie in self.jar}

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.server.url + path, timeout=20) as response:
            return response.status, response.read().decode()

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback URL built from our own server
            self.server.url + path, data=body, headers={"Referer": self.server.url + path}
        )
        with self.opener.open(request, timeout=20) as response:
            return response.status, response.read().decode()

    def websocket_headers(self) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie, "Origin": self.server.url}


def case_id_for(session: Session, reference: str) -> str:
    """The id of the case ``reference`` from the user's case list (as a user would find it)."""
    _, html = session.get("/cases/?status=&scope=all&q=" + urllib.parse.quote(reference))
    match = re.search(r'href="/cases/([0-9a-f-]{36})/"[^>]*>\s*' + re.escape(reference), html)
    if match is None:
        raise LookupError(f"{reference} is not in the case list")
    return match.group(1)


def option_value(html: str, select: str, label: str) -> str:
    """The value of the first ``<option>`` of the ``<select name=...>`` whose text contains ``label``."""
    block = re.search(rf'<select[^>]*name="{re.escape(select)}"[^>]*>(.*?)</select>', html, re.S)
    if block is None:
        raise LookupError(f"no select {select}")
    for value, text in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', block.group(1), re.S):
        if label in text:
            return str(value)
    raise LookupError(f"no option {label!r} in {select}")
