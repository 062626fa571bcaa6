"""Account security as a person meets it: the second factor at login, enrolment, recovery codes, lockout, the
administrator's reset, the authority's switch for partners, and sessions that end after inactivity."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.auth_audit import axes_username
from casework.models import Role, User
from casework.services.accounts import second_factor_confirm, second_factor_enrol_start
from permissions.management.commands.verify_audit import verify_chain
from permissions.models import AuditAction, AuditEvent
from tests.factories import TEST_PASSWORD, UserFactory

STAFF_ROLES = ["ospod_worker", "supervisor", "dpo", "administrator"]
LOCKED_CS = "Přihlašování je pozastaveno"
START = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """A clock the test moves: TOTP codes depend on the time step, and a code is accepted once per step."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff_need_2fa(settings: Any) -> None:
    settings.OTP_REQUIRED_ROLES = STAFF_ROLES


def _code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def _enrolled(user: User, clock: time_machine.Traveller) -> tuple[TOTPDevice, list[str]]:
    device = second_factor_enrol_start(user=user)
    confirmed, codes = second_factor_confirm(user=user, device_id=device.pk, token=_code(device))
    clock.shift(30)  # the confirming code is spent: the next one comes with the next step
    return confirmed, codes


def _password(client: Client, user: User, password: str = TEST_PASSWORD) -> Any:
    return client.post(reverse("login"), {"username": user.username, "password": password})


def _code_step(client: Client, token: str) -> Any:
    return client.post(reverse("otp_verify"), {"token": token})


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _account_events(user: User) -> list[str]:
    return list(
        AuditEvent.objects.filter(action=AuditAction.ACCOUNT, object_id=str(user.pk)).values_list("purpose", flat=True)
    )


# --- Enrolment -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ospod_worker_without_a_device_must_enrol_and_reaches_nothing_else(
    client: Client, staff_need_2fa: None, clock: time_machine.Traveller
) -> None:
    worker = UserFactory.create(role=Role.OSPOD_WORKER)
    after_password = _password(client, worker)
    assert after_password.status_code == 302
    assert after_password["Location"] == reverse("otp_verify")
    assert not _logged_in(client)
    assert client.get(reverse("otp_verify"))["Location"] == reverse("otp_enrol")
    # Not logged in yet: every page sends to the login.
    assert client.get("/inbox/")["Location"].startswith(reverse("login"))

    page = client.get(reverse("otp_enrol"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert "<script" not in html.split("</main>")[0].split("<main")[1]
    device = TOTPDevice.objects.get(user=worker, confirmed=False)
    assert f"otpauth://totp/SPOD%3A{worker.username}?secret=" in html
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]

    wrong = client.post(reverse("otp_enrol"), {"token": "000000" if _code(device) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert not _logged_in(client)

    clock.shift(30)
    done = client.post(reverse("otp_enrol"), {"token": _code(device)})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == 10
    assert _logged_in(client)
    assert client.get("/inbox/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert _account_events(worker) == ["second factor enrolled"]
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT)
    assert event.field_names == ["recovery_codes", "totp_device"]
    assert device.key not in str(event.__dict__)
    # Shown once: the account page counts them, it never lists them again.
    account = client.get(reverse("account")).content.decode()
    assert "10" in account
    assert codes[0] not in account


@pytest.mark.django_db
def test_required_session_without_second_factor_reaches_only_enrolment(client: Client, staff_need_2fa: None) -> None:
    """A session that got in another way (here force_login, as an old session or another login path would) is held at
    the 2FA pages until it proves a second factor."""
    supervisor = UserFactory.create(role=Role.SUPERVISOR)
    client.force_login(supervisor)
    for url in ["/inbox/", "/cases/", "/admin/", reverse("account")]:
        assert client.get(url)["Location"] == reverse("otp_verify"), url
    assert client.get(reverse("otp_verify"))["Location"] == reverse("otp_enrol")
    assert client.get(reverse("otp_enrol")).status_code == 200


@pytest.mark.django_db
def test_admin_login_form_is_not_a_way_around_the_second_factor(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/"


# --- Logging in with the second factor -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_asks_for_the_code_after_the_password_and_logs_in_only_then(
    client: Client, staff_need_2fa: None, clock: time_machine.Traveller
) -> None:
    dpo = UserFactory.create(role=Role.DPO)
    device, _codes = _enrolled(dpo, clock)
    assert _password(client, dpo)["Location"] == reverse("otp_verify")
    assert not _logged_in(client)
    assert client.get("/oversight/")["Location"].startswith(reverse("login"))
    form = client.get(reverse("otp_verify"))
    assert 'autocomplete="one-time-code"' in form.content.decode()

    response = _code_step(client, _code(device))
    assert response.status_code == 302
    assert _logged_in(client)
    assert client.get("/oversight/").status_code == 200


@pytest.mark.django_db
def test_partner_who_enrolled_by_choice_is_asked_for_the_code(client: Client, clock: time_machine.Traveller) -> None:
    partner = UserFactory.create(role=Role.PARTNER)
    device, _codes = _enrolled(partner, clock)
    assert _password(client, partner)["Location"] == reverse("otp_verify")
    assert not _logged_in(client)
    _code_step(client, _code(device))
    assert _logged_in(client)


@pytest.mark.django_db
def test_recovery_code_logs_in_once_and_is_audited(
    client: Client, staff_need_2fa: None, clock: time_machine.Traveller
) -> None:
    administrator = UserFactory.create(role=Role.ADMINISTRATOR)
    _device, codes = _enrolled(administrator, clock)
    _password(client, administrator)
    response = _code_step(client, codes[0].upper())
    assert response.status_code == 302
    assert _logged_in(client)
    assert _account_events(administrator) == ["second factor enrolled", "recovery code used to log in"]
    assert StaticToken.objects.filter(device__user=administrator).count() == 9

    client.post(reverse("logout"))
    _password(client, administrator)
    again = _code_step(client, codes[0])
    assert again.status_code == 200
    assert not _logged_in(client)


@pytest.mark.django_db
def test_a_recovery_code_does_not_slow_down_the_authenticator(
    client: Client, staff_need_2fa: None, clock: time_machine.Traveller
) -> None:
    """django-otp throttles a device after a failed code; a recovery code must not count as one for the app."""
    supervisor = UserFactory.create(role=Role.SUPERVISOR)
    device, codes = _enrolled(supervisor, clock)
    _password(client, supervisor)
    _code_step(client, codes[1])
    client.post(reverse("logout"))
    _password(client, supervisor)
    _code_step(client, _code(device))
    assert _logged_in(client)


@pytest.mark.django_db
def test_wrong_codes_count_towards_the_lockout_and_a_password_does_not_reset_them(
    client: Client, staff_need_2fa: None, clock: time_machine.Traveller
) -> None:
    worker = UserFactory.create(role=Role.OSPOD_WORKER)
    device, _codes = _enrolled(worker, clock)
    wrong = "123456" if _code(device) != "123456" else "654321"
    _password(client, worker)
    for _ in range(3):
        assert _code_step(client, wrong).status_code == 200
    _password(client, worker)  # a correct password again: the counter goes on
    assert _code_step(client, wrong).status_code == 200
    locked = _code_step(client, wrong)
    assert LOCKED_CS in locked.content.decode()
    counted_as = axes_username(None, {"username": worker.username})  # axes counts under a keyed hash of the name
    assert AccessAttempt.objects.get(username=counted_as).failures_since_start == 5

    clock.shift(30)
    assert LOCKED_CS in _password(client, worker).content.decode()
    assert not _logged_in(client)


@pytest.mark.django_db
def test_pending_login_expires(client: Client, staff_need_2fa: None, clock: time_machine.Traveller) -> None:
    worker = UserFactory.create(role=Role.OSPOD_WORKER)
    device, _codes = _enrolled(worker, clock)
    _password(client, worker)
    clock.shift(11 * 60)
    assert _code_step(client, _code(device))["Location"] == reverse("login")
    assert not _logged_in(client)


# --- The authority's switch for partners ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_needs_a_second_factor_only_where_the_authority_turns_it_on(client: Client) -> None:
    partner = UserFactory.create(role=Role.PARTNER)
    _password(client, partner)
    assert _logged_in(client)
    client.post(reverse("logout"))

    municipality = partner.organisation.municipality  # type: ignore[union-attr]
    municipality.partners_require_second_factor = True
    municipality.save()
    assert _password(client, partner)["Location"] == reverse("otp_verify")
    assert not _logged_in(client)
    assert client.get(reverse("otp_verify"))["Location"] == reverse("otp_enrol")


@pytest.mark.django_db
def test_authority_switch_is_editable_in_the_admin(client: Client) -> None:
    administrator = UserFactory.create(role=Role.ADMINISTRATOR, is_superuser=True)
    partner = UserFactory.create(role=Role.PARTNER)
    municipality = partner.organisation.municipality  # type: ignore[union-attr]
    client.force_login(administrator)
    page = client.get(reverse("admin:casework_municipality_change", args=[municipality.pk]))
    assert 'name="partners_require_second_factor"' in page.content.decode()


# --- The person's account page and the administrator's reset --------------------------------------------------------


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old_ones_and_are_audited(client: Client, clock: time_machine.Traveller) -> None:
    partner = UserFactory.create(role=Role.PARTNER)
    device, old_codes = _enrolled(partner, clock)
    _password(client, partner)
    _code_step(client, _code(device))
    response = client.post(reverse("account"), {"action": "recovery_codes"})
    new_codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(new_codes) == 10
    assert set(new_codes).isdisjoint(old_codes)
    assert set(StaticToken.objects.filter(device__user=partner).values_list("token", flat=True)) == set(new_codes)
    assert _account_events(partner)[-1] == "recovery codes regenerated"


@pytest.mark.django_db
def test_partner_may_switch_the_optional_factor_off_but_an_ospod_worker_may_not(
    client: Client, staff_need_2fa: None, clock: time_machine.Traveller
) -> None:
    partner = UserFactory.create(role=Role.PARTNER)
    device, _codes = _enrolled(partner, clock)
    _password(client, partner)
    _code_step(client, _code(device))
    client.post(reverse("account"), {"action": "remove"})
    assert not TOTPDevice.objects.filter(user=partner).exists()
    assert _account_events(partner)[-1] == "second factor removed"

    worker = UserFactory.create(role=Role.OSPOD_WORKER)
    device, _codes = _enrolled(worker, clock)
    client.post(reverse("logout"))
    _password(client, worker)
    _code_step(client, _code(device))
    client.post(reverse("account"), {"action": "remove"})
    assert TOTPDevice.objects.filter(user=worker, confirmed=True).exists()
    assert _account_events(worker) == ["second factor enrolled"]


@pytest.mark.django_db
def test_administrator_reset_sends_the_person_back_to_enrolment_and_is_audited(
    client: Client, staff_need_2fa: None, clock: time_machine.Traveller
) -> None:
    worker = UserFactory.create(role=Role.OSPOD_WORKER)
    device, _codes = _enrolled(worker, clock)
    worker_client = Client()
    _password(worker_client, worker)
    _code_step(worker_client, _code(device))
    assert worker_client.get("/inbox/").status_code == 200

    administrator = UserFactory.create(role=Role.ADMINISTRATOR)
    admin_device, _codes = _enrolled(administrator, clock)
    _password(client, administrator)
    _code_step(client, _code(admin_device))
    admin_page = reverse("admin:casework_user_changelist")
    reset = client.post(admin_page, {"action": "reset_second_factor", "_selected_action": [worker.pk]})
    assert reset.status_code == 302
    assert not TOTPDevice.objects.filter(user=worker).exists()
    event = AuditEvent.objects.filter(action=AuditAction.ACCOUNT).last()
    assert event is not None
    assert event.purpose == "second factor reset by an administrator"
    assert event.actor_id == administrator.pk
    assert event.object_id == str(worker.pk)
    # The worker's open session is held at the 2FA pages until they enrol again.
    assert worker_client.get("/inbox/")["Location"] == reverse("otp_verify")
    assert verify_chain().first_break is None


@pytest.mark.django_db
def test_otp_device_admins_are_not_mounted() -> None:
    from django.contrib import admin

    assert not admin.site.is_registered(TOTPDevice)


# --- Sessions end after inactivity ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_session_ends_after_thirty_idle_minutes(client: Client, clock: time_machine.Traveller) -> None:
    client.force_login(UserFactory.create(role=Role.PARTNER))
    assert client.get("/inbox/").status_code == 200
    clock.shift(29 * 60)
    assert client.get("/inbox/").status_code == 200
    clock.shift(31 * 60)
    assert client.get("/inbox/")["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_activity_keeps_the_session_alive(client: Client, clock: time_machine.Traveller) -> None:
    client.force_login(UserFactory.create(role=Role.PARTNER))
    for _ in range(4):
        clock.shift(20 * 60)
        assert client.get("/inbox/").status_code == 200


@pytest.mark.django_db
def test_session_status_reads_without_extending_and_stay_logged_in_extends(
    client: Client, clock: time_machine.Traveller
) -> None:
    client.force_login(UserFactory.create(role=Role.PARTNER))
    clock.shift(28 * 60)
    assert client.get(reverse("session_status")).json() == {"remaining": 120}
    clock.shift(60)
    assert client.get(reverse("session_status")).json() == {"remaining": 60}
    assert client.post(reverse("session_status")).json() == {"remaining": 1800}
    clock.shift(29 * 60)
    assert client.get("/inbox/").status_code == 200


@pytest.mark.django_db
def test_session_status_of_an_ended_session_is_zero(client: Client) -> None:
    assert client.get(reverse("session_status")).json() == {"remaining": 0}


@pytest.mark.django_db
def test_pages_carry_the_inactivity_warning_without_inline_script(
    client: Client, clock: time_machine.Traveller
) -> None:
    client.force_login(UserFactory.create(role=Role.PARTNER))
    html = client.get("/inbox/").content.decode()
    warning = re.search(r"<div class=\"session-warning\"[^>]*>", html, re.S)
    assert warning is not None
    assert 'data-remaining="1800"' in warning.group(0)
    assert 'data-warn-before="120"' in warning.group(0)
    assert "js/session.js" in html
    # Only external scripts (and JSON data blocks, which never run): a Content-Security-Policy forbids inline code.
    assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", html)


def test_idle_timeout_is_thirty_minutes_by_default(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_IDLE_MINUTES == 30
