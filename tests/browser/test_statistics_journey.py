"""The supervisor opens the statistics, filters a year and downloads the annual return (V (MPSV) 20-01, children at
risk) as XLSX: it opens with openpyxl, equals the page, names no child. The dashboard passes axe-core."""

from __future__ import annotations

import io
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from openpyxl import load_workbook
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


def test_supervisor_filters_a_year_and_downloads_the_annual_return(live_server: LiveServer, new_page: NewPage) -> None:
    data = seed_all()
    year = timezone.localdate().year
    page = new_page()
    _log_in(page, live_server.url, "vedouci")
    page.goto(f"{live_server.url}/statistics/")
    expect(page.locator("#table-cases_opened")).to_be_visible()
    expect(page.locator("svg[role=img]").first).to_be_visible()

    page.locator('[name="year"]').fill(str(year))
    page.locator('[name="orp"]').select_option(str(data.municipality.pk))
    page.locator('form[method="get"] button[type="submit"]').click()
    expect(page).to_have_url(
        f"{live_server.url}/statistics/?year={year}&quarter=&since=&until=&orp={data.municipality.pk}"
    )
    opened = page.locator("#table-cases_opened tr.total td").first.inner_text()
    assert int(opened) > 0  # the demo opened cases this year
    assert _violations(page) == []

    page.locator('a[href^="/statistics/annual-return/"]').click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    with page.expect_download() as download_info:
        page.locator('a[href$="format=xlsx"]').click()
    content = download_info.value.path().read_bytes()
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = {str(row[0]): row[2:] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["301"][0] == int(opened)
    text = " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)
    for child in DEMO_CHILDREN:
        assert child.given_name not in text
        assert child.family_name not in text
    assert AuditEvent.objects.filter(
        actor=data.users["vedouci"], action=AuditAction.EXPORT, object_type="figures.annual_return"
    ).exists()
