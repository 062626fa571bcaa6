"""Forms that keep work, as a person meets them: a note half written when the session ended in another tab comes
back after logging in again; switching the language keeps a half-filled form; the § 6 decision's radio buttons and
the report's checkboxes sit inline with their labels. Every page visited has no serious accessibility violation.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.models import Case, CaseNote, KeptWork
from workflows.flows import ReportFlow
from workflows.management.commands.seed_demo import DEMO_PASSWORD, seed_all

from .conftest import NewPage
from .test_shell_journey import _describe, _log_in, _serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "Matka volala, že se rodina stěhuje k babičce; zkušební záznam 8801."
HALF_FILLED = "Rozepsaný záznam před přepnutím jazyka; zkušební text 8802."

# Where a control's box sits against its label's text (the text after the control inside the <label>).
_INLINE_GEOMETRY = """(selector) => {
  const input = document.querySelector(selector);
  const label = input.closest("label") || document.querySelector(`label[for="${input.id}"]`);
  const range = document.createRange();
  range.selectNodeContents(label);
  if (label.contains(input)) { range.setStartAfter(input); }
  const text = Array.from(range.getClientRects()).find((r) => r.width > 0);
  const box = input.getBoundingClientRect();
  return {
    width: box.width, right: box.right, middle: box.top + box.height / 2,
    textLeft: text.left, textTop: text.top, textBottom: text.bottom,
  };
}"""


def _assert_inline(page: Page, selector: str) -> None:
    """The control is a small box to the left of its label's first line, not a full-width field above it."""
    geometry: dict[str, Any] = page.evaluate(_INLINE_GEOMETRY, selector)
    assert geometry["width"] < 40, geometry
    assert geometry["right"] <= geometry["textLeft"], geometry
    assert geometry["textTop"] - 8 <= geometry["middle"] <= geometry["textBottom"] + 8, geometry


def test_work_survives_an_ended_session_and_the_language_switch_and_choices_sit_inline(
    live_server: LiveServer, new_page: NewPage
) -> None:
    seed_all()
    found: dict[str, str] = {}

    def check(page: Page, label: str) -> None:
        violations = _serious_violations(page)
        if violations:
            found[label] = _describe(violations)

    case = Case.objects.filter(coordinator__username="koordinator", status="open").order_by("opened_at").first()
    assert case is not None
    note_url = f"{live_server.url}/cases/{case.pk}/notes/new/"

    # 1. The coordinator writes a note; meanwhile the session ends (logged out in another tab).
    page = new_page()
    _log_in(page, live_server.url, "koordinator")
    page.goto(note_url)
    check(page, "note form")
    page.locator("select[name=compartment]").select_option(value="social")
    page.locator("textarea[name=text]").fill(NOTE)
    Session.objects.all().delete()
    page.get_by_role("button", name="Uložit záznam").click()

    # 2. The login page says the text is kept; logging in returns to the form with the text back, once.
    expect(page.get_by_label("Uživatelské jméno")).to_be_visible()
    assert NOTE not in page.url
    assert KeptWork.objects.count() == 1
    check(page, "login after the session ended")
    page.get_by_label("Uživatelské jméno").fill("koordinator")
    page.get_by_label("Heslo").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Přihlásit se").click()
    expect(page.locator("textarea[name=text]")).to_have_value(NOTE)
    expect(page.locator("select[name=compartment]")).to_have_value("social")
    assert not KeptWork.objects.exists()
    page.get_by_role("button", name="Uložit záznam").click()
    expect(page.get_by_text(NOTE)).to_be_visible()
    assert CaseNote.objects.filter(case=case).count() >= 1

    # 3. A half-filled form survives the switch to English and back.
    page.goto(note_url)
    page.locator("select[name=compartment]").select_option(value="social")
    page.locator("textarea[name=text]").fill(HALF_FILLED)
    page.locator("button.language__switch[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("textarea[name=text]")).to_have_value(HALF_FILLED)
    check(page, "note form in English, restored")
    page.locator("button.language__switch[value=cs]").click()
    expect(page.locator("html")).to_have_attribute("lang", "cs")
    expect(page.locator("textarea[name=text]")).to_have_value(HALF_FILLED)

    # 4. The report form's checkboxes sit inline with their labels.
    page.goto(f"{live_server.url}/reports/new/")
    _assert_inline(page, "input[name=urgency_hints]")
    _assert_inline(page, "input[name=urgent_suggested]")
    check(page, "report form")

    # 5. The supervisor's triage: the § 6 decision's radio buttons sit inline with their labels.
    triage = Task.objects.filter(flow_task=ReportFlow.triage, owner__username="vedouci", status=STATUS.ASSIGNED).first()
    assert triage is not None
    supervisor = new_page()
    _log_in(supervisor, live_server.url, "vedouci")
    supervisor.goto(f"{live_server.url}/inbox/tasks/{triage.pk}/")
    _assert_inline(supervisor, "input[name=at_risk]")
    _assert_inline(supervisor, "input[name=urgent]")
    check(supervisor, "triage")

    assert found == {}, "\n".join(f"{label}:\n{text}" for label, text in found.items())
