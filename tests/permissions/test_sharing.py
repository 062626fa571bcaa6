"""A share's purpose is protected text (it says why a part of the child's file is shared, often naming what it is
about): sealed at rest under the case's key, shown back only through the gate on the sharing pages."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from casework.models import Case, User
from permissions import gate
from permissions.models import AuditAction, AuditEvent, AuditOutcome, Share
from tests.factories import add_member, open_case, share
from tests.scan import find_in_database

pytestmark = pytest.mark.django_db

CANARY = "Podezření na zanedbávání péče SHAREPURPOSECANARY"


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    return case


def _page(user: User, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode().replace("\xa0", " ")


def test_a_shares_purpose_is_not_stored_in_clear(case: Case, coordinator: User, teacher: User) -> None:
    share(case, coordinator, with_user=teacher, compartment="school", purpose=CANARY)
    assert find_in_database([CANARY, "SHAREPURPOSECANARY"]) == []


def test_the_sharing_page_shows_the_purpose_to_the_lead_through_the_gate(
    case: Case, coordinator: User, teacher: User
) -> None:
    granted = share(case, coordinator, with_user=teacher, compartment="school", purpose=CANARY)
    assert CANARY in _page(coordinator, reverse("case_sharing", args=[case.pk]))
    read = AuditEvent.objects.filter(
        action=AuditAction.READ, object_type="permissions.share", case_id=case.pk, purpose="case sharing"
    ).get()
    assert read.outcome == AuditOutcome.ALLOWED
    assert read.field_names == ["purpose"]
    revoke_url = reverse("share_revoke", args=[case.pk, granted.pk])
    assert CANARY in _page(coordinator, revoke_url)
    assert AuditEvent.objects.filter(
        action=AuditAction.READ, object_type="permissions.share", purpose="revoke share"
    ).exists()


def test_a_share_stays_readable_after_its_revocation(case: Case, coordinator: User, teacher: User) -> None:
    """Revoking writes the row again (``refresh_from_db``): the sealed purpose is untouched and still opens."""
    from permissions.sharing import share_revoke

    granted = share(case, coordinator, with_user=teacher, compartment="school", purpose=CANARY)
    share_revoke(share=Share.objects.select_related("case").get(pk=granted.pk), revoked_by=coordinator)
    assert CANARY in _page(coordinator, reverse("case_sharing", args=[case.pk]))
    assert find_in_database([CANARY]) == []


def test_the_migration_seals_plaintext_purposes_and_reverses(
    transactional_db: None, coordinator: User, teacher: User
) -> None:
    """Migrating back opens every purpose into a plaintext column (the old code's); migrating forward seals them again,
    bound to their row, so the gate opens them and the raw table holds no plaintext."""
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    granted = share(case, coordinator, with_user=teacher, compartment="school", purpose=CANARY)
    try:
        call_command("migrate", "permissions", "0003_case_permissions_shares_consents", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT purpose FROM permissions_share WHERE id = %s", [granted.pk.hex])
            rows = cursor.fetchall()
            if not rows:  # PostgreSQL stores UUIDs natively
                cursor.execute("SELECT purpose FROM permissions_share WHERE id = %s", [granted.pk])
                rows = cursor.fetchall()
        assert rows == [(CANARY,)]
    finally:
        call_command("migrate", "permissions", verbosity=0)
    assert find_in_database([CANARY]) == []
    reloaded = Share.objects.get(pk=granted.pk)
    assert gate.read_case(coordinator, case, [reloaded], ["purpose"], purpose="test").pop().get("purpose") == CANARY
