"""The case's life as a workflow, in the browser, as its people live it: a teacher files a report (oznámení) about a
new child; the supervisor takes the triage from the team queue and opens the case with a coordinator; the coordinator
builds the team and asks the teacher and the paediatrician for their inputs; both send them from their inboxes; the
coordinator writes the assessment (Decree No. 473/2012 Coll., § 1) and the case's process page then shows the
protection plan (IPOD) as the step in progress.

Served by the product's own stack (``tests.stack``: migrate, seed_demo and ``manage.py serve_demo`` on a database of
its own, SQLite or PostgreSQL as the CI pass gives), so the flow runs in the same processes a deployment runs. The
test talks to it only as browsers do and makes no ORM call. All along, the teacher who filed the report sees the
number and status of her report and her own task, never the case's content: not what the others wrote, not the
assessment, not the process page.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.factories.children import synthetic_birth_number
from tests.stack import running_stack

from .conftest import NewPage
from .test_case_team_journey import _add_member, _choose
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser]

TEACHER, TEACHER_NAME, TEACHER_ROLE = "ucitelka", "Eva Procházková", "třídní učitel/ka"
PAEDIATRICIAN, PAEDIATRICIAN_NAME, PAEDIATRICIAN_ROLE = "pediatr", "Hana Vrbová", "praktický lékař pro děti a dorost"
SUPERVISOR = "vedouci"
COORDINATOR, COORDINATOR_NAME = "koordinator", "Petr Novotný"

# A fictional child the demo data does not have: the triage registers him.
CHILD_GIVEN, CHILD_FAMILY = "Vojtěch", "Zahrádka"
CHILD_BORN = datetime.date(2015, 4, 17)
CHILD_BIRTH_NUMBER = synthetic_birth_number(CHILD_BORN, serial=231)
FACTS = "Od října chodí Vojtěch do školy bez svačiny a v nevhodném oblečení, dvakrát usnul při vyučování."
TEACHER_INPUT = "Ve třídě je tichý, s učením zvládá, matka na třídní schůzky nechodí, omluvenky chybí."
PAEDIATRICIAN_INPUT = "Při prohlídce hmotnost pod pásmem, očkování neúplné, na kontrolu přichází se sousedkou."
ASSESSMENT = {
    "Potřeby dítěte": "Pravidelná strava, spánek a dohled nad školní docházkou; doplnit očkování.",
    "Schopnost rodičů je naplňovat": "Matka pracuje v noci, péči zvládá jen částečně, pomoc přijímá.",
    "Rodinné a sociální prostředí": "Malý byt, sousedka pomáhá, prarodiče daleko.",
    "Názor a přání dítěte": "Vojtěch chce zůstat doma s maminkou a chodit na fotbal.",
}

# The Czech UI's words (locale/cs): the task titles in the inbox and on the process page.
TRIAGE = "Posouzení naléhavosti"
REQUEST_INPUTS = "Vyžádat od týmu podklady k vyhodnocení"
INPUT = "Podklad k vyhodnocení"
ASSESS = "Sepsat vyhodnocení"
PLAN = "Připravit individuální plán ochrany (IPOD)"


def _task_row(page: Page, section: str, title: str, reference: str) -> Locator:
    """The row of the inbox section (``Moje úkoly`` / ``Fronta týmu``) for a task with this title and number."""
    table = page.get_by_role("region", name=section)
    return (
        table.locator("tr[data-task]")
        .filter(has=page.get_by_role("link", name=title, exact=True))
        .filter(has_text=reference)
    )


def _open_task(page: Page, base_url: str, title: str, reference: str) -> None:
    page.goto(f"{base_url}/inbox/")
    row = _task_row(page, "Moje úkoly", title, reference)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{title}: {reference}")


def _sees_none_of(page: Page, texts: tuple[str, ...]) -> None:
    html = page.content()
    for text in texts:
        assert text not in html, text


def test_report_triage_team_inputs_and_assessment_lead_the_case_to_its_protection_plan(
    tmp_path: Path, new_page: NewPage
) -> None:
    with running_stack(tmp_path) as stack:
        url = stack.servers[0].url
        today = datetime.date.today()

        # 1. The teacher files a report through the main menu, and asks to be told the outcome (§ 10(4)).
        teacher = new_page()
        _log_in(teacher, url, TEACHER)
        teacher.get_by_role("navigation", name="Hlavní navigace").get_by_role("link", name="Podat oznámení").click()
        expect(teacher.get_by_role("heading", level=1)).to_have_text("Podat oznámení")
        teacher.get_by_label("Jméno dítěte").fill(CHILD_GIVEN)
        teacher.get_by_label("Příjmení dítěte").fill(CHILD_FAMILY)
        teacher.get_by_label("Datum narození dítěte").fill(CHILD_BORN.isoformat())
        teacher.get_by_label("Rodné číslo dítěte").fill(CHILD_BIRTH_NUMBER)
        teacher.get_by_label("Kde dítě bydlí").fill("Lipová 7, 779 00 Olomouc")
        teacher.locator("#id_residence_municipality").fill("Olomouc")  # the competent ORP (§ 61(1))
        teacher.get_by_label("Co jste zjistili?").fill(FACTS)
        teacher.get_by_label("Žádám o sdělení, zda bylo dítě vyhodnoceno jako ohrožené").check()
        teacher.get_by_role("button", name="Podat oznámení").click()
        expect(teacher.get_by_role("heading", level=1)).to_have_text("Oznámení podáno")
        receipt = teacher.get_by_role("status").filter(has_text="pod číslem")
        match = re.search(r"pod číslem (.+)\.$", (receipt.text_content() or "").strip())
        assert match, receipt.text_content()
        report_reference = match.group(1)
        _sees_none_of(teacher, (FACTS, CHILD_BIRTH_NUMBER))
        teacher.get_by_role("link", name="Vaše oznámení").click()
        expect(teacher.get_by_role("row", name=report_reference)).to_be_visible()
        _sees_none_of(teacher, (FACTS, CHILD_FAMILY, CHILD_BIRTH_NUMBER))

        # 2. The supervisor takes the triage from the team queue: standard, the child at risk, coordinator chosen.
        supervisor = new_page()
        _log_in(supervisor, url, SUPERVISOR)
        supervisor.get_by_role("navigation", name="Hlavní navigace").get_by_role("link", name="Úkoly").click()
        queued = _task_row(supervisor, "Fronta týmu", TRIAGE, report_reference)
        expect(queued).to_have_count(1)
        queued.get_by_role("link", name=TRIAGE).click()
        expect(supervisor.get_by_role("heading", level=1)).to_have_text(f"{TRIAGE}: {report_reference}")
        expect(supervisor.get_by_text(FACTS)).to_be_visible()
        expect(supervisor.get_by_role("button", name="Zaznamenat posouzení")).to_have_count(0)  # not taken yet
        supervisor.get_by_role("button", name="Převzít posouzení").click()
        expect(supervisor.get_by_role("status")).to_have_text("Úkol je teď váš.")
        expect(supervisor.get_by_role("note").filter(has_text="zatím v evidenci není")).to_be_visible()
        supervisor.get_by_label("standardní").check()
        supervisor.get_by_label("ano: založit případ").check()
        _choose(supervisor, "coordinator", COORDINATOR_NAME)
        expect(supervisor.locator("input[name=birth_number]")).to_have_value(CHILD_BIRTH_NUMBER)
        supervisor.get_by_role("button", name="Zaznamenat posouzení").click()
        heading = supervisor.get_by_role("heading", level=1)
        expect(heading).to_have_text(re.compile(r"Případ OM \d{4}/\d{4}"))
        case_reference = (heading.text_content() or "").removeprefix("Případ ").strip()
        case_url = supervisor.url.rstrip("/")
        expect(supervisor.get_by_role("status")).to_contain_text(
            f"Oznámení {report_reference} bylo posouzeno; patří k případu {case_reference}."
        )
        expect(supervisor.get_by_text(f"{CHILD_GIVEN} {CHILD_FAMILY}")).to_be_visible()

        # The teacher learns that her report was assessed, not what became of it: the case is not hers to see.
        teacher.reload()
        expect(teacher.get_by_role("row", name=report_reference)).to_contain_text("posouzeno")
        teacher.goto(case_url + "/")
        expect(teacher.get_by_role("heading", level=1)).to_have_text("Stránka nenalezena")
        _sees_none_of(teacher, (case_reference, CHILD_FAMILY, FACTS))

        # 3. The coordinator finds the case's first task in his inbox; first he builds the team.
        coordinator = new_page()
        _log_in(coordinator, url, COORDINATOR)
        expect(_task_row(coordinator, "Moje úkoly", REQUEST_INPUTS, case_reference)).to_have_count(1)
        coordinator.goto(case_url + "/")
        coordinator.get_by_role("link", name="Spravovat tým").click()
        expect(coordinator.get_by_role("heading", level=1)).to_have_text(f"Tým případu {case_reference}")
        _add_member(coordinator, TEACHER_NAME, TEACHER_ROLE)
        _add_member(coordinator, PAEDIATRICIAN_NAME, PAEDIATRICIAN_ROLE)

        _open_task(coordinator, url, REQUEST_INPUTS, case_reference)
        due = {
            TEACHER_NAME: today + datetime.timedelta(days=7),
            PAEDIATRICIAN_NAME: today + datetime.timedelta(days=10),
        }
        for name, due_on in due.items():
            member = coordinator.locator("fieldset").filter(has_text=name)
            member.get_by_role("checkbox").check()
            member.get_by_label("Termín").fill(due_on.isoformat())
        coordinator.get_by_role("button", name="Požádat o podklady").click()
        expect(coordinator.get_by_role("status")).to_have_text(
            f"Případ {case_reference}: členové týmu požádáni o podklad (2)."
        )
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Úkoly")
        expect(_task_row(coordinator, "Moje úkoly", REQUEST_INPUTS, case_reference)).to_have_count(0)

        # 4. The teacher and the paediatrician each find their input task in "My tasks", with its due date, and send it.
        paediatrician = new_page()
        _log_in(paediatrician, url, PAEDIATRICIAN)
        for page, name, text in (
            (teacher, TEACHER_NAME, TEACHER_INPUT),
            (paediatrician, PAEDIATRICIAN_NAME, PAEDIATRICIAN_INPUT),
        ):
            _open_task(page, url, INPUT, case_reference)
            expect(page.locator("dl.facts")).to_contain_text(f"{due[name].day}. {due[name].month}. {due[name].year}")
            page.get_by_role("textbox", name="Váš podklad").fill(text)
            page.get_by_role("button", name="Odeslat podklad").click()
            expect(page.get_by_role("status")).to_have_text(f"Případ {case_reference}: váš podklad byl odeslán.")
            expect(_task_row(page, "Moje úkoly", INPUT, case_reference)).to_have_count(0)

        # 5. The coordinator reads both inputs on the assessment task and writes the assessment under § 1's headings.
        _open_task(coordinator, url, ASSESS, case_reference)
        inputs = coordinator.get_by_role("region", name="Podklady od týmu")
        expect(inputs.locator("article")).to_have_count(2)
        expect(inputs).to_contain_text(TEACHER_INPUT)
        expect(inputs).to_contain_text(PAEDIATRICIAN_INPUT)
        for label, text in ASSESSMENT.items():
            coordinator.get_by_role("textbox", name=label).fill(text)
        coordinator.get_by_role("button", name="Uložit vyhodnocení").click()
        expect(coordinator.get_by_role("status")).to_have_text(f"Případ {case_reference}: vyhodnocení bylo uloženo.")
        expect(_task_row(coordinator, "Moje úkoly", ASSESS, case_reference)).to_have_count(0)
        expect(_task_row(coordinator, "Moje úkoly", PLAN, case_reference)).to_have_count(1)

        # 6. The case's process page: the plan is the step in progress, the earlier steps are done, the chart is drawn.
        coordinator.goto(case_url + "/")
        coordinator.get_by_role("link", name="Průběh případu", exact=True).click()
        expect(coordinator.get_by_role("heading", level=1)).to_have_text(f"Průběh případu {case_reference}")
        expect(coordinator.get_by_role("region", name="Kde se případ nachází")).to_contain_text(f"Nyní: {PLAN}")
        current = coordinator.locator("ol.steps li[aria-current=step]")
        expect(current).to_have_count(1)
        expect(current).to_contain_text(PLAN)
        expect(current).to_contain_text("probíhá")
        for step in (REQUEST_INPUTS, INPUT, ASSESS):
            expect(coordinator.locator("ol.steps li", has_text=step)).to_contain_text("splněno")
        history = coordinator.get_by_role("region", name="Dokončené úkoly")
        inputs_done = history.locator("tbody tr", has_text=INPUT)
        expect(inputs_done).to_have_count(2)
        expect(inputs_done.first).to_contain_text(TEACHER_NAME)
        expect(inputs_done.last).to_contain_text(PAEDIATRICIAN_NAME)
        expect(history.locator("tbody tr", has_text=ASSESS)).to_contain_text(COORDINATOR_NAME)
        expect(coordinator.locator(".process-chart svg")).to_be_visible()

        # The teacher, now on the team, still sees none of the case's content beyond her own sector.
        teacher.goto(case_url + "/")
        expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Případ {case_reference}")
        _sees_none_of(teacher, (PAEDIATRICIAN_INPUT, FACTS, *ASSESSMENT.values()))
        expect(teacher.get_by_role("link", name="Průběh případu", exact=True)).to_have_count(0)
        teacher.goto(case_url + "/process/")
        expect(teacher.get_by_role("heading", level=1)).to_have_text("Nemáte přístup")
        _sees_none_of(teacher, (PLAN, ASSESS))
