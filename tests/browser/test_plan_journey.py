"""From the case conference to the plan's actions, in the browser, as the team lives it: the coordinator of a case
whose plan is overdue adds the teacher and the paediatrician to the team, schedules a case conference a minute ahead,
records it once it has begun (attendance, how the child took part, the minutes), records two decisions, each with an
owner and a due date, and signs the record off. In the draft plan task the decisions become the plan's actions; the
coordinator writes the goals and the child's views and submits; a supervisor approves from the team queue. The teacher
finds her action in her inbox, never the paediatrician's, and reports it done; the coordinator's plan board shows it
done and the plan downloads as a PDF.

Served by the product's own stack (``tests.stack``: migrate, seed_demo and ``manage.py serve_demo`` on a database of
its own, SQLite or PostgreSQL as the CI pass gives). The test talks to it only as browsers do and makes no ORM call.
Every name and text is fictional.
"""

from __future__ import annotations

import datetime
import io
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.stack import running_stack

from .conftest import NewPage
from .test_case_team_journey import _add_member
from .test_lifecycle_journey import _open_task, _sees_none_of, _task_row
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser]

PRAGUE = ZoneInfo("Europe/Prague")
CASE = "OM 2026/0005"  # the demo case whose plan is overdue (koordinator; the SAS worker is on its team)
COORDINATOR, SUPERVISOR = "koordinator", "vedouci"
TEACHER, TEACHER_NAME, TEACHER_ROLE = "ucitelka", "Eva Procházková", "třídní učitel/ka"
PAEDIATRICIAN, PAEDIATRICIAN_NAME, PAEDIATRICIAN_ROLE = "pediatr", "Hana Vrbová", "praktický lékař pro děti a dorost"

MINUTES = "Konference probrala docházku a zdraví; matka souhlasí se spoluprací. Zkušební zápis PJ-M1."
SCHOOL_DECISION = "Škola zajistí doučování z matematiky dvakrát týdně; zkušební rozhodnutí PJ-D1."
DOCTOR_DECISION = "Lékařka zkontroluje váhu a doplní očkování; zkušební rozhodnutí PJ-D2."
GOALS = ["Dítě chodí do školy každý den; zkušební cíl PJ-G1.", "Dítě má doplněné očkování; zkušební cíl PJ-G2."]
CHILD_VIEWS = "Chce zůstat doma a chodit na florbal; zkušební názor PJ-CV."
PARENTS_VIEWS = "Matka souhlasí s doučováním; zkušební názor PJ-PV."
MEASURE = "Známka z matematiky nejhůře 3; zkušební měřítko PJ-S1."
REPORT = "Doučování probíhá každé úterý a čtvrtek, známka se zlepšila; zkušební zpráva PJ-R1."

# The Czech UI's words (locale/cs).
CONFERENCES = "Případové konference"
SCHEDULE = "Naplánovat případovou konferenci"
DRAFT_PLAN = "Připravit individuální plán ochrany (IPOD)"
APPROVE_PLAN = "Schválit plán ochrany dítěte"
PLAN_ACTION = "Úkol z plánu"
PLAN_BOARD = "Plán ochrany (IPOD)"


def _prague_now() -> datetime.datetime:
    return datetime.datetime.now(PRAGUE)


def _next_minute() -> datetime.datetime:
    """The next whole minute (Prague time), at least 15 seconds away so the form is sent before it."""
    now = _prague_now()
    if now.second >= 45:
        time.sleep(61 - now.second)
        now = _prague_now()
    return now.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)


def _wait_until_it_begins(page: Page, starts: datetime.datetime, button: str) -> None:
    """Reload the conference page until the record form is offered (the conference has begun)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        wait = (starts - _prague_now()).total_seconds()
        if wait > 0:
            time.sleep(wait + 1)
        page.reload()
        if page.get_by_role("button", name=button).count():
            return
        time.sleep(2)
    raise AssertionError("the record form never appeared")


def _open_case(page: Page, base_url: str, reference: str) -> str:
    page.goto(f"{base_url}/cases/")
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Případ {reference}")
    return page.url.rstrip("/")


def test_a_conference_decides_the_plan_whose_actions_reach_their_owners_and_come_back_done(
    tmp_path: Path, new_page: NewPage
) -> None:
    with running_stack(tmp_path) as stack:
        url = stack.servers[0].url

        # 1. The coordinator adds the teacher and the paediatrician to the team.
        coordinator = new_page()
        _log_in(coordinator, url, COORDINATOR)
        case_url = _open_case(coordinator, url, CASE)
        coordinator.get_by_role("link", name="Spravovat tým").click()
        _add_member(coordinator, TEACHER_NAME, TEACHER_ROLE)
        _add_member(coordinator, PAEDIATRICIAN_NAME, PAEDIATRICIAN_ROLE)

        # 2. She schedules a case conference a minute ahead, inviting both and the mother (no account).
        coordinator.goto(case_url + "/")
        coordinator.get_by_role("link", name=CONFERENCES).click()
        coordinator.get_by_role("link", name=SCHEDULE).click()
        starts = _next_minute()
        coordinator.get_by_label("Začátek").fill(starts.strftime("%Y-%m-%dT%H:%M"))
        coordinator.get_by_label("Délka (minuty)").fill("60")
        coordinator.get_by_label("Místo").fill("OSPOD, zasedací místnost 2")
        coordinator.get_by_label(TEACHER_NAME).check()
        coordinator.get_by_label(PAEDIATRICIAN_NAME).check()
        coordinator.locator("input[name=participant_1_name]").fill("Jana Zkušebná")
        coordinator.locator("select[name=participant_1_relation]").select_option("parent")
        coordinator.get_by_role("button", name="Naplánovat a pozvat").click()
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Případová konference")
        expect(coordinator.get_by_role("status")).to_contain_text("naplánována")

        # 3. Once it has begun: attendance, how the child took part, the minutes; two decisions; the sign-off.
        _wait_until_it_begins(coordinator, starts, "Uložit zápis")
        for select in coordinator.locator("select[name^=attendance_]").all():
            select.select_option("attended")
        coordinator.locator("select[name=child_participation]").select_option("views_conveyed")
        coordinator.locator("textarea[name=minutes]").fill(MINUTES)
        coordinator.get_by_role("button", name="Uložit zápis").click()
        expect(coordinator.get_by_role("status")).to_contain_text("Zápis z konference byl uložen")
        today = _prague_now().date()
        for text, owner, days in (
            (SCHOOL_DECISION, TEACHER_NAME, 30),
            (DOCTOR_DECISION, PAEDIATRICIAN_NAME, 21),
        ):
            coordinator.locator("textarea[name=text]").fill(text)
            coordinator.locator("select[name=owner]").select_option(label=owner)
            coordinator.locator("input[name=due_on]").fill((today + datetime.timedelta(days=days)).isoformat())
            coordinator.get_by_role("button", name="Přidat rozhodnutí").click()
            expect(coordinator.get_by_role("region", name="Rozhodnutí")).to_contain_text(text)
        coordinator.locator("#id_sign_off_confirm").check()
        coordinator.get_by_role("button", name="Podepsat zápis").click()
        expect(coordinator.get_by_role("button", name="Uložit zápis")).to_have_count(0)
        expect(coordinator.get_by_role("region", name="Zápis")).to_contain_text("podepsal")

        # 4. The draft plan: the decisions become actions; goals, views, a measure, a goal per action; submitted.
        _open_task(coordinator, url, DRAFT_PLAN, CASE)
        coordinator.get_by_role("button", name="Převzít rozhodnutí").click()
        actions = coordinator.locator("fieldset.plan-action-row")
        expect(actions.nth(0).locator("textarea[name$=-what]")).to_have_value(SCHOOL_DECISION)
        expect(actions.nth(1).locator("textarea[name$=-what]")).to_have_value(DOCTOR_DECISION)
        coordinator.locator("textarea[name=goals]").fill("\n".join(GOALS))
        coordinator.locator("textarea[name=child_views]").fill(CHILD_VIEWS)
        coordinator.locator("textarea[name=parents_views]").fill(PARENTS_VIEWS)
        actions.nth(0).locator("textarea[name$=-success_measure]").fill(MEASURE)
        coordinator.get_by_role("button", name="Uložit koncept").click()
        expect(coordinator.get_by_role("status")).to_contain_text("Koncept byl uložen")
        actions.nth(0).locator("select[name$=-goal]").select_option("1")
        actions.nth(1).locator("select[name$=-goal]").select_option("2")
        coordinator.get_by_role("button", name="Odeslat ke schválení").click()
        expect(coordinator.get_by_role("status")).to_contain_text(f"Případ {CASE}")
        expect(_task_row(coordinator, "Moje úkoly", DRAFT_PLAN, CASE)).to_have_count(0)

        # 5. A supervisor takes the approval from the team queue and approves.
        supervisor = new_page()
        _log_in(supervisor, url, SUPERVISOR)
        supervisor.goto(f"{url}/inbox/")
        queued = _task_row(supervisor, "Fronta týmu", APPROVE_PLAN, CASE)
        expect(queued).to_have_count(1)
        queued.get_by_role("link", name=APPROVE_PLAN).click()
        expect(supervisor.get_by_text(SCHOOL_DECISION)).to_be_visible()
        supervisor.get_by_role("button", name="Převzít úkol").click()
        supervisor.get_by_label("Schválit", exact=True).check()
        supervisor.locator("input[name=confirm]").check()
        supervisor.get_by_role("button", name="Zaznamenat rozhodnutí").click()
        expect(supervisor.get_by_role("status")).to_contain_text(CASE)

        # 6. The teacher finds her action in her inbox, reads it (not the paediatrician's) and reports it done.
        teacher = new_page()
        _log_in(teacher, url, TEACHER)
        _open_task(teacher, url, PLAN_ACTION, CASE)
        expect(teacher.get_by_role("region", name="Co bylo dohodnuto")).to_contain_text(SCHOOL_DECISION)
        expect(teacher.get_by_role("region", name="Co bylo dohodnuto")).to_contain_text(MEASURE)
        _sees_none_of(teacher, (DOCTOR_DECISION, MINUTES, CHILD_VIEWS, GOALS[1]))
        teacher.get_by_label("Vaše zpráva").fill(REPORT)
        teacher.get_by_label("Úkol je splněn").check()
        teacher.get_by_role("button", name="Odeslat zprávu").click()
        expect(teacher.get_by_role("heading", level=1)).to_have_text("Úkoly")
        expect(_task_row(teacher, "Moje úkoly", PLAN_ACTION, CASE)).to_have_count(0)

        # The paediatrician's action is still open in her inbox.
        paediatrician = new_page()
        _log_in(paediatrician, url, PAEDIATRICIAN)
        paediatrician.goto(f"{url}/inbox/")
        expect(_task_row(paediatrician, "Moje úkoly", PLAN_ACTION, CASE)).to_have_count(1)

        # 7. The coordinator's plan board: version 1 approved by the supervisor, the teacher's action done; the PDF.
        coordinator.goto(case_url + "/")
        coordinator.get_by_role("link", name=PLAN_BOARD).click()
        board = coordinator.locator("main")
        expect(board).to_contain_text(SCHOOL_DECISION)
        expect(board).to_contain_text(REPORT)
        expect(board).to_contain_text("Jana Dvořáková")
        with coordinator.expect_download() as download_info:
            coordinator.get_by_role("link", name="Stáhnout jako PDF").click()
        download = download_info.value
        assert download.suggested_filename.endswith(".pdf")
        pdf = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
        text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)  # nbsp and line breaks
        assert CASE in text
        assert "PJ-D1" in text
        assert "PJ-G2" in text
