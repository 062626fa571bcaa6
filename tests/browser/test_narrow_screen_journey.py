"""A phone held upright (390 px wide): the inbox and the team page fit the screen; a table wider than the screen
scrolls sideways inside its own wrapper instead of pushing the page, and the pages stay accessible."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from casework.models import Case, TeamMembership
from workflows.management.commands.seed_demo import seed_all

from .conftest import NewPage
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _assert_fits(page: Page) -> None:
    assert _page_width(page) <= PHONE["width"], f"{page.url} is {_page_width(page)} px wide"
    results = Axe().run(page)
    assert [v["id"] for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}] == []


def test_the_inbox_and_the_team_page_fit_a_phone(live_server: LiveServer, new_page: NewPage) -> None:
    seed_all()
    page = new_page(viewport=PHONE)
    _log_in(page, live_server.url, "koordinator")

    page.goto(f"{live_server.url}/inbox/")
    rows = page.locator("table.data tbody tr")
    expect(rows.first).to_be_visible()
    _assert_fits(page)
    # The table is wider than the phone: it scrolls sideways inside its wrapper, and its last column can be reached.
    wrapper = page.locator(".table-wrap").first
    assert wrapper.evaluate("e => e.scrollWidth > e.clientWidth")
    assert wrapper.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    assert wrapper.evaluate("e => { e.scrollLeft = e.scrollWidth; return e.scrollLeft; }") > 0
    assert _page_width(page) <= PHONE["width"]

    case = (
        Case.objects.filter(
            coordinator__username="koordinator", memberships__isnull=False, memberships__ended_at__isnull=True
        )
        .distinct()
        .order_by("opened_at")
        .first()
    )
    assert case is not None
    assert TeamMembership.objects.filter(case=case).exists()
    page.goto(f"{live_server.url}/cases/{case.pk}/team/")
    expect(page.locator("table.data tbody tr").first).to_be_visible()
    _assert_fits(page)

    # The same pages on a desktop keep their ordinary tables.
    wide = new_page(viewport={"width": 1280, "height": 900})
    _log_in(wide, live_server.url, "koordinator")
    wide.goto(f"{live_server.url}/cases/{case.pk}/team/")
    assert wide.locator("table.data thead").first.is_visible()
