"""A child without a birth number, in the browser: a teacher reports a boy whose birth number she does not know; the
supervisor triages the report into a case without one (name, date of birth, other identifiers); later the
coordinator adds the number on the child's page, and the register then finds the child by it.

Served by the product's own stack (``tests.stack``: migrate, seed_demo and ``manage.py serve_demo`` on a database of
its own, SQLite or PostgreSQL as the CI pass gives). The pages this feature adds are located by their form fields, not
their words, so the journey does not depend on the Czech catalogue having the new strings yet. Every name and number
is fictional.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories.children import synthetic_birth_number
from tests.stack import running_stack

from .conftest import NewPage
from .test_case_team_journey import _choose
from .test_lifecycle_journey import TRIAGE, _task_row
from .test_shell_journey import _describe, _log_in, _serious_violations

pytestmark = [pytest.mark.browser]

CHILD_GIVEN, CHILD_FAMILY = "Matyáš", "Bezčíselný"
CHILD_BORN = datetime.date(2016, 9, 14)
CHILD_BIRTH_NUMBER = synthetic_birth_number(CHILD_BORN, serial=417)
OTHER_IDENTIFIERS = "v ČR krátce, doklady u otce (smyšlené)"
FACTS = "Matyáš od září do školy nechodí pravidelně; rodné číslo škola nemá, rodina se přistěhovala nedávno."


def test_a_report_without_a_birth_number_becomes_a_case_and_the_number_is_added_later(
    tmp_path: Path, new_page: NewPage
) -> None:
    with running_stack(tmp_path) as stack:
        url = stack.servers[0].url

        # 1. The teacher reports the child by name and date of birth only.
        teacher = new_page()
        _log_in(teacher, url, "ucitelka")
        teacher.get_by_role("navigation", name="Hlavní navigace").get_by_role("link", name="Podat oznámení").click()
        teacher.locator("#id_child_given_name").fill(CHILD_GIVEN)
        teacher.locator("#id_child_family_name").fill(CHILD_FAMILY)
        teacher.locator("#id_child_date_of_birth").fill(CHILD_BORN.isoformat())
        teacher.locator("#id_residence_municipality").fill("Olomouc")  # the child lives there: Olomouc is competent
        teacher.locator("#id_facts").fill(FACTS)
        teacher.get_by_role("button", name="Podat oznámení").click()
        receipt = teacher.get_by_role("status").filter(has_text="pod číslem")
        match = re.search(r"pod číslem (.+)\.$", (receipt.text_content() or "").strip())
        assert match, receipt.text_content()
        report_reference = match.group(1)

        # 2. The supervisor triages it into a case without a birth number.
        supervisor = new_page()
        _log_in(supervisor, url, "vedouci")
        supervisor.goto(f"{url}/inbox/")
        queued = _task_row(supervisor, "Fronta týmu", TRIAGE, report_reference)
        expect(queued).to_have_count(1)
        queued.get_by_role("link", name=TRIAGE).click()
        supervisor.get_by_role("button", name="Převzít posouzení").click()
        expect(supervisor.locator("input[name=birth_number]")).to_have_value("")
        expect(supervisor.locator("input[name=given_name]")).to_have_value(CHILD_GIVEN)
        violations = _serious_violations(supervisor)
        assert violations == [], _describe(violations)
        supervisor.get_by_label("standardní").check()
        supervisor.get_by_label("ano: založit případ").check()
        _choose(supervisor, "coordinator", "Petr Novotný")
        supervisor.locator("#id_other_identifiers").fill(OTHER_IDENTIFIERS)
        supervisor.get_by_role("button", name="Zaznamenat posouzení").click()
        heading = supervisor.get_by_role("heading", level=1)
        expect(heading).to_have_text(re.compile(r"Případ OM \d{4}/\d{4}"))
        case_url = supervisor.url

        # 3. The coordinator opens the child's entry from the case and adds the birth number, now known.
        coordinator = new_page()
        _log_in(coordinator, url, "koordinator")
        coordinator.goto(case_url)
        coordinator.locator("main a[href^='/children/']:not([href='/children/'])").first.click()
        expect(coordinator.get_by_role("heading", level=1)).to_have_text(f"{CHILD_GIVEN} {CHILD_FAMILY}")
        expect(coordinator.get_by_text(OTHER_IDENTIFIERS)).to_be_visible()
        child_url = coordinator.url
        add_form = coordinator.locator("form[action$='/birth-number/']")
        expect(add_form).to_have_count(1)
        violations = _serious_violations(coordinator)
        assert violations == [], _describe(violations)
        add_form.locator("input[name=birth_number]").fill("160914/0000")  # mistyped: a field error, nothing saved
        add_form.locator("button[type=submit]").click()
        expect(coordinator.locator("form[action$='/birth-number/'] .errorlist")).to_be_visible()
        coordinator.locator("form[action$='/birth-number/'] input[name=birth_number]").fill(CHILD_BIRTH_NUMBER)
        coordinator.locator("form[action$='/birth-number/'] button[type=submit]").click()
        expect(coordinator).to_have_url(child_url)
        expect(coordinator.get_by_text(CHILD_BIRTH_NUMBER)).to_be_visible()
        expect(coordinator.locator("form[action$='/birth-number/']")).to_have_count(0)
        assert CHILD_BIRTH_NUMBER.replace("/", "") not in coordinator.url

        # 4. The register now finds the child by the number; the case is still the child's open case.
        coordinator.get_by_role("navigation", name="Hlavní navigace").get_by_role("link", name="Děti").click()
        coordinator.locator("#id_birth_number").fill(CHILD_BIRTH_NUMBER.replace("/", ""))
        coordinator.get_by_role("button", name="Hledat").click()
        expect(coordinator).to_have_url(child_url)
        expect(coordinator.locator(f"a[href='{case_url.removeprefix(url)}']")).to_have_count(1)
