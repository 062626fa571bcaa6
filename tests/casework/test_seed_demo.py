"""seed_demo: the fictional Olomouc demo is complete, consistent and safe to run again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from casework.admin import administrator_permissions
from casework.management.commands.seed_demo import DEMO_PASSWORD, DEMO_PEOPLE
from casework.models import Municipality, Organisation, Role, Sector, User

EXPECTED_LOGINS = {
    "vedouci": Role.SUPERVISOR,
    "koordinator": Role.OSPOD_WORKER,
    "koordinatorka2": Role.OSPOD_WORKER,
    "ucitelka": Role.PARTNER,
    "vychovny": Role.PARTNER,
    "pediatr": Role.PARTNER,
    "psychiatr": Role.PARTNER,
    "sas": Role.PARTNER,
    "poverenec": Role.DPO,
    "spravce": Role.ADMINISTRATOR,
}


def _counts() -> tuple[int, ...]:
    return (
        Municipality.objects.count(),
        Organisation.objects.count(),
        User.objects.count(),
        sum(user.user_permissions.count() for user in User.objects.all()),
    )


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_running_twice_changes_nothing() -> None:
    _seed()
    first = _counts()
    hashes = dict(User.objects.values_list("username", "password"))
    second_output = _seed()
    assert _counts() == first
    assert dict(User.objects.values_list("username", "password")) == hashes
    assert "existing" in second_output


@pytest.mark.django_db
def test_every_demo_login_works_with_the_shared_password(client: Client) -> None:
    output = _seed()
    for username in EXPECTED_LOGINS:
        assert username in output
        response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        assert "_auth_user_id" in client.session
        client.post("/accounts/logout/")
    assert DEMO_PASSWORD in output


@pytest.mark.django_db
def test_demo_people_are_consistent_with_their_roles() -> None:
    _seed()
    assert {person.username for person in DEMO_PEOPLE} == set(EXPECTED_LOGINS)
    olomouc = Municipality.objects.get(code="OM")
    assert olomouc.name == "Olomouc"
    for username, role in EXPECTED_LOGINS.items():
        user = User.objects.select_related("organisation").get(username=username)
        user.full_clean()
        assert user.role == role
        assert user.organisation is not None
        assert user.organisation.municipality == olomouc
        assert user.get_full_name().strip() == f"{user.first_name} {user.last_name}"
        assert user.job_title
        assert not user.is_superuser
        assert user.is_staff == (role == Role.ADMINISTRATOR)
    assert User.objects.get(username="vedouci").sector == Sector.OSPOD
    assert User.objects.get(username="ucitelka").organisation != User.objects.get(username="vychovny").organisation
    sectors = set(Organisation.objects.values_list("sector", flat=True))
    assert sectors >= {Sector.OSPOD, Sector.SCHOOL, Sector.HEALTH, Sector.SERVICE}
    assert any(ch in "".join(User.objects.values_list("last_name", flat=True)) for ch in "ěščřžýáíéůú")


@pytest.mark.django_db
def test_only_the_administrator_gets_admin_permissions() -> None:
    _seed()
    administrator = User.objects.get(username="spravce")
    granted = set(administrator.user_permissions.values_list("codename", flat=True))
    assert granted == set(administrator_permissions().values_list("codename", flat=True))
    assert granted >= {"change_user", "add_organisation", "view_municipality"}
    assert "delete_user" not in granted
    assert not User.objects.exclude(username="spravce").filter(user_permissions__isnull=False).exists()


@pytest.mark.django_db
def test_refuses_to_run_with_production_settings() -> None:
    with override_settings(SETTINGS_MODULE="config.settings.prod"), pytest.raises(CommandError, match="production"):
        _seed()
    assert not User.objects.exists()
