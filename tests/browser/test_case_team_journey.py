"""One child, one team: the coordinator opens a case, builds the team, writes notes and shares one with the teacher;
the teacher sees exactly the basics and the shared note; when her membership ends, her next page load is "not found".
"""

from __future__ import annotations

import datetime
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from casework.models import Case, CaseNote, TeamMembership
from permissions.models import AuditEvent
from workflows.management.commands.seed_demo import JOURNEY_CHILD, seed_all

from .conftest import NewPage
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SOCIAL_NOTE = "Rodina žije ve stísněném podnájmu, otec je bez práce"
SCHOOL_RELEVANT_NOTE = "Doporučuji škole nabídnout doučování z matematiky"
HEALTH_NOTE = "Dítě užívá léky na astma, kontrola za tři měsíce"


def _main_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Hlavní navigace").get_by_role("link", name=name).click()


def _write_note(page: Page, compartment: str, text: str) -> None:
    page.get_by_role("link", name="Napsat záznam").click()
    page.locator("select[name=compartment]").select_option(value=compartment)
    page.locator("textarea[name=text]").fill(text)
    page.get_by_role("button", name="Uložit záznam").click()
    expect(page.get_by_text(text)).to_be_visible()


def _choose(page: Page, select: str, text: str) -> None:
    """Pick the option of ``select`` whose label contains ``text`` (a person's name with their organisation)."""
    value = page.locator(f"select[name={select}] option", has_text=text).get_attribute("value")
    assert value
    page.locator(f"select[name={select}]").select_option(value=value)


def _add_member(page: Page, person: str, team_role: str) -> None:
    _choose(page, "user", person)
    page.locator("select[name=team_role]").select_option(label=team_role)
    page.get_by_role("button", name="Přidat do týmu").click()
    expect(page.get_by_role("rowheader", name=person)).to_be_visible()


def test_coordinator_builds_the_team_shares_one_note_and_ends_the_teachers_membership(
    live_server: LiveServer, new_page: NewPage
) -> None:
    seed_all()
    page = new_page()
    _log_in(page, live_server.url, "koordinator")

    # Find the demo child by birth number and open a case.
    cases_before = Case.objects.count()
    _main_nav(page, "Děti")
    page.locator("#id_birth_number").fill(JOURNEY_CHILD)
    page.get_by_role("button", name="Hledat").click()
    page.get_by_role("link", name="Otevřít případ").click()
    # Forgetting the reason is a field error; nothing is opened.
    page.get_by_role("button", name="Otevřít případ").click()
    expect(page.get_by_text("Toto pole je povinné.")).to_be_visible()
    assert Case.objects.count() == cases_before
    page.locator("select[name=reason]").select_option(value="report")
    page.get_by_role("button", name="Otevřít případ").click()
    year = datetime.date.today().year
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(rf"Případ OM {year}/\d{{4}}"))
    case = Case.objects.get(pk=page.url.rstrip("/").rsplit("/", 1)[-1])
    assert (case.status, case.coordinator.username) == ("open", "koordinator")
    case_url = page.url

    # Opening a second case for the same child is refused with a field error.
    page.goto(f"{live_server.url}/cases/open/{case.child_id}/")
    page.locator("select[name=reason]").select_option(value="report")
    page.get_by_role("button", name="Otevřít případ").click()
    expect(page.get_by_text(f"Dítě už má otevřený případ: {case.reference}.")).to_be_visible()
    assert Case.objects.filter(child_id=case.child_id).count() == 1

    # The team: the class teacher and the paediatrician; adding the teacher twice is refused.
    page.goto(case_url)
    page.get_by_role("link", name="Spravovat tým").click()
    _add_member(page, "Eva Procházková", "třídní učitel/ka")
    _add_member(page, "Hana Vrbová", "praktický lékař pro děti a dorost")
    assert page.locator("select[name=user] option", has_text="Eva Procházková").count() == 0
    assert TeamMembership.objects.filter(case=case, ended_at__isnull=True).count() == 2
    results = Axe().run(page)
    assert [v["id"] for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}] == []

    # Notes: a social note, an OSPOD note meant for the school, and a health note.
    page.goto(case_url)
    _write_note(page, "social", SOCIAL_NOTE)
    _write_note(page, "social", SCHOOL_RELEVANT_NOTE)
    _write_note(page, "health", HEALTH_NOTE)
    for text in (SOCIAL_NOTE, SCHOOL_RELEVANT_NOTE, HEALTH_NOTE):
        assert text not in page.url

    # Share the school-relevant note with the teacher, for a purpose, until a day.
    note = CaseNote.objects.filter(case=case, compartment="social").order_by("created_at").last()
    assert note is not None
    page.get_by_role("link", name="Sdílení a souhlasy").click()
    _choose(page, "recipient", "Eva Procházková")
    page.locator("select[name=item]").select_option(value=f"note:{note.pk}")
    page.locator("input[name=purpose]").fill("podpora ve výuce")
    page.locator("input[name=valid_until]").fill((datetime.date.today() + datetime.timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Sdílet").click()
    expect(page.get_by_role("status").first).to_be_visible()

    # The teacher: basics and the shared note, nothing of the social or health notes.
    teacher = new_page()
    _log_in(teacher, live_server.url, "ucitelka")
    _main_nav(teacher, "Případy")
    teacher.get_by_role("link", name=case.reference).click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Případ {case.reference}")
    expect(teacher.get_by_text("Tobiáš Havelka")).to_be_visible()
    expect(teacher.get_by_text(SCHOOL_RELEVANT_NOTE)).to_be_visible()
    expect(teacher.get_by_text("sdíleno s vámi").first).to_be_visible()
    expect(teacher.get_by_text("Skryto: tuto část spisu vaše role nevidí.").first).to_be_visible()
    html = teacher.content()
    assert SOCIAL_NOTE not in html
    assert HEALTH_NOTE not in html
    assert teacher.get_by_role("link", name="Spravovat tým").count() == 0

    # The coordinator ends the teacher's membership.
    page.goto(case_url)
    page.get_by_role("link", name="Spravovat tým").click()
    page.get_by_role("link", name=re.compile("Ukončit.*Eva Procházková")).click()
    page.locator("select[name=reason]").select_option(value="changed_job")
    page.locator("input[name=confirm]").check()
    page.get_by_role("button", name="Ukončit členství").click()
    expect(page.get_by_role("status").first).to_be_visible()

    # Her very next page load: not found, and nothing of the case on it.
    response = teacher.reload()
    assert response is not None
    assert response.status == 404
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Stránka nenalezena")
    assert SCHOOL_RELEVANT_NOTE not in teacher.content()
    assert "Tobiáš" not in teacher.content()

    assert AuditEvent.objects.filter(case_id=case.pk, actor__username="ucitelka", action="read").exists()
    assert AuditEvent.objects.filter(case_id=case.pk, actor__username="ucitelka", action="deny").exists()
