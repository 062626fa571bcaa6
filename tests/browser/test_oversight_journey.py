"""The DPO audits access: a coordinator reads a case; the DPO finds the coordinator in Access oversight, opens their
report, and downloads it as CSV — the reads are there, the child is not. The pages pass axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from permissions.models import AuditAction, AuditEvent
from workflows.management.commands.seed_demo import DEMO_CHILDREN, DEMO_PASSWORD, seed_all

from .conftest import NewPage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Uživatelské jméno").fill(username)
    page.get_by_label("Heslo").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Přihlásit se").click()


def _violations(page: Page) -> list[dict[str, Any]]:
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return violations


def test_dpo_opens_a_persons_report_and_downloads_it(live_server: LiveServer, new_page: NewPage) -> None:
    data = seed_all()
    case = next(iter(data.cases.values()))
    page = new_page()

    _log_in(page, live_server.url, "koordinator")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    _log_in(page, live_server.url, "poverenec")
    expect(page).to_have_url(f"{live_server.url}/oversight/")
    assert _violations(page) == []
    koordinator = data.users["koordinator"]
    page.locator(f'[data-access-rows] a[href="/oversight/users/{koordinator.pk}/"]').first.click()
    expect(page).to_have_url(f"{live_server.url}/oversight/users/{koordinator.pk}/")
    expect(page.locator("[data-access-rows] tbody tr").first).to_be_visible()
    expect(page.locator("[data-access-rows]")).to_contain_text(case.reference)
    assert _violations(page) == []

    with page.expect_download() as download_info:
        page.locator('[data-export="csv"]').click()
    content = download_info.value.path().read_text(encoding="utf-8-sig")
    assert case.reference in content
    assert "koordinator" in content
    for child in DEMO_CHILDREN:
        assert child.given_name not in content
        assert child.family_name not in content
        assert child.birth_number not in content
    assert AuditEvent.objects.filter(actor=data.users["poverenec"], action=AuditAction.EXPORT).count() == 1

    page.goto(f"{live_server.url}/oversight/anomalies/")
    assert _violations(page) == []
