"""The demo (``make demo``) serves as production does: DEBUG off, the product's own 404 page, static files through
whitenoise, and e-mail links to the address it actually serves on."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from casework.management.commands import serve_demo
from casework.models import Case, User
from notifications.emails import notifications_page_url
from tests.factories import TEST_PASSWORD, open_case
from tests.stack import ROOT, Session, Stack

DJANGO_DEBUG_PAGE_MARKERS = ("URLconf", "Django tried these URL patterns", "DEBUG = True")


def _dev_environment(workdir: Path) -> dict[str, str]:
    """Dev settings as ``make demo`` runs them, with nothing from the developer's key file or DJANGO_DEBUG: the keys
    come from a key file of the test's own, which ``generate_local_keys`` writes as ``make keys`` does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_", "SITE_URL"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "KEY_FILE": str(workdir / "keys.env"),
            "LOG_DIR": str(workdir / "log"),
        }
    )
    return env


def test_the_dev_settings_serve_with_debug_off(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT,
        env=_dev_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"


@pytest.mark.django_db
def test_a_refused_partner_gets_the_products_not_found_page(settings: LazySettings, coordinator: User) -> None:
    settings.DEBUG = False  # as config.settings.dev now has it (test above)
    case: Case = open_case(coordinator=coordinator)
    outsider = User.objects.create_user(username="cizi-partner", password=TEST_PASSWORD, role="partner")
    client = Client()
    client.force_login(outsider)
    with translation.override("cs"):
        response = client.get(reverse("case_detail", kwargs={"case_id": case.pk}), HTTP_ACCEPT_LANGUAGE="cs")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Stránka nenalezena</h1>" in page
    assert not any(marker in page for marker in DJANGO_DEBUG_PAGE_MARKERS)
    assert case.reference not in page


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("localhost", 9000, "http://localhost:9000"),
        ("0.0.0.0", 8123, "http://127.0.0.1:8123"),  # noqa: S104 - every interface: links use loopback
        ("::1", 8123, "http://[::1]:8123"),
    ],
)
def test_the_served_address_is_the_links_base(host: str, port: int, url: str) -> None:
    assert serve_demo.served_site_url(host, port) == url


@pytest.fixture
def no_site_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITE_URL", raising=False)


def test_email_links_follow_the_port_given_to_serve_demo(settings: LazySettings, no_site_url: None) -> None:
    settings.NOTIFICATIONS_SITE_URL = "http://127.0.0.1:8000"
    assert serve_demo.link_to_served_address("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert notifications_page_url() == "http://127.0.0.1:8123" + reverse("notification_list")


def test_an_explicit_site_url_wins_over_the_served_address(
    settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITE_URL", "https://spod.example.cz")
    settings.NOTIFICATIONS_SITE_URL = "https://spod.example.cz"
    assert serve_demo.link_to_served_address("127.0.0.1", 8123) == "https://spod.example.cz"
    assert notifications_page_url().startswith("https://spod.example.cz/")


def _status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serve_demo_under_dev_settings_answers_like_production(tmp_path: Path) -> None:
    """``serve_demo`` on a port of its own, as ``make demo PORT=…`` starts it (migrated, no seed: a partner is made
    for the test): the login page, a static file through whitenoise, the product's 404 for an unknown page and for a
    case the partner may not see, and the log line naming the address e-mails link to."""
    # As `make demo`: the keys first (logins are audited, and the audit chain needs its key), then the migrations.
    stack = Stack(
        workdir=tmp_path,
        base_env=_dev_environment(tmp_path),
        setup=[["generate_local_keys"], ["migrate", "--noinput"]],
    )
    try:
        stack.prepare()
        server = stack.start()
        assert _status(f"{server.url}/accounts/login/")[0] == 200
        status, css = _status(f"{server.url}/static/css/app.css")
        assert status == 200
        assert ".button" in css
        status, page = _status(f"{server.url}/no-such-page/")
        assert status == 404
        assert not any(marker in page for marker in DJANGO_DEBUG_PAGE_MARKERS)
        stack.create_partner("demo-partner")
        partner = Session(server, "demo-partner")
        with pytest.raises(urllib.error.HTTPError) as refused:
            partner.get(f"/cases/{uuid.uuid4()}/")
        assert refused.value.code == 404
        page = refused.value.read().decode()
        assert "<h1>Stránka nenalezena</h1>" in page  # the product's page, with the partner's navigation
        assert not any(marker in page for marker in DJANGO_DEBUG_PAGE_MARKERS)
        assert f"E-mails link to http://127.0.0.1:{server.port}/ (DEBUG is off)." in server.output()
    finally:
        stack.stop()
