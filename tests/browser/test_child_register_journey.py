"""The child register as an OSPOD worker uses it: register a child, find it by birth number, open its page; a teacher
who guesses the page's address gets "not found"; each view is in the audit log."""

from __future__ import annotations

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from permissions.models import AuditEvent
from tests.factories.children import synthetic_birth_number
from workflows.management.commands.seed_demo import seed_all

from .conftest import NewPage
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_registers_finds_and_views_a_child_and_a_teacher_cannot(
    live_server: LiveServer, new_page: NewPage
) -> None:
    seed_all()
    born = datetime.date(2015, 4, 17)
    number = synthetic_birth_number(born, female=False)
    page = new_page()
    _log_in(page, live_server.url, "koordinator")
    page.get_by_role("navigation", name="Hlavní navigace").get_by_role("link", name="Děti").click()
    page.get_by_role("link", name="Zaevidovat dítě").click()

    # A wrong birth number first: a field error, nothing saved.
    page.locator("#id_given_name").fill("Bořivoj")
    page.locator("#id_family_name").fill("Zelenka")
    page.locator("#id_date_of_birth").fill(born.isoformat())
    page.locator("#id_birth_number").fill("150417/0000")
    page.locator("#id_address").fill("Wittgensteinova 4, 779 00 Olomouc")
    page.get_by_role("button", name="Zaevidovat", exact=True).click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.locator("#id_given_name")).to_have_value("Bořivoj")

    page.locator("#id_birth_number").fill(number)
    page.get_by_role("button", name="Zaevidovat", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bořivoj Zelenka")
    child_url = page.url
    assert number not in child_url
    assert number.replace("/", "") not in child_url

    # Find it again by birth number, typed without the slash.
    page.get_by_role("navigation", name="Hlavní navigace").get_by_role("link", name="Děti").click()
    page.locator("#id_birth_number").fill(number.replace("/", ""))
    page.get_by_role("button", name="Hledat").click()
    expect(page).to_have_url(child_url)
    expect(page.get_by_text("Wittgensteinova 4")).to_be_visible()
    results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}]
    assert serious == []

    teacher = new_page()
    _log_in(teacher, live_server.url, "ucitelka")
    response = teacher.goto(child_url)
    assert response is not None
    assert response.status == 404
    expect(teacher.get_by_text("Bořivoj")).to_have_count(0)

    child_id = child_url.rstrip("/").rsplit("/", 1)[-1]
    assert AuditEvent.objects.filter(object_id=child_id, action="read", actor__username="koordinator").count() >= 2
    assert AuditEvent.objects.filter(object_id=child_id, action="deny", actor__username="ucitelka").exists()
