"""The service network's directory in the browser: a coordinator looks for an SAS with free places in the child's
ORP for a nine-year-old, opens its card and its printable page; the provider's own worker confirms the card.

Runs on the live server with the demo data, on SQLite and on PostgreSQL (the CI's two passes). The new pages are
driven by element names, not by their words: the Czech catalogue of these strings is merged later.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from casework.models import Municipality
from services.demo import DEMO_SAS_ORGANISATION
from services.models import Service
from workflows.management.commands.seed_demo import seed_all

from .conftest import NewPage
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser]


def _no_serious_axe_violations(page: Page) -> None:
    results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}]
    assert serious == [], serious


SAS_NAME = "SAS Jabloňka – terénní práce s rodinou"  # noqa: RUF001 (Czech en dash)


def test_coordinator_finds_an_sas_with_free_places_in_the_childs_orp_and_opens_its_card(
    live_server: LiveServer, new_page: NewPage
) -> None:
    seed_all()
    olomouc = Municipality.objects.get(code="OM")
    url = live_server.url

    coordinator = new_page()
    _log_in(coordinator, url, "koordinator")
    coordinator.locator("nav.site-nav a[href='/services/']").click()
    expect(coordinator).to_have_url(f"{url}/services/")
    # Some demo cards are stale (not confirmed for months): flagged in the list.
    expect(coordinator.locator("[data-service-rows] [data-stale]").first).to_be_visible()

    coordinator.locator("input[name=q]").fill("rodin")
    coordinator.locator("select[name=type]").select_option("sas")
    coordinator.locator("select[name=orp]").select_option(str(olomouc.pk))
    coordinator.locator("input[name=age]").fill("9")
    coordinator.locator("input[name=free]").check()
    coordinator.locator("form[role=search] button[type=submit]").click()

    rows = coordinator.locator("[data-service-rows] tbody tr")
    expect(rows).to_have_count(1)  # the full SAS (no free place) is left out
    _no_serious_axe_violations(coordinator)
    expect(rows.first).to_contain_text(SAS_NAME)
    rows.first.get_by_role("link", name=SAS_NAME).click()

    expect(coordinator.get_by_role("heading", level=1)).to_have_text(SAS_NAME)
    expect(coordinator.locator("[data-free-places]")).to_have_text("3")
    expect(coordinator.locator("[data-card-type=sas]")).to_be_visible()
    expect(coordinator.locator("a[href$='/edit/']")).to_have_count(0)  # not the coordinator's card to change
    _no_serious_axe_violations(coordinator)

    service = Service.objects.get(name=SAS_NAME)
    coordinator.locator(f"a[href='/services/{service.pk}/print/']").click()
    expect(coordinator.locator("main.print-card h1")).to_have_text(SAS_NAME)
    expect(coordinator.locator("nav.site-nav")).to_have_count(0)  # the printable page has no shell

    # The provider's own worker confirms the card with one free place fewer.
    worker = new_page()
    _log_in(worker, url, "sas")
    worker.goto(f"{url}/services/{service.pk}/edit/")
    _no_serious_axe_violations(worker)
    worker.locator("input[name=free_places]").fill("2")
    worker.locator("form.stacked button[type=submit]").click()
    expect(worker).to_have_url(f"{url}/services/{service.pk}/")
    expect(worker.locator("[data-free-places]")).to_have_text("2")
    assert Service.objects.get(pk=service.pk).provider.organisation.name == DEMO_SAS_ORGANISATION
