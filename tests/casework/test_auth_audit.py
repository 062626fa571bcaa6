"""Logins, logouts and failed logins are in the audit chain (issue 19); axes still counts failures in its own table."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from casework.models import Role
from permissions.management.commands.verify_audit import verify_chain
from permissions.models import AuditAction, AuditEvent, AuditOutcome
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

#: Typed into the username box by mistake: it must never reach the audit log.
SECRET_TYPED_AS_USERNAME = "Moje-Tajne-Heslo-99"


def _rows() -> list[tuple[str, str, str, str, str]]:
    return list(
        AuditEvent.objects.filter(action=AuditAction.LOGIN)
        .order_by("seq")
        .values_list("purpose", "outcome", "actor_role", "object_type", "object_id")
    )


def test_login_logout_and_failed_login_are_audited() -> None:
    worker = UserFactory.create(role=Role.OSPOD_WORKER, username="pracovnice")
    client = Client()
    assert client.post(reverse("login"), {"username": "pracovnice", "password": "spatne-heslo"}).status_code == 200
    assert client.post(reverse("login"), {"username": "pracovnice", "password": TEST_PASSWORD}).status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert _rows() == [
        ("login failed", AuditOutcome.DENIED, "anonymous", "casework.user", str(worker.pk)),
        ("login", AuditOutcome.ALLOWED, Role.OSPOD_WORKER, "casework.user", str(worker.pk)),
        ("logout", AuditOutcome.ALLOWED, Role.OSPOD_WORKER, "casework.user", str(worker.pk)),
    ]
    logged_in = AuditEvent.objects.get(purpose="login")
    assert logged_in.actor_id == worker.pk
    assert logged_in.field_names == []
    assert verify_chain().first_break is None


def test_a_failed_login_never_stores_what_was_typed(caplog: pytest.LogCaptureFixture) -> None:
    client = Client()
    with caplog.at_level(logging.DEBUG):
        client.post(reverse("login"), {"username": SECRET_TYPED_AS_USERNAME, "password": "cokoli-jineho"})
    assert SECRET_TYPED_AS_USERNAME not in caplog.text
    [row] = AuditEvent.objects.filter(action=AuditAction.LOGIN).values()
    assert row["object_id"] == "unknown"
    assert row["actor_id"] is None
    assert SECRET_TYPED_AS_USERNAME not in " ".join(str(v) for v in row.values())
    assert "cokoli-jineho" not in " ".join(str(v) for v in row.values())
    # Nor does axes' own table or its log lines.
    stored = " ".join(str(v) for attempt in AccessAttempt.objects.values() for v in attempt.values())
    assert SECRET_TYPED_AS_USERNAME not in stored


def test_axes_keeps_counting_failures_in_its_own_table() -> None:
    UserFactory.create(role=Role.PARTNER, username="ucitel")
    client = Client()
    for _ in range(2):
        client.post(reverse("login"), {"username": "ucitel", "password": "spatne-heslo"})
    [attempt] = AccessAttempt.objects.all()
    assert attempt.failures_since_start == 2
    assert "ucitel" not in attempt.username  # counted under a keyed hash of the name, never the typed text
    assert AuditEvent.objects.filter(purpose="login failed").count() == 2
