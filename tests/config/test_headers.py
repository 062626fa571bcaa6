"""Security headers: Content-Security-Policy on every page, ``no-store`` on every response to a logged-in person."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from casework.models import User
from tests.stack import ROOT

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def test_pages_carry_a_policy_without_inline_script(client: Client) -> None:
    response = client.get(reverse("login"))
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]


def test_the_error_pages_style_is_allowed_by_its_hash() -> None:
    # The CSRF-failure and 500 pages stand alone (templates/standalone.html): their <style> has no nonce, so the policy
    # must name its hash, computed here from what the browser receives, or the browser draws an unstyled error page.
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "a", "password": "b"})
    assert response.status_code == 403
    style = re.search(r"<style>(.*?)</style>", response.content.decode(), re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in _directives(response["Content-Security-Policy"])["style-src"]


def test_logged_in_responses_are_not_stored(client: Client, teacher: User) -> None:
    client.force_login(teacher)
    for path in (reverse("notification_list"), reverse("inbox"), "/"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        assert "no-store" in response["Cache-Control"], path
        assert "private" in response["Cache-Control"], path


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("path", [p for d in TEMPLATE_DIRS for p in sorted(d.rglob("*.html"))], ids=str)
def test_templates_have_no_inline_script_or_handlers(path: Path) -> None:
    text = path.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it into a static file"
    assert not HANDLER_ATTRIBUTE.search(text), "on* handler attribute: bind it from a static script"
    assert "javascript:" not in text
