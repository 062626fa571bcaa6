"""Local competence in the browser (§ 61 of Act 359/1999 Coll.): a school in Olomouc reports a child living in
Plumlov, without a birth number; the report lands in Prostějov's queue, where the OSPOD worker on duty (the demo's
roster) triages it at once and opens the case for the child registered by name and date of birth; the family moves
back, so Prostějov's coordinator proposes the transfer and Olomouc's supervisor accepts it, naming the coordinator:
the same file (its address does not change) now carries an Olomouc reference, Prostějov's staff get "not found" and
keep only the stub with both references.

Served by the product's own stack (``tests.stack``, SQLite or PostgreSQL as the CI pass gives). The new pages are
driven by element names, not by their words: the Czech catalogue of these strings is merged later.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.stack import running_stack

from .conftest import NewPage
from .test_case_team_journey import _choose
from .test_lifecycle_journey import TRIAGE, _task_row
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser]

CHILD_GIVEN, CHILD_FAMILY = "Matyáš", "Přikryl"
CHILD_BORN = datetime.date(2014, 9, 21)
FACTS = "Matyáš přišel do školy s popáleninou na ruce a řekl, že doma dnes nikdo není."


def _no_axe_violations(page: Page) -> None:
    results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}]
    assert serious == [], serious


def test_report_goes_to_the_childs_orp_its_duty_worker_triages_and_the_file_moves_back(
    tmp_path: Path, new_page: NewPage
) -> None:
    with running_stack(tmp_path) as stack:
        url = stack.servers[0].url

        # 1. The Olomouc teacher reports a child living in Plumlov (ORP Prostějov); the injury makes it urgent.
        teacher = new_page()
        _log_in(teacher, url, "ucitelka")
        teacher.goto(f"{url}/reports/new/")
        teacher.get_by_label("Jméno dítěte").fill(CHILD_GIVEN)
        teacher.get_by_label("Příjmení dítěte").fill(CHILD_FAMILY)
        teacher.get_by_label("Datum narození dítěte").fill(CHILD_BORN.isoformat())
        # No birth number: the school does not know it (a child who moved here); triage registers the child by name
        # and date of birth (issue 18: children without a birth number have a path to protection).
        teacher.get_by_label("Kde dítě bydlí").fill("Plumlov 88, 798 03 Plumlov")
        teacher.get_by_label("Co jste zjistili?").fill(FACTS)
        teacher.locator("input[name=urgency_hints][value=injury]").check()
        # An unknown municipality first: a field error, nothing filed.
        teacher.locator("#id_residence_municipality").fill("Plumlovice nad Nikde")
        teacher.get_by_role("button", name="Podat oznámení").click()
        expect(teacher.locator("#id_residence_municipality_error")).to_be_visible()
        _no_axe_violations(teacher)
        teacher.locator("#id_residence_municipality").fill("Plumlov")
        teacher.get_by_role("button", name="Podat oznámení").click()
        expect(teacher.get_by_role("heading", level=1)).to_have_text("Oznámení podáno")
        receipt = teacher.get_by_role("status").filter(has_text="pod číslem")
        match = re.search(r"pod číslem (.+)\.$", (receipt.text_content() or "").strip())
        assert match, receipt.text_content()
        report_reference = match.group(1)
        assert report_reference.startswith("PV OZN ")  # Prostějov's report register, not Olomouc's

        # Olomouc's supervisor does not get it.
        olomouc = new_page()
        _log_in(olomouc, url, "vedouci")
        olomouc.goto(f"{url}/inbox/")
        expect(olomouc.get_by_text(report_reference)).to_have_count(0)

        # 2. Prostějov's worker on duty finds it in the team queue, takes it and opens the case.
        duty = new_page()
        _log_in(duty, url, "koordinator_pv")
        duty.goto(f"{url}/inbox/")
        queued = _task_row(duty, "Fronta týmu", TRIAGE, report_reference)
        expect(queued).to_have_count(1)
        queued.get_by_role("link", name=TRIAGE).click()
        expect(duty.get_by_text(FACTS)).to_be_visible()
        duty.get_by_role("button", name="Převzít posouzení").click()
        duty.locator("input[name=urgent][value=urgent]").check()
        duty.locator("input[name=at_risk][value=yes]").check()
        _choose(duty, "coordinator", "Radek Šimek")
        duty.get_by_role("button", name="Zaznamenat posouzení").click()
        heading = duty.get_by_role("heading", level=1)
        expect(heading).to_have_text(re.compile(r"Případ PV \d{4}/\d{4}"))
        prostejov_reference = (heading.text_content() or "").removeprefix("Případ ").strip()
        case_url = duty.url.rstrip("/")
        expect(duty.get_by_text(f"{CHILD_GIVEN} {CHILD_FAMILY}")).to_be_visible()
        _no_axe_violations(duty)

        # 3. The family moves back to Olomouc: the coordinator proposes the transfer; Olomouc's own ORP is refused.
        duty.goto(case_url + "/transfer/")
        duty.locator("select[name=to_municipality]").select_option(label="Prostějov")
        duty.locator("main form button[type=submit]").click()
        expect(duty.locator("#id_to_municipality_error")).to_be_visible()
        duty.locator("select[name=to_municipality]").select_option(label="Olomouc")
        duty.locator("main form button[type=submit]").click()
        expect(duty).to_have_url(case_url + "/")

        # 4. Olomouc's supervisor accepts it on the Competence page and names the coordinator.
        olomouc.goto(f"{url}/competence/")
        offered = olomouc.locator("form").filter(has_text=prostejov_reference)
        expect(offered).to_have_count(1)
        _no_axe_violations(olomouc)
        offered.locator("input[value=accept]").check()
        value = offered.locator("select[name$=new_coordinator] option", has_text="Petr Novotný").get_attribute("value")
        assert value
        offered.locator("select[name$=new_coordinator]").select_option(value=value)
        offered.locator("button[type=submit]").click()
        expect(olomouc).to_have_url(case_url + "/")
        heading = olomouc.get_by_role("heading", level=1)
        expect(heading).to_have_text(re.compile(r"Případ OM \d{4}/\d{4}"))
        olomouc_reference = (heading.text_content() or "").removeprefix("Případ ").strip()
        expect(olomouc.get_by_text(f"{CHILD_GIVEN} {CHILD_FAMILY}")).to_be_visible()

        coordinator = new_page()
        _log_in(coordinator, url, "koordinator")
        coordinator.goto(case_url + "/")
        expect(coordinator.get_by_role("heading", level=1)).to_have_text(f"Případ {olomouc_reference}")

        # 5. Prostějov keeps only the stub: both references, no content; the file itself is "not found".
        response = duty.goto(case_url + "/")
        assert response is not None
        assert response.status == 404
        duty.goto(f"{url}/competence/")
        expect(duty.get_by_role("cell", name=prostejov_reference)).to_be_visible()
        expect(duty.get_by_role("cell", name=olomouc_reference)).to_be_visible()
        html = duty.content()
        assert CHILD_FAMILY not in html
        assert FACTS not in html
        _no_axe_violations(duty)
