"""What a person does first: log in, see their own menu, switch language, log out; and whether everyone can."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import translation
from django.utils.translation import gettext_lazy
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from casework.models import Role, Sector
from workflows.management.commands.seed_demo import DEMO_PASSWORD, DEMO_PEOPLE, seed_all

from .conftest import NewPage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Issue 21's entry (the service network): its Czech label once the lead folds pending_sn-dir.po into the catalogue.
SERVICE_NETWORK = gettext_lazy("Service network")
# Issue 21's referrals: a partner of a social service (the demo's "sas") also answers referrals to her organisation.
REFERRALS = gettext_lazy("Referrals")
MENU: dict[Role, tuple[list[Any], list[str]]] = {
    Role.OSPOD_WORKER: (
        ["Úkoly", "Případy", "Děti", "Podat oznámení", "Příslušnost", SERVICE_NETWORK],
        ["Inbox", "Cases", "Children", "File a report", "Competence", "Service network"],
    ),
    Role.SUPERVISOR: (
        [
            "Úkoly",
            "Případy",
            "Děti",
            "Podat oznámení",
            "Příslušnost",
            "Kontrola přístupů",
            "Skartační řízení",
            "Zastupování",
            "Statistiky",
            "Změny účtů",
            SERVICE_NETWORK,
        ],
        [
            "Inbox",
            "Cases",
            "Children",
            "File a report",
            "Competence",
            "Access oversight",
            "Shredding review",
            "Cover",
            "Statistics",
            "Account changes",
            "Service network",
        ],
    ),
    Role.PARTNER: (
        ["Úkoly", "Případy", "Podat oznámení", SERVICE_NETWORK],
        ["Inbox", "Cases", "File a report", "Service network"],
    ),
    Role.DPO: (
        ["Kontrola přístupů", "Skartační řízení", "Změny účtů", SERVICE_NETWORK],
        ["Access oversight", "Shredding review", "Account changes", "Service network"],
    ),
    Role.REGIONAL_OFFICE: (["Statistiky", SERVICE_NETWORK], ["Statistics", "Service network"]),
}
BLOCKING_IMPACTS = {"serious", "critical"}


def _log_in(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Uživatelské jméno").fill(username)
    page.get_by_label("Heslo").fill(password)
    page.get_by_role("button", name="Přihlásit se").click()


def _menu(page: Page, name: str) -> list[str]:
    return [text.strip() for text in page.get_by_role("navigation", name=name).get_by_role("link").all_inner_texts()]


def test_each_kind_of_user_logs_in_sees_their_menu_switches_to_english_and_logs_out(
    live_server: LiveServer, new_page: NewPage
) -> None:
    data = seed_all()
    page = new_page()
    for person in DEMO_PEOPLE:
        user = data.users[person.username]
        page.context.clear_cookies()  # a fresh visitor: no session, no language choice
        _log_in(page, live_server.url, person.username)

        if person.role == Role.ADMINISTRATOR:
            # The administrator's home is Django's admin: users and organisations, nothing about cases.
            expect(page).to_have_url(f"{live_server.url}/admin/")
            expect(page.locator("#site-name")).to_have_text("Koordinace případů: správa")
            expect(page.locator("#user-tools")).to_contain_text(user.first_name)
            expect(page.get_by_role("link", name="Uživatelé", exact=True)).to_be_visible()
            expect(page.get_by_role("link", name="Organizace", exact=True)).to_be_visible()
            page.get_by_role("button", name="English").click()
            expect(page.get_by_role("link", name="Users", exact=True)).to_be_visible()
            page.get_by_role("button", name="Log out").click()
            expect(page).to_have_url(f"{live_server.url}/accounts/login/")
            expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
            continue

        czech_menu, english_menu = MENU[Role(person.role)]
        if user.organisation is not None and user.organisation.sector == Sector.SERVICE and person.role == Role.PARTNER:
            czech_menu, english_menu = [*czech_menu, REFERRALS], [*english_menu, "Referrals"]
        expect(page.locator("html")).to_have_attribute("lang", "cs")
        current_user = page.get_by_test_id("current-user")
        expect(current_user).to_contain_text(user.get_full_name())
        expect(current_user).to_contain_text(str(user.organisation))
        with translation.override("cs"):
            assert _menu(page, "Hlavní navigace") == [str(label) for label in czech_menu], person.username
        expect(page.locator("nav a[aria-current=page]")).to_have_count(1)

        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert _menu(page, "Main navigation") == english_menu, person.username
        expect(page.get_by_role("heading", level=1)).to_have_text(english_menu[0])

        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(f"{live_server.url}/accounts/login/")
        expect(page.get_by_role("status")).to_have_text("You have been logged out.")
        expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


def test_logging_in_and_skipping_to_content_work_by_keyboard_alone(live_server: LiveServer, new_page: NewPage) -> None:
    seed_all()
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")

    # The login form takes focus on arrival: type, Tab, type, Enter.
    expect(page.get_by_label("Uživatelské jméno")).to_be_focused()
    page.keyboard.type("koordinator")
    page.keyboard.press("Tab")
    page.keyboard.type("spatne-heslo")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text(
        "Přihlášení se nezdařilo. Zkontrolujte uživatelské jméno a heslo; záleží na velikosti písmen."
    )

    page.get_by_label("Heslo").fill(DEMO_PASSWORD)
    page.get_by_label("Heslo").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Úkoly")

    # First Tab reaches the skip link, which moves focus past the header and menu to the page's content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Přeskočit na obsah")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    # The menu is reachable by Tab and opens with Enter.
    page.get_by_role("link", name="Případy").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Případy")


def _serious_violations(page: Page) -> list[dict[str, Any]]:
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def _describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> {[node['target'] for node in v['nodes']][:5]}" for v in violations
    )


def test_shell_pages_have_no_serious_accessibility_violations(live_server: LiveServer, new_page: NewPage) -> None:
    seed_all()
    page = new_page()
    found: dict[str, list[dict[str, Any]]] = {}

    def check(label: str) -> None:
        violations = _serious_violations(page)
        if violations:
            found[label] = violations

    page.goto(f"{live_server.url}/accounts/login/")
    check("login")
    _log_in(page, live_server.url, "vedouci", "spatne-heslo")
    expect(page.get_by_role("alert")).to_be_visible()
    check("login with error")
    _log_in(page, live_server.url, "vedouci")
    for path in ["/inbox/", "/cases/", "/children/", "/oversight/", "/no-such-page/"]:
        page.goto(f"{live_server.url}{path}")
        check(path)
    page.get_by_role("button", name="English").click()
    check("/inbox/ in English")

    partner = new_page()
    _log_in(partner, live_server.url, "ucitelka")
    partner.goto(f"{live_server.url}/children/")
    page = partner
    check("403")

    locked = new_page()
    for _ in range(5):
        _log_in(locked, live_server.url, "nikdo-takovy", "spatne-heslo")
    expect(locked.get_by_role("heading", level=1)).to_have_text("Přihlašování je pozastaveno")
    page = locked
    check("locked out")

    assert not found, "\n\n".join(f"{label}:\n{_describe(v)}" for label, v in found.items())
