"""A referral in the browser (issue 21): the coordinator finds an SAS with free places in the child's area in the
directory, refers the family with its agreement; the provider's worker logs in, finds the referral among her
referrals, reads the letter (the reason, nothing she was not given), accepts it naming herself, and then opens the case
and sees its services part only — none of the social, school or health notes.

Served by the product's own stack (``tests.stack``: SQLite, or PostgreSQL when ``DATABASE_URL`` says so), so the journey
runs on both databases. The referral pages are driven by element names and form actions, not by their words (their
Czech catalogue is merged later). No ORM call: the test talks to the stack as browsers do.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.stack import running_stack

from .conftest import NewPage
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser]

CHILD = "Matyáš Kolář"  # the demo's second case: coordinated by koordinatorka2, the SAS worker is not on its team
SAS = "SAS Jabloňka"  # free places, serves Olomouc
FULL_SAS = "SAS Modrý most"  # serves Olomouc, no free place
REASON = "Otec potřebuje podporu v péči o syna po škole; doporučujeme terénní SAS."
HIDDEN = ("Otec pečuje sám", "Opakované konflikty", "Vstupní vyšetření")  # social, school, health notes of the case


def _case_path(page: Page, url: str) -> str:
    page.goto(f"{url}/cases/")
    row = page.locator("table.data tbody tr").filter(has_text=CHILD)
    expect(row).to_have_count(1)
    path = row.locator("a").first.get_attribute("href") or ""
    assert re.fullmatch(r"/cases/[0-9a-f-]{36}/", path), path
    return path


def test_coordinator_refers_to_an_sas_with_free_places_provider_accepts_and_sees_the_services_part(
    tmp_path: Path, new_page: NewPage
) -> None:
    with running_stack(tmp_path) as stack:
        url = stack.servers[0].url

        # 1. The coordinator searches the directory: SAS, in Olomouc, with free places.
        coordinator = new_page()
        _log_in(coordinator, url, "koordinatorka2")
        coordinator.goto(f"{url}/services/")
        search = coordinator.get_by_role("search")
        search.locator("select[name=type]").select_option("sas")
        search.locator("select[name=orp]").select_option(label="Olomouc")
        search.locator("input[name=free]").check()
        search.locator("button[type=submit]").click()
        rows = coordinator.locator("table[data-service-rows] tbody tr")
        expect(rows.filter(has_text=SAS)).to_have_count(1)
        expect(rows.filter(has_text=FULL_SAS)).to_have_count(0)

        # 2. She refers the family from the case, with the father's agreement; the letter carries the reason only.
        case_path = _case_path(coordinator, url)
        case_id = case_path.strip("/").split("/")[-1]
        coordinator.goto(url + case_path)
        coordinator.locator(f"a[href='/referrals/case/{case_id}/new/']").click()
        form = coordinator.locator("form.stacked")
        option = form.locator("select[name=service] option").filter(has_text=SAS)
        form.locator("select[name=service]").select_option(option.get_attribute("value") or "")
        form.locator("select[name=referred]").select_option("family")
        form.locator("textarea[name=reason]").fill(REASON)
        form.locator("input[name=include_child]").uncheck()
        form.locator("select[name=given_by]").select_option("father")
        form.locator("input[name=given_by_name]").fill("Radek Kolář")
        form.locator("button[type=submit]").click()
        expect(coordinator).to_have_url(re.compile(rf"{re.escape(url)}/referrals/[0-9a-f-]{{36}}/$"))
        referral_path = coordinator.url[len(url) :]
        expect(coordinator.locator("[data-status]")).to_have_attribute("data-status", "sent")

        # 3. The SAS worker: the referral is in her referrals; she reads the letter, not the case.
        worker = new_page()
        _log_in(worker, url, "sas")
        response = worker.goto(url + case_path)
        assert response is not None
        assert response.status == 404
        worker.goto(f"{url}/referrals/")
        worker.locator(f"a[href='{referral_path}']").click()
        letter = worker.locator("[data-letter]")
        expect(letter).to_contain_text(REASON)
        for text in (*HIDDEN, CHILD):
            expect(letter).not_to_contain_text(text)

        # 4. She accepts, naming herself with the SAS worker's role on the case.
        accept = worker.locator("form[action$='/accept/']")
        role = accept.locator("select[name=team_role] option").filter(has_text="SAS")
        accept.locator("select[name=team_role]").select_option(role.get_attribute("value") or "")
        accept.locator("button[type=submit]").click()
        expect(worker.locator("[data-status]")).to_have_attribute("data-status", "accepted")

        # 5. Now on the team: the case opens with the services part only.
        worker.locator(f"a.button[href='{case_path}']").click()
        expect(worker).to_have_url(url + case_path)
        expect(worker.get_by_role("heading", level=1)).to_be_visible()
        expect(worker.locator("main")).to_contain_text(CHILD)
        content = worker.content()
        for text in HIDDEN:
            assert text not in content

        # 6. The coordinator sees the referral accepted on the case page.
        coordinator.goto(url + case_path)
        section = coordinator.locator("#referrals")
        expect(section).to_contain_text(SAS)
        expect(section.locator("tbody tr")).to_have_count(1)
