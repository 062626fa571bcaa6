"""Production settings refuse to start without their secrets, and pass Django's deployment checks with them."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[1]
REQUIRED = [
    "DJANGO_SECRET_KEY",
    "FIELD_KEKS",
    "AUDIT_HMAC_KEY",
    "BLIND_INDEX_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "EMAIL_URL",
]


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def prod_env(tmp_path: Path) -> dict[str, str]:
    """Generated values for every required variable, and nothing from the developer's environment or key file."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "KEY_FILE": str(tmp_path / "no-such-key-file.env"),
        "LOG_DIR": str(tmp_path / "log"),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_KEKS": f"prod-test:{_key()}",
        "AUDIT_HMAC_KEY": _key(),
        "BLIND_INDEX_KEY": _key(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "ALLOWED_HOSTS": "spod.example.org",
        "EMAIL_URL": "smtp://mailer:secret-smtp-password@smtp.example.org:587/?tls=true",
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("missing", REQUIRED)
def test_prod_refuses_to_start_without(missing: str, prod_env: dict[str, str]) -> None:
    env = {name: value for name, value in prod_env.items() if name != missing}
    result = _run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "Traceback" not in result.stderr
    for name in REQUIRED:
        if name in env and name != "ALLOWED_HOSTS":
            assert env[name] not in result.stderr + result.stdout, f"{name}'s value leaked"


def test_prod_refuses_a_development_secret_key(prod_env: dict[str, str]) -> None:
    prod_env["DJANGO_SECRET_KEY"] = "dev-only-not-secret-run-make-demo-to-generate-keys"
    result = _run(["-c", "import django; django.setup()"], prod_env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert prod_env["DJANGO_SECRET_KEY"] not in result.stderr


def test_prod_passes_the_deployment_checks(prod_env: dict[str, str]) -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], prod_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_prod_sends_email_over_smtp_from_email_url(prod_env: dict[str, str]) -> None:
    """Production never falls back to the console backend (addresses and links would end up in the log)."""
    script = "import django; django.setup(); from django.conf import settings as s; "
    script += "print(s.EMAIL_BACKEND, s.EMAIL_HOST)"
    result = _run(["-c", script], prod_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.mail.backends.smtp.EmailBackend", "smtp.example.org"]


def test_prod_requires_a_second_factor_for_ospod_staff_the_dpo_and_administrators(prod_env: dict[str, str]) -> None:
    code = "import django; django.setup(); from django.conf import settings as s; print(sorted(s.OTP_REQUIRED_ROLES))"
    result = _run(["-c", code], prod_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['administrator', 'dpo', 'ospod_worker', 'regional_office', 'supervisor']"
