"""Serve the ASGI app with daphne and run the periodic commands in the same process.

Why one process: the demo uses the in-memory channel layer, which only reaches websockets of its own process, so jobs
that create notifications (deadlines, the outbox relay) must run beside the server (DESIGN invariant 7). Each entry of
``settings.PERIODIC_COMMANDS`` — ``(command name, interval in seconds)`` — becomes an asyncio task on daphne's event
loop that runs the command in a worker thread (``sync_to_async``), so a command's own ``async_to_sync`` calls (a
``group_send``) execute on the server's loop, where the consumers are. A command runs once at start-up and then
``interval`` seconds after its previous run ended, so it never overlaps itself; a failing run is logged and the next
one happens as planned.

Ctrl-C (SIGINT) or SIGTERM stops daphne and cancels the schedule; a command already running is allowed to finish
(its transaction is never cut in half), then the process exits. Static files are served by whitenoise.

Links in e-mails (notifications, conference invitations) are built from ``NOTIFICATIONS_SITE_URL``; unless ``SITE_URL``
is set in the environment, this command points it at the address it serves on (``--host``/``--port``), so a demo on
port 8123 mails links to port 8123. The setting is changed in this process only, where the periodic commands and the
requests that send e-mail run.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connections
from django.utils.module_loading import import_string

logger = logging.getLogger("casework.serve_demo")


def run_command_once(name: str) -> None:
    """Run one management command in the calling (worker) thread, with fresh database connections around it."""
    close_old_connections()
    try:
        call_command(name)
    except Exception:
        logger.exception("Periodic command %s failed; it runs again at its next interval.", name)
    finally:
        connections.close_all()


async def run_periodically(name: str, interval: float, runner: Callable[[str], None] = run_command_once) -> None:
    """Run ``name`` now and then ``interval`` seconds after each run ends, until the task is cancelled."""
    run = sync_to_async(runner, thread_sensitive=False)
    while True:
        await run(name)
        await asyncio.sleep(interval)


def validate_periodic_commands(entries: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Fail at start-up, not an hour later, when an entry names no command or has no positive interval."""
    known = get_commands()
    checked = []
    for entry in entries:
        name, interval = entry
        if name not in known:
            raise CommandError(f"PERIODIC_COMMANDS names an unknown command: {name!r}")
        if not isinstance(interval, int) or interval <= 0:
            raise CommandError(f"PERIODIC_COMMANDS: the interval of {name!r} must be a positive number of seconds")
        checked.append((name, interval))
    return checked


#: Addresses that listen on every interface: a link needs one address that reaches this machine.
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}  # noqa: S104 - names the wildcard, binds nothing


def served_site_url(host: str, port: int) -> str:
    """The address a browser on this machine reaches the server at, for links (``http://127.0.0.1:8123``)."""
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else host
    try:
        if ipaddress.ip_address(shown).version == 6:
            shown = f"[{shown}]"
    except ValueError:  # a host name
        pass
    return f"http://{shown}:{port}"


def link_to_served_address(host: str, port: int) -> str:
    """Point e-mail links at the served address unless ``SITE_URL`` names one; returns the address links use."""
    if not os.environ.get("SITE_URL"):
        settings.NOTIFICATIONS_SITE_URL = served_site_url(host, port)
    return str(settings.NOTIFICATIONS_SITE_URL)


class Command(BaseCommand):
    help = "Serve settings.ASGI_APPLICATION with daphne and run settings.PERIODIC_COMMANDS in the background."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000).")

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here: daphne.server installs Twisted's asyncio reactor on import, which only this command wants.
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from twisted.internet import reactor
        from twisted.internet.defer import Deferred

        # Named by the settings (as daphne's runserver does): no app imports ``config`` (an import contract).
        application = import_string(settings.ASGI_APPLICATION)

        periodic = validate_periodic_commands(getattr(settings, "PERIODIC_COMMANDS", []))
        tasks: list[asyncio.Task[None]] = []

        def start_schedule() -> None:
            loop = asyncio.get_event_loop()
            for name, interval in periodic:
                tasks.append(loop.create_task(run_periodically(name, interval), name=f"periodic:{name}"))
                self.stdout.write(f"Periodic command {name} every {interval} s.")

        def stop_schedule() -> Deferred[Any] | None:
            # Runs while the loop still turns, so the cancellations are delivered before it stops.
            if not tasks:
                return None
            self.stdout.write("Stopping the schedule; a periodic command that is running finishes first.")
            for task in tasks:
                task.cancel()
            return Deferred.fromFuture(asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True)))

        # zope.interface methods have no ``self`` in their signature, which confuses mypy; hence ``Any``.
        reactor_core: Any = reactor
        reactor_core.addSystemEventTrigger("before", "shutdown", stop_schedule)
        host, port = options["host"], options["port"]
        links = link_to_served_address(host, port)
        server = Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            ready_callable=start_schedule,
            signal_handlers=True,
        )
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            # Started in the background of a script, SIGINT comes ignored (inherited), and Twisted takes SIGINT over
            # only from Python's own handler: Ctrl-C (or ``kill -INT``) would then never stop the server.
            signal.signal(signal.SIGINT, signal.default_int_handler)
        self.stdout.write(self.style.SUCCESS(f"Serving on http://{host}:{port}/ (Ctrl-C stops)."))
        self.stdout.write(f"E-mails link to {links}/ (DEBUG is {'on' if settings.DEBUG else 'off'}).")
        server.run()
        self.stdout.write("Stopped.")
