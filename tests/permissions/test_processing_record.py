"""The record of processing activities (GDPR Art. 30): generated from the compartments, the sealed fields and the
policy table, so a policy change shows up; for the DPO and supervisors only; the PDF is audited as an export."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from casework.compartments import Compartment
from casework.models import Sector, User
from permissions import policy
from permissions.models import AuditAction, AuditEvent
from permissions.processing_record import SUBJECTS, processing_record, sealed_fields_by_compartment

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_compartment_is_described_with_its_sealed_fields() -> None:
    fields = sealed_fields_by_compartment()
    record = processing_record()
    assert [row.key for row in record.compartments] == [c.value for c in Compartment]
    for compartment in Compartment:
        assert fields[compartment], f"no sealed field in {compartment}"
    with translation.override("en"):
        rows = {row.key: row for row in processing_record().compartments}
    assert any("birth number" in label for label in rows["identity"].data)
    assert rows["notifier"].in_inspection is False
    assert rows["identity"].in_inspection is False
    assert rows["social"].in_inspection is True
    # Every data subject category names real compartments.
    assert all(isinstance(c, Compartment) for _subject, cs in SUBJECTS for c in cs)


def test_a_policy_change_shows_in_the_record(monkeypatch: pytest.MonkeyPatch) -> None:
    with translation.override("en"):
        before = {row.sector: row for row in processing_record().sectors}
        assert "Health" not in before["School"].reads
        monkeypatch.setitem(
            policy.SECTOR_COMPARTMENTS, Sector.SCHOOL, frozenset({Compartment.SCHOOL, Compartment.HEALTH})
        )
        monkeypatch.setattr("permissions.processing_record.SECTOR_COMPARTMENTS", policy.SECTOR_COMPARTMENTS)
        after = {row.sector: row for row in processing_record().sectors}
        health = {row.key: row for row in processing_record().compartments}["health"]
    assert "Health" in after["School"].reads
    assert any("School" in reader for reader in health.readers)


def test_the_dpo_and_supervisors_read_it_others_do_not(
    dpo: User, supervisor: User, coordinator: User, teacher: User, administrator: User
) -> None:
    url = reverse("processing_record")
    for user in (dpo, supervisor):
        with translation.override("en"):
            page = client_for(user).get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
    for user in (coordinator, teacher, administrator):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).get(reverse("processing_record_pdf")).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_pdf_is_audited_as_an_export(dpo: User) -> None:
    response = client_for(dpo).get(reverse("processing_record_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "§ 55" in text
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor_id, event.object_type, event.purpose) == (
        dpo.pk,
        "permissions.processingrecord",
        "record of processing export (pdf)",
    )
