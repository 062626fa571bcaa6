"""The product shell as a person meets it: logging in and out, lockout, the menu per role, language, admin, health."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.views.defaults import server_error

from casework.management.commands import serve_demo
from casework.models import Organisation, Role, Sector, User
from tests.factories import TEST_PASSWORD, OrganisationFactory, UserFactory

LOGIN_FAILED_CS = "Přihlášení se nezdařilo. Zkontrolujte uživatelské jméno a heslo; záleží na velikosti písmen."
LOCKED_CS = "Přihlašování je pozastaveno"
BASE_DIR = Path(__file__).resolve().parents[2]


def _cs(text: str) -> str:
    """A menu label as the Czech catalogue gives it (a label whose translation is still pending stays English)."""
    with translation.override("cs"):
        return str(translation.gettext(text))


SHREDDING_REVIEW_CS = _cs("Shredding review")
# Issue 19's entry, in Czech once its translation is folded into the catalogue (English before).
ACCOUNT_CHANGES = gettext_lazy("Account changes")
# Issue 21's entry (the service network), in Czech once its translation is folded in.
SERVICE_NETWORK = gettext_lazy("Service network")
# Issue 22's entry, likewise.
STATISTICS = gettext_lazy("Statistics")
NAV_BY_ROLE_CS: dict[Role, list[Any]] = {
    Role.OSPOD_WORKER: ["Úkoly", "Případy", "Děti", "Podat oznámení", "Příslušnost", SERVICE_NETWORK],
    Role.SUPERVISOR: [
        "Úkoly",
        "Případy",
        "Děti",
        "Podat oznámení",
        "Příslušnost",
        "Kontrola přístupů",
        SHREDDING_REVIEW_CS,
        "Zastupování",
        STATISTICS,
        ACCOUNT_CHANGES,
        SERVICE_NETWORK,
    ],
    Role.PARTNER: ["Úkoly", "Případy", "Podat oznámení", SERVICE_NETWORK],
    Role.DPO: ["Kontrola přístupů", SHREDDING_REVIEW_CS, ACCOUNT_CHANGES, SERVICE_NETWORK],
    Role.ADMINISTRATOR: ["Správa", ACCOUNT_CHANGES, SERVICE_NETWORK],
    Role.REGIONAL_OFFICE: [STATISTICS, SERVICE_NETWORK],
}
HOME_BY_ROLE = {
    Role.OSPOD_WORKER: "/inbox/",
    Role.SUPERVISOR: "/inbox/",
    Role.PARTNER: "/inbox/",
    Role.DPO: "/oversight/",
    Role.ADMINISTRATOR: "/admin/",
    Role.REGIONAL_OFFICE: "/statistics/",
}
SHELL_PAGES = ["/inbox/", "/cases/", "/children/", "/competence/", "/oversight/", "/statistics/"]


def _user(role: Role, **kwargs: Any) -> User:
    sector = {Role.OSPOD_WORKER: Sector.OSPOD, Role.SUPERVISOR: Sector.OSPOD}.get(role, Sector.SCHOOL)
    kwargs.setdefault("organisation", OrganisationFactory.create(name=f"Organizace pro {role}", sector=sector))
    return UserFactory.create(role=role, first_name="Božena", last_name="Němcová", **kwargs)


def _login(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password}, follow=True)


def _without_tokens(html: str) -> str:
    """The page with CSRF tokens blanked, so two renderings can be compared for equality."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def _nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav.group(0)) if nav else []


# --- Login and logout --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_is_czech_by_default(client: Client) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="cs">' in html
    assert "Přihlášení" in html
    assert 'for="id_username"' in html
    assert 'for="id_password"' in html


@pytest.mark.django_db
def test_login_success_shows_name_and_organisation(client: Client) -> None:
    user = _user(Role.OSPOD_WORKER)
    response = _login(client, user.username, TEST_PASSWORD)
    assert response.redirect_chain[-1][0] == "/inbox/"
    html = response.content.decode()
    assert "Božena Němcová" in html
    assert str(user.organisation) in html


@pytest.mark.django_db
def test_wrong_password_and_unknown_user_get_the_same_message(client: Client) -> None:
    user = _user(Role.PARTNER)
    wrong_password = _login(client, user.username, "not-the-password")
    unknown_user = _login(client, "nobody-by-this-name", "not-the-password")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert LOGIN_FAILED_CS in response.content.decode()
        assert "_auth_user_id" not in client.session
    # The pages differ only in what the person typed into the username box.
    assert _without_tokens(wrong_password.content.decode()).replace(user.username, "X") == _without_tokens(
        unknown_user.content.decode()
    ).replace("nobody-by-this-name", "X")


@pytest.mark.django_db
def test_inactive_user_cannot_log_in_and_gets_the_same_message(client: Client) -> None:
    user = _user(Role.OSPOD_WORKER, is_active=False)
    response = _login(client, user.username, TEST_PASSWORD)
    assert LOGIN_FAILED_CS in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_five_failures_lock_the_username_even_for_the_right_password(client: Client) -> None:
    user = _user(Role.OSPOD_WORKER)
    for _ in range(4):
        assert _login(client, user.username, "wrong-password").status_code == 200
    fifth = _login(client, user.username, "wrong-password")
    assert fifth.status_code == 429
    assert LOCKED_CS in fifth.content.decode()
    right_password = _login(client, user.username, TEST_PASSWORD)
    assert right_password.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_locked_out_page_does_not_say_whether_the_account_exists(client: Client) -> None:
    user = _user(Role.PARTNER)
    pages = {}
    for username in (user.username, "no-such-person"):
        for _ in range(5):
            response = _login(client, username, "wrong-password")
        assert response.status_code == 429
        pages[username] = _without_tokens(response.content.decode())
    assert pages[user.username] == pages["no-such-person"]
    assert user.username not in pages[user.username]
    assert "Zkuste to znovu za 15 minut." in pages[user.username]


@pytest.mark.django_db
def test_logout_needs_post_and_confirms(client: Client) -> None:
    user = _user(Role.PARTNER)
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("inbox")).status_code == 200
    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "Byli jste odhlášeni." in response.content.decode()
    assert client.get(reverse("inbox")).status_code == 302


@pytest.mark.django_db
def test_pages_need_login(client: Client) -> None:
    for url in ["/", *SHELL_PAGES]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- Navigation by role ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(NAV_BY_ROLE_CS))
def test_menu_shows_exactly_what_the_role_may_open(client: Client, role: Role) -> None:
    client.force_login(_user(role))
    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"] == HOME_BY_ROLE[role]
    page = client.get("/no-such-page/")  # any shell page carries the menu; this one exists for every role
    with translation.override("cs"):
        assert _nav_labels(page.content.decode()) == [str(label) for label in NAV_BY_ROLE_CS[role]]
    allowed = {item["url"] for item in page.context["nav_items"]}
    for url in SHELL_PAGES:
        expected = 200 if url in allowed else 403
        assert client.get(url).status_code == expected, url


@pytest.mark.django_db
def test_placeholder_pages_say_the_content_arrives_later(client: Client) -> None:
    client.force_login(_user(Role.SUPERVISOR))
    for url in SHELL_PAGES:
        html = client.get(url).content.decode()
        if url not in (
            "/children/",
            "/cases/",
            "/inbox/",
            "/competence/",
            "/oversight/",
            "/statistics/",
        ):  # real pages; the rest not yet
            assert "Tato verze produktu" in html, url
        assert 'aria-current="page"' in html


@pytest.mark.django_db
def test_forbidden_page_explains_itself(client: Client) -> None:
    client.force_login(_user(Role.PARTNER))
    response = client.get("/children/")
    assert response.status_code == 403
    assert "Nemáte přístup" in response.content.decode()


@pytest.mark.django_db
def test_unknown_address_gets_our_404_page(client: Client) -> None:
    client.force_login(_user(Role.PARTNER))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Stránka nenalezena" in html
    assert "Božena Němcová" in html  # still inside the shell, with the menu


def test_server_error_page_stands_alone(rf: RequestFactory) -> None:
    # In a request the locale middleware has chosen Czech before the view fails; here no middleware runs.
    with translation.override("cs"):
        response = server_error(rf.get("/inbox/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Něco se pokazilo" in html
    assert "/static/" not in html  # renders even when static files are what broke


@pytest.mark.django_db
def test_expired_form_explains_what_to_do() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "Platnost formuláře vypršela" in response.content.decode()


# --- Language ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_switching_to_english_changes_the_texts(client: Client) -> None:
    client.force_login(_user(Role.SUPERVISOR))
    czech = client.get("/inbox/").content.decode()
    assert "Odhlásit se" in czech
    with translation.override("cs"):
        assert _nav_labels(czech) == [str(label) for label in NAV_BY_ROLE_CS[Role.SUPERVISOR]]

    response = client.post(reverse("set_language"), {"language": "en", "next": "/inbox/"}, follow=True)
    english = response.content.decode()
    assert response.redirect_chain[-1][0] == "/inbox/"
    assert '<html lang="en">' in english
    assert "Log out" in english
    assert _nav_labels(english) == [
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
    ]
    assert "My tasks" in english

    back = client.post(reverse("set_language"), {"language": "cs", "next": "/inbox/"}, follow=True)
    assert "Odhlásit se" in back.content.decode()


# --- Administration ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_administrator_manages_users_and_organisations_in_admin(client: Client) -> None:
    administrator = _user(Role.ADMINISTRATOR)
    assert administrator.is_staff
    assert not administrator.is_superuser
    client.force_login(administrator)
    index = client.get("/admin/")
    assert index.status_code == 200
    html = index.content.decode()
    for model in ("casework/municipality", "casework/organisation", "casework/user", "casework/teamrole"):
        assert f"/admin/{model}/" in html
    assert "/admin/workflows/authoritysettings/" in html
    # Configuration lists, never case content.
    for content in ("casework/case", "casework/casenote", "casework/child", "permissions/share", "workflows/deadline"):
        assert f"/admin/{content}/" not in html
    assert client.get("/admin/casework/teamrole/").status_code == 200
    assert client.get("/admin/casework/user/?role__exact=partner").status_code == 200
    assert client.get("/admin/casework/organisation/?sector__exact=school").status_code == 200


@pytest.mark.django_db
def test_administrator_cannot_grant_privileges_or_touch_superusers(client: Client) -> None:
    administrator = _user(Role.ADMINISTRATOR)
    partner = _user(Role.PARTNER)
    superuser = User.objects.create_superuser("root", "root@test.example.org", "pw-root-12345")
    client.force_login(administrator)
    form = client.get(f"/admin/casework/user/{partner.pk}/change/").content.decode()
    assert 'name="role"' in form
    assert 'name="organisation"' in form
    for privilege in ("is_superuser", "is_staff", "user_permissions", "groups"):
        assert f'name="{privilege}"' not in form
    assert client.get(f"/admin/casework/user/{superuser.pk}/change/").status_code == 302  # "doesn't exist"
    assert client.get(f"/admin/casework/user/{partner.pk}/delete/").status_code == 403
    own = client.get(f"/admin/casework/user/{administrator.pk}/change/").content.decode()
    assert 'name="role"' not in own


@pytest.mark.django_db
def test_administrator_creates_a_partner_account(
    client: Client, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    administrator = _user(Role.ADMINISTRATOR)
    school = OrganisationFactory.create(name="ZŠ Nová", sector=Sector.SCHOOL)
    client.force_login(administrator)
    add_form = client.get("/admin/casework/user/add/").content.decode()
    assert 'name="password1"' not in add_form  # administrators never set another person's password
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/casework/user/add/",
            {
                "username": "nova.ucitelka",
                "first_name": "Věra",
                "last_name": "Nováková",
                "email": "vera.novakova@test.example.org",
                "job_title": "třídní učitelka",
                "organisation": school.pk,
                "role": Role.PARTNER,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="nova.ucitelka")
    assert created.organisation == school
    assert not created.is_staff
    assert created.is_active  # a partner reads nothing until a coordinator puts them on a team
    assert not created.has_usable_password()
    assert [m.to for m in mailoutbox] == [["vera.novakova@test.example.org"]]


@pytest.mark.django_db
def test_admin_rejects_a_partner_in_an_ospod_organisation(client: Client) -> None:
    ospod = OrganisationFactory.create(name="OSPOD Test", sector=Sector.OSPOD)
    client.force_login(_user(Role.ADMINISTRATOR))
    response = client.post(
        "/admin/casework/user/add/",
        {
            "username": "omyl",
            "email": "omyl@test.example.org",
            "first_name": "Omyl",
            "last_name": "Omylný",
            "organisation": ospod.pk,
            "role": Role.PARTNER,
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="omyl").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.PARTNER, Role.OSPOD_WORKER, Role.SUPERVISOR])
def test_admin_is_closed_to_everyone_else(client: Client, role: Role) -> None:
    client.force_login(_user(role))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/admin/casework/user/").status_code == 302


# --- Health check ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_ok_when_database_and_channel_layer_answer(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "channel_layer": True}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_503_when_channel_layer_fails(client: Client) -> None:
    broken = mock.Mock()
    broken.new_channel = mock.AsyncMock(side_effect=ConnectionError("redis is down"))
    with mock.patch("casework.views.get_channel_layer", return_value=broken):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": True, "channel_layer": False}}


@pytest.mark.django_db
def test_healthz_503_when_channel_layer_never_delivers(client: Client) -> None:
    async def never(channel: str) -> dict[str, str]:
        await asyncio.sleep(60)
        return {}

    silent = mock.Mock()
    silent.new_channel = mock.AsyncMock(return_value="healthz.channel")
    silent.send = mock.AsyncMock()
    silent.receive = never
    with (
        mock.patch("casework.views.get_channel_layer", return_value=silent),
        mock.patch("casework.views.HEALTHZ_TIMEOUT_SECONDS", 0.05),
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"] is False


@pytest.mark.django_db
def test_healthz_503_when_database_fails(client: Client) -> None:
    broken = mock.Mock()
    broken.cursor.side_effect = DatabaseError("database is gone")
    with mock.patch("casework.views.connection", broken):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": False, "channel_layer": True}


# --- serve_demo ------------------------------------------------------------------------------------------------


def test_periodic_command_runs_at_start_and_then_repeats() -> None:
    calls: list[str] = []

    async def scenario() -> None:
        task = asyncio.create_task(serve_demo.run_periodically("deadlines", 0.01, runner=calls.append))
        while len(calls) < 3:
            await asyncio.sleep(0.005)
        task.cancel()

    # In a thread of its own: a session-wide Playwright loop may already be running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, asyncio.wait_for(scenario(), timeout=5)).result()
    assert calls[:3] == ["deadlines"] * 3


def test_run_command_once_logs_a_failure_instead_of_raising(caplog: pytest.LogCaptureFixture) -> None:
    with (
        mock.patch.object(serve_demo, "call_command", side_effect=RuntimeError("boom")),
        mock.patch.object(serve_demo, "close_old_connections"),
        mock.patch.object(serve_demo, "connections") as connections,
    ):
        serve_demo.run_command_once("deadlines")
    assert "Periodic command deadlines failed" in caplog.text
    connections.close_all.assert_called_once()  # the worker thread never keeps a connection between runs


def test_unknown_periodic_command_stops_start_up() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="unknown command"):
        serve_demo.validate_periodic_commands([("no_such_command", 60)])
    with pytest.raises(CommandError, match="positive"):
        serve_demo.validate_periodic_commands([("check", 0)])
    assert serve_demo.validate_periodic_commands([("check", 60)]) == [("check", 60)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["foreground", "started-with-sigint-ignored"])
def test_serve_demo_serves_the_login_page_and_stops_on_ctrl_c(tmp_path: Path, sigint_ignored: bool) -> None:
    """Also when started from a script's background job, which inherits SIGINT ignored: Ctrl-C still stops it."""
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "KEY_FILE": str(tmp_path / "no-keys.env"),
        "LOG_DIR": str(tmp_path / "log"),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve_demo", "--host", "127.0.0.1", "--port", str(port)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None,
    )
    try:
        body = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:
                    body = response.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert "Přihlášení" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css", timeout=2) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired as exc:
            stuck = exc.output.decode() if isinstance(exc.output, bytes) else (exc.output or "")
            raise AssertionError(f"serve_demo did not stop within 20 s of Ctrl-C; it printed:\n{stuck}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "Traceback" not in output


@pytest.mark.django_db
def test_organisation_factory_keeps_roles_consistent() -> None:
    for role in Role:
        user = UserFactory.create(role=role)
        user.full_clean()
        assert isinstance(user.organisation, Organisation)
        assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_czech_first_even_for_an_english_browser(client: Client) -> None:
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="cs"' in response.content.decode()
    client.cookies.load({"django_language": "en"})
    assert 'lang="en"' in client.get(reverse("login")).content.decode()
