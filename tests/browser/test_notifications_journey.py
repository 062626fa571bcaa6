"""Two people, two browsers: the coordinator adds the teacher to a case's team and shares a note with her; the
teacher's open page shows the new notifications at once, without a reload, and their link opens the case.

Served by the product's own server (``tests.stack``: ``manage.py serve_demo`` with its own database), because
pytest-django's live server has no websockets. In the SQLite pass one process serves both people (the in-memory
channel layer reaches only its own process's sockets); with REDIS_URL set (.ci/run's second pass) the coordinator
works on one server process and the teacher's page is connected to another, so the push crosses Redis. The test
talks to the stack as a browser does and makes no ORM call.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.stack import running_stack

from .conftest import NewPage
from .test_case_team_journey import _add_member, _choose
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser]

CASE = "OM 2026/0001"
TEACHER = "vychovny"  # Martin Šťastný (ZŠ Na Vyhlídce): on case 2's team, not on case 1's
TEACHER_NAME = "Martin Šťastný"
TEACHER_ROLE = "výchovný poradce / výchovná poradkyně"
#: Case 1's protected content from the seed data: none of it may reach the teacher's page through the socket.
PROTECTED = ("Anežka", "Pokorná", "145309/1013", "Javorová 12", "samoživitelka", "dluhy na nájemném")
#: Once on the team he reads the case basics: the page asks the server (over HTTP, through the gate) for the child's
#: name beside a live notification. Nothing beyond the basics reaches his page.
CHILD = "Anežka Pokorná"
BEYOND_BASICS = ("145309/1013", "Javorová 12", "samoživitelka", "dluhy na nájemném")


def _badge(page: Page) -> int:
    text = (page.locator("[data-notifications-count]").text_content() or "").strip()
    return int(text) if text.isdigit() else 0


def _csp_violations(page: Page) -> list[str]:
    """Collects what the browser refused under the Content-Security-Policy (it says so on the console)."""
    refused: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", note)
    return refused


def _open_case(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/cases/?status=&scope=all")
    page.get_by_role("link", name=CASE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Případ {CASE}")


def test_the_teachers_open_page_shows_new_notifications_live_and_their_link_opens_the_case(
    tmp_path: Path, new_page: NewPage
) -> None:
    servers = 2 if os.environ.get("REDIS_URL") else 1
    with running_stack(tmp_path, servers=servers) as stack:
        coordinator_url, teacher_url = stack.servers[0].url, stack.servers[-1].url

        # The teacher (a school counsellor) logs in and stays on his inbox; the page opens its notifications socket.
        teacher = new_page()
        teacher_refused = _csp_violations(teacher)
        with teacher.expect_websocket(lambda ws: "/ws/notifications/" in ws.url) as socket_info:
            _log_in(teacher, teacher_url, TEACHER)
            expect(teacher.locator("[data-notifications]")).to_be_attached()
        assert not socket_info.value.is_closed()
        frames: list[str] = []
        socket_info.value.on("framereceived", lambda payload: frames.append(str(payload)))
        teacher.evaluate("window.__notReloaded = true")
        unread_before = _badge(teacher)

        # The coordinator, in another browser, adds him to case 1's team…
        coordinator = new_page()
        coordinator_refused = _csp_violations(coordinator)
        _log_in(coordinator, coordinator_url, "koordinator")
        _open_case(coordinator, coordinator_url)
        case_url = coordinator.url
        coordinator.get_by_role("link", name="Spravovat tým").click()
        _add_member(coordinator, TEACHER_NAME, TEACHER_ROLE)

        # … and his badge goes up while he keeps looking at the same page.
        badge = teacher.locator("[data-notifications-count]")
        expect(badge).to_have_text(str(unread_before + 1))
        expect(badge).to_be_visible()

        # The coordinator shares one of his own notes with him.
        coordinator.goto(case_url)
        coordinator.get_by_role("link", name="Sdílení a souhlasy").click()
        _choose(coordinator, "recipient", TEACHER_NAME)
        note = coordinator.locator("select[name=item] option[value^='note:']", has_text="Petr Novotný").first
        note_value = note.get_attribute("value")
        assert note_value
        coordinator.locator("select[name=item]").select_option(value=note_value)
        coordinator.locator("input[name=purpose]").fill("podpora ve výuce")
        coordinator.locator("input[name=valid_until]").fill(
            (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
        )
        coordinator.get_by_role("button", name="Sdílet").click()
        expect(coordinator.get_by_role("status").first).to_be_visible()

        expect(badge).to_have_text(str(unread_before + 2))
        live = teacher.locator("[data-notifications-live-list] a", has_text=CASE)
        expect(live).to_have_count(2)
        expect(live.first).to_have_text(f"V případu {CASE} s vámi byly sdíleny informace.")
        expect(live.nth(1)).to_have_text(f"Byli jste přidáni do týmu případu {CASE}.")
        assert teacher.evaluate("window.__notReloaded") is True
        expect(teacher.locator("[data-notifications-live-list] [data-child-label]").first).to_contain_text(CHILD)
        assert frames
        for text in PROTECTED:
            assert not any(text in frame for frame in frames), text
        html = teacher.content()
        for text in BEYOND_BASICS:
            assert text not in html

        # The link opens the case, which he may now see.
        live.nth(1).click()
        expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Případ {CASE}")
        assert teacher.url.rstrip("/") == case_url.replace(coordinator_url, teacher_url).rstrip("/")
        # Everything above ran under the Content-Security-Policy without the browser refusing anything.
        assert teacher_refused == []
        assert coordinator_refused == []
