"""The case file read back, in the browser, as the team writes it: the coordinator of a demo case asks the class
teacher for her input; the teacher sends it from her inbox and finds it on the case file, under the assessment, as her
own — and nothing of the social part; the coordinator writes the assessment and reads it on the case file with the
teacher's input (author, role, date), then on the process page and in the plan's draft, which he submits; the
supervisor who approves the plan sees on the approval page the assessment the plan rests on.

Served by the product's own stack (``tests.stack``: migrate, seed_demo and ``manage.py serve_demo`` on a database of
its own, SQLite or PostgreSQL as the CI pass gives), so the journey runs on both databases. The test talks to it only as
browsers do and makes no ORM call. Every page it visits is checked with axe-core: no violation at all. Every name and
text is fictional.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.stack import running_stack

from .conftest import NewPage
from .test_lifecycle_journey import ASSESS, INPUT, PLAN, REQUEST_INPUTS, _open_task, _sees_none_of, _task_row
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser]

# The demo case whose coordinator has not asked for inputs yet (koordinator; the teacher is on its team).
CASE = "OM 2026/0001"
COORDINATOR, SUPERVISOR = "koordinator", "vedouci"
TEACHER, TEACHER_NAME, TEACHER_ROLE = "ucitelka", "Eva Procházková", "třídní učitel/ka"
APPROVE_PLAN = "Schválit plán ochrany dítěte"

TEACHER_INPUT = "Ve třídě pracuje soustředěně, svačinu nosí zřídka, matka na schůzky nechodí; zkušební podklad CF-I1."
ASSESSMENT = {
    "Potřeby dítěte": "Pravidelná strava a dohled nad přípravou do školy; zkušební vyhodnocení CF-A1.",
    "Schopnost rodičů je naplňovat": "Matka pracuje na směny a péči zvládá jen částečně; CF-A2.",
    "Rodinné a sociální prostředí": "Byt 1+1, dluh na nájemném se splácí; CF-A3.",
    "Názor a přání dítěte": "Chce zůstat doma a chodit do své třídy; CF-A4.",
}
GOAL = "Dítě chodí do školy každý den nasvačené; zkušební cíl CF-G1."


def _assert_no_violations(page: Page, where: str, found: dict[str, list[str]]) -> None:
    results: Any = Axe().run(page)
    violations = results.response["violations"]
    if violations:
        found[where] = [f"{v['id']} ({v.get('impact')}): {[n['target'] for n in v['nodes']][:3]}" for v in violations]


def _case_file(page: Page, base_url: str) -> Locator:
    page.goto(f"{base_url}/cases/")
    page.get_by_role("link", name=CASE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Případ {CASE}")
    return page.locator("section#assessment")


def test_the_teachers_input_and_the_assessment_are_read_back_on_the_case_file_and_at_the_plans_approval(
    tmp_path: Path, new_page: NewPage
) -> None:
    found: dict[str, list[str]] = {}
    with running_stack(tmp_path) as stack:
        url = stack.servers[0].url

        # 1. The coordinator asks the teacher for her input.
        coordinator = new_page()
        _log_in(coordinator, url, COORDINATOR)
        _open_task(coordinator, url, REQUEST_INPUTS, CASE)
        member = coordinator.locator("fieldset").filter(has_text=TEACHER_NAME)
        member.get_by_role("checkbox").check()
        member.get_by_label("Termín").fill((datetime.date.today() + datetime.timedelta(days=7)).isoformat())
        coordinator.get_by_role("button", name="Požádat o podklady").click()
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Úkoly")

        # 2. The teacher sends it from her inbox, then reads it back on the case file as her own.
        teacher = new_page()
        _log_in(teacher, url, TEACHER)
        _open_task(teacher, url, INPUT, CASE)
        teacher.get_by_role("textbox", name="Váš podklad").fill(TEACHER_INPUT)
        teacher.get_by_role("button", name="Odeslat podklad").click()
        expect(teacher.get_by_role("status")).to_have_text(f"Případ {CASE}: váš podklad byl odeslán.")
        block = _case_file(teacher, url)
        own = block.locator("article.assessment__input").filter(has_text=TEACHER_INPUT)
        expect(own).to_have_count(1)
        expect(own).to_contain_text(TEACHER_NAME)
        expect(own).to_contain_text(TEACHER_ROLE)
        _assert_no_violations(teacher, "case file (teacher)", found)

        # 3. The coordinator writes the assessment; the case file shows it with the teacher's input.
        _open_task(coordinator, url, ASSESS, CASE)
        for label, text in ASSESSMENT.items():
            coordinator.get_by_role("textbox", name=label).fill(text)
        coordinator.get_by_role("button", name="Uložit vyhodnocení").click()
        expect(coordinator.get_by_role("status")).to_have_text(f"Případ {CASE}: vyhodnocení bylo uloženo.")
        block = _case_file(coordinator, url)
        for text in ASSESSMENT.values():
            expect(block).to_contain_text(text)
        given = block.locator("article.assessment__input").filter(has_text=TEACHER_INPUT)
        expect(given).to_contain_text(TEACHER_NAME)
        expect(given).to_contain_text(TEACHER_ROLE)
        expect(coordinator.locator("section#tasks")).to_contain_text(PLAN)
        _assert_no_violations(coordinator, "case file (coordinator)", found)

        # The teacher still reads her input, and nothing of the assessment (social and child's-voice parts).
        _case_file(teacher, url)
        expect(teacher.locator("section#assessment")).to_contain_text(TEACHER_INPUT)
        _sees_none_of(teacher, tuple(ASSESSMENT.values()))

        # 4. The process page and the plan's draft show the same assessment; the draft is submitted.
        coordinator.get_by_role("link", name="Průběh případu", exact=True).click()
        expect(coordinator.locator("section#assessment")).to_contain_text(ASSESSMENT["Potřeby dítěte"])
        _assert_no_violations(coordinator, "process page", found)
        _open_task(coordinator, url, PLAN, CASE)
        expect(coordinator.locator("section#assessment")).to_contain_text(TEACHER_INPUT)
        _assert_no_violations(coordinator, "plan draft", found)
        coordinator.locator("textarea[name=goals]").fill(GOAL)
        coordinator.locator("textarea[name=child_views]").fill(ASSESSMENT["Názor a přání dítěte"])
        coordinator.get_by_role("button", name="Odeslat ke schválení").click()
        expect(coordinator.get_by_role("status")).to_contain_text(f"Případ {CASE}")

        # 5. The supervisor approves the plan seeing the assessment it rests on.
        supervisor = new_page()
        _log_in(supervisor, url, SUPERVISOR)
        supervisor.goto(f"{url}/inbox/")
        queued = _task_row(supervisor, "Fronta týmu", APPROVE_PLAN, CASE)
        expect(queued).to_have_count(1)
        queued.get_by_role("link", name=APPROVE_PLAN).click()
        block = supervisor.locator("section#assessment")
        for text in ASSESSMENT.values():
            expect(block).to_contain_text(text)
        expect(block).to_contain_text(TEACHER_INPUT)
        _assert_no_violations(supervisor, "plan approval", found)
        supervisor.get_by_role("button", name="Převzít úkol").click()
        supervisor.get_by_label("Schválit", exact=True).check()
        supervisor.locator("input[name=confirm]").check()  # approval is irreversible: it asks to confirm
        supervisor.get_by_role("button", name="Zaznamenat rozhodnutí").click()
        expect(supervisor.get_by_role("status")).to_contain_text(CASE)

    assert found == {}, found
