"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Why these choices: there is no internet to download Playwright's own browser, so the suite uses ``/usr/bin/chromium``
from apt (``make test`` installs it) and *fails* without it: a silent skip would let a green run hide that no browser
test ran. Playwright's sync API runs an event loop in the test thread, so Django's ORM refuses calls from the test body
unless ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set; that is acceptable here, and only here, because the loop belongs to
Playwright and no Django code runs on it. When a test fails, every page it still has open is saved as a screenshot in
``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

_call_failed = pytest.StashKey[bool]()

NewPage = Callable[..., Page]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember whether the test body failed, so the page fixture knows to take screenshots in its teardown."""
    report = yield
    if report.when == "call":
        item.stash[_call_failed] = report.failed
    return report


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in the test thread while it is open,
# and async_to_sync (websocket consumer tests) refuses to run in a thread with a running loop. Closing Playwright after
# each browser module leaves the worker's thread clean for whatever test xdist gives it next.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM}: run `make chromium` "
            "(or `apt-get install -y chromium`). Never `playwright install`.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[NewPage]:
    """Open a page in a fresh browser context (its own cookies), Czech by default like an office computer here."""
    contexts = []

    # pytest-django's live server is WSGI: it cannot serve the notifications websocket, and the page's reconnect loop
    # would keep hitting it (and the shared in-memory test database) while the test's teardown flushes the database.
    # Such sockets are answered by Playwright instead (open, silent). Tests on a real ASGI stack get real sockets.
    fake_websockets = "live_server" in request.fixturenames

    def open_page(locale: str = "cs-CZ", **context_options: Any) -> Page:
        context = browser.new_context(locale=locale, **context_options)
        context.set_default_timeout(10_000)
        if fake_websockets:
            context.route_web_socket(re.compile(r".*/ws/.*"), lambda socket: None)
        contexts.append(context)
        return context.new_page()

    yield open_page

    if request.node.stash.get(_call_failed, False):
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for n, page in enumerate(p for context in contexts for p in context.pages if not p.is_closed()):
            page.screenshot(path=str(ARTIFACTS / f"{stem}-{n}.png"), full_page=True)
    for context in contexts:
        context.close()
