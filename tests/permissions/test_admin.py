"""The audit log in the admin: the DPO reads it, view only; nobody adds, changes or deletes a row; the DPO sees
nothing else in the admin, and the administrator does not read the audit log there (issue 19)."""

from __future__ import annotations

import pytest
from django.test import Client

from casework.models import Role
from permissions import audit
from permissions.models import AuditAction, AuditEvent, AuditOutcome
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _row() -> AuditEvent:
    return audit.record_committed(
        actor=None,
        action=AuditAction.READ,
        object_type="casework.case",
        object_id="1",
        fields=["summary"],
        purpose="test",
        outcome=AuditOutcome.ALLOWED,
    )


def test_the_dpo_reads_the_audit_log_in_the_admin_read_only() -> None:
    row = _row()
    dpo = UserFactory.create(role=Role.DPO)
    assert not dpo.is_staff
    client = Client()
    client.force_login(dpo)
    index = client.get("/admin/")
    assert index.status_code == 200
    html = index.content.decode()
    assert "/admin/permissions/auditevent/" in html
    for elsewhere in ("/admin/casework/user/", "/admin/casework/organisation/", "/admin/casework/municipality/"):
        assert elsewhere not in html
    assert client.get("/admin/permissions/auditevent/").status_code == 200
    detail = client.get(f"/admin/permissions/auditevent/{row.pk}/change/")
    assert detail.status_code == 200
    assert 'name="purpose"' not in detail.content.decode()  # shown as text, not as a field
    assert client.post(f"/admin/permissions/auditevent/{row.pk}/change/", {"purpose": "changed"}).status_code == 403
    assert client.get("/admin/permissions/auditevent/add/").status_code == 403
    assert client.post("/admin/permissions/auditevent/add/", {"purpose": "x"}).status_code == 403
    assert client.get(f"/admin/permissions/auditevent/{row.pk}/delete/").status_code == 403
    assert client.post(f"/admin/permissions/auditevent/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    changelist_delete = client.post(
        "/admin/permissions/auditevent/", {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert changelist_delete.status_code in (200, 302)
    assert client.get("/admin/casework/user/").status_code == 403
    assert AuditEvent.objects.filter(pk=row.pk, purpose="test").exists()


def test_the_administrator_does_not_read_the_audit_log() -> None:
    row = _row()
    client = Client()
    client.force_login(UserFactory.create(role=Role.ADMINISTRATOR))
    assert "/admin/permissions/auditevent/" not in client.get("/admin/").content.decode()
    assert client.get("/admin/permissions/auditevent/").status_code == 403
    assert client.get(f"/admin/permissions/auditevent/{row.pk}/change/").status_code == 403


@pytest.mark.parametrize("role", [Role.PARTNER, Role.OSPOD_WORKER, Role.SUPERVISOR])
def test_other_roles_do_not_enter_the_admin(role: str) -> None:
    client = Client()
    client.force_login(UserFactory.create(role=role))
    assert client.get("/admin/permissions/auditevent/").status_code == 302


def test_the_admins_own_password_page_leads_to_the_audited_one() -> None:
    client = Client()
    client.force_login(UserFactory.create(role=Role.ADMINISTRATOR))
    response = client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/"
