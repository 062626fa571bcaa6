"""Transfer of a file between ORPs (the child moved, § 61(1)): proposed by the coordinator, accepted by a supervisor
of the receiving ORP who names the new coordinator. The file keeps its history and audit, gets the receiving
registry's reference (the old one kept as the cross-reference), the old team's memberships end, both sides are
notified by reference only, and the old authority keeps a read-only stub while losing the content."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.models import (
    Case,
    CaseTransfer,
    Child,
    CoordinatorAssignment,
    HandoverReason,
    MembershipEndReason,
    Municipality,
    Role,
    TeamMembership,
    TransferStatus,
    User,
)
from casework.services.competence import (
    case_transfer_decline,
    case_transfer_propose,
    competence_ensure_defaults,
)
from notifications.models import Kind, Notification
from permissions.access import load_case_access
from permissions.models import AuditEvent
from tests.factories import UserFactory, add_member, ospod_staff, school_partner, write_note
from tests.factories.cases import open_case
from workflows.models import Deadline, DeadlineKind
from workflows.services import deadline_set
from workflows.services.transfers import case_transfer_accept

from .conftest import client_for, html

pytestmark = pytest.mark.django_db

PRAGUE = ZoneInfo("Europe/Prague")
OPENED = datetime.datetime(2026, 2, 2, 9, 0, tzinfo=PRAGUE)
MOVED = datetime.datetime(2026, 5, 11, 10, 0, tzinfo=PRAGUE)
NOTE = "Rodina se stěhuje do Prostějova, matka našla práci."


@pytest.fixture(autouse=True)
def region(db: None) -> None:
    competence_ensure_defaults()


@pytest.fixture
def cast(olomouc: Municipality, supervisor: User, coordinator: User, foreign_supervisor: User) -> dict[str, User]:
    assert coordinator.organisation is not None
    assert foreign_supervisor.organisation is not None
    return {
        "old_coordinator": coordinator,
        "old_supervisor": supervisor,
        "old_ospod_member": ospod_staff(coordinator.organisation, username="kolegyne_om"),
        "teacher": school_partner(municipality=olomouc, username="ucitelka_om"),
        "new_supervisor": foreign_supervisor,
        "new_coordinator": UserFactory.create(
            username="koordinatorka_pv", role=Role.OSPOD_WORKER, organisation=foreign_supervisor.organisation
        ),
    }


@pytest.fixture
def case(cast: dict[str, User]) -> Case:
    coordinator = cast["old_coordinator"]
    with time_machine.travel(OPENED, tick=False):
        case = open_case(coordinator=coordinator)
        add_member(case, cast["old_ospod_member"], coordinator)
        add_member(case, cast["teacher"], coordinator)
        write_note(case, coordinator, "social", NOTE)
    return case


def _status(user: User, case: Case) -> int:
    return client_for(user).get(reverse("case_detail", args=[case.pk])).status_code


# Who sees the file before and after: (relationship before, page before, relationship after, page after).
ACCESS_TABLE = {
    "old_coordinator": ("case_lead", 200, "none", 404),
    "old_supervisor": ("case_lead", 200, "none", 404),
    "old_ospod_member": ("team_member", 200, "none", 404),
    "teacher": ("team_member", 200, "none", 404),
    "new_supervisor": ("none", 404, "case_lead", 200),
    "new_coordinator": ("none", 404, "case_lead", 200),
}


def test_transfer_moves_the_file_with_its_history_and_access_follows(cast: dict[str, User], case: Case) -> None:
    prostejov = Municipality.objects.get(code="PV")
    prostejov.case_reference_format = "Om {number}/{year}"
    prostejov.save()
    old_reference = case.reference
    for key, (before, page, _after, _page_after) in ACCESS_TABLE.items():
        assert load_case_access(cast[key], case).relationship == before, key
        assert _status(cast[key], case) == page, key
    # An open deadline on the file (the assessment's, say): after the move it escalates in Prostějov.
    with time_machine.travel(OPENED, tick=False):
        deadline_set(
            kind=DeadlineKind.ASSESSMENT,
            due_at=MOVED + datetime.timedelta(days=20),
            owner=cast["old_coordinator"],
            municipality=case.municipality,
            case=case,
        )

    with time_machine.travel(MOVED, tick=False):
        transfer = case_transfer_propose(case=case, to_municipality=prostejov, by=cast["old_coordinator"])
        proposed = Notification.objects.get(kind=Kind.TRANSFER_PROPOSED)
        assert proposed.recipient_id == cast["new_supervisor"].pk
        assert proposed.case_reference == old_reference
        offered = html(client_for(cast["new_supervisor"]).get(reverse("competence")))
        assert reverse("transfer_decide", args=[transfer.pk]) in offered
        assert NOTE not in offered
        response = client_for(cast["new_supervisor"]).post(
            reverse("transfer_decide", args=[transfer.pk]),
            {f"t{transfer.pk}-decision": "accept", f"t{transfer.pk}-new_coordinator": cast["new_coordinator"].pk},
        )
    assert response.status_code == 302
    case.refresh_from_db()
    transfer.refresh_from_db()
    assert case.municipality_id == prostejov.pk
    assert case.reference == "Om 1/2026"
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert (transfer.status, transfer.old_reference, transfer.new_reference) == (
        TransferStatus.ACCEPTED,
        old_reference,
        case.reference,
    )
    assert Child.objects.get(pk=case.child_id).municipality_id == prostejov.pk
    history = list(CoordinatorAssignment.objects.filter(case=case).order_by("assigned_at"))
    assert [(a.coordinator_id, a.reason, a.ended_at is None) for a in history] == [
        (cast["old_coordinator"].pk, HandoverReason.ASSIGNED, False),
        (cast["new_coordinator"].pk, HandoverReason.TRANSFER, True),
    ]
    assert set(TeamMembership.objects.filter(case=case).values_list("end_reason", flat=True)) == {
        MembershipEndReason.CASE_TRANSFERRED
    }
    # The case flow's open tasks and deadlines follow the file.
    open_tasks = Task.objects.filter(process__caseprocess__case=case).exclude(status__in=[STATUS.DONE, STATUS.CANCELED])
    assert open_tasks.exists()
    assert set(open_tasks.exclude(owner__isnull=True).values_list("owner_id", flat=True)) == {
        cast["new_coordinator"].pk
    }
    moved_deadlines = Deadline.objects.filter(case=case, done_at__isnull=True)
    assert {(d.municipality_id, d.reference) for d in moved_deadlines} == {(prostejov.pk, case.reference)}
    # Audit: the transfer's writes, in the file's own audit trail.
    purposes = set(AuditEvent.objects.filter(case_id=case.pk).values_list("purpose", flat=True))
    assert {"propose transfer", "accept case transfer", "accept transfer"} <= purposes
    # Both sides are told, by reference only.
    accepted = Notification.objects.filter(kind=Kind.TRANSFER_ACCEPTED)
    assert set(accepted.values_list("recipient_id", flat=True)) == {
        cast["old_coordinator"].pk,
        cast["old_supervisor"].pk,
    }
    assert {n.case_reference for n in accepted} == {old_reference}
    assert Notification.objects.get(kind=Kind.CASE_ASSIGNED, recipient=cast["new_coordinator"]).case_reference == (
        case.reference
    )

    for key, (_before, _page, after, page_after) in ACCESS_TABLE.items():
        assert load_case_access(cast[key], case).relationship == after, key
        assert _status(cast[key], case) == page_after, key
    # The history came along: the new coordinator reads the note written in Olomouc.
    assert NOTE in html(client_for(cast["new_coordinator"]).get(reverse("case_detail", args=[case.pk])))
    # The old authority keeps a stub: both references, no content.
    for key in ("old_coordinator", "old_supervisor"):
        stub = html(client_for(cast[key]).get(reverse("competence")))
        assert old_reference in stub, key
        assert case.reference in stub, key
        assert NOTE not in stub, key
    assert old_reference not in html(client_for(cast["teacher"]).get(reverse("case_list")))


def test_transfer_back_keeps_the_whole_history(cast: dict[str, User], case: Case) -> None:
    prostejov = Municipality.objects.get(code="PV")
    first_reference = case.reference
    with time_machine.travel(MOVED, tick=False):
        there = case_transfer_propose(case=case, to_municipality=prostejov, by=cast["old_coordinator"])
        case = case_transfer_accept(transfer=there, new_coordinator=cast["new_coordinator"], by=cast["new_supervisor"])
    with time_machine.travel(MOVED + datetime.timedelta(days=40), tick=False):
        back = case_transfer_propose(
            case=case, to_municipality=Municipality.objects.get(code="OM"), by=cast["new_coordinator"]
        )
        case = case_transfer_accept(transfer=back, new_coordinator=cast["old_coordinator"], by=cast["old_supervisor"])
    assert case.municipality.code == "OM"
    assert case.reference != first_reference  # a new number of the Olomouc registry
    back.refresh_from_db()
    assert back.old_reference.startswith("PV ")
    coordinators = list(
        CoordinatorAssignment.objects.filter(case=case).order_by("assigned_at").values_list("coordinator_id", flat=True)
    )
    assert coordinators == [cast["old_coordinator"].pk, cast["new_coordinator"].pk, cast["old_coordinator"].pk]
    assert NOTE in html(client_for(cast["old_coordinator"]).get(reverse("case_detail", args=[case.pk])))
    assert _status(cast["new_coordinator"], case) == 404


def test_transfer_bad_input_is_field_errors_with_nothing_written(cast: dict[str, User], case: Case) -> None:
    own = Municipality.objects.get(code="OM")
    without_supervisors = Municipality.objects.get(code="PR")
    for target in (own, without_supervisors, None):
        with pytest.raises(ValidationError) as raised:
            case_transfer_propose(case=case, to_municipality=target, by=cast["old_coordinator"])
        assert set(raised.value.message_dict) == {"to_municipality"}
    assert CaseTransfer.objects.count() == 0
    # The page says the same, per field.
    response = client_for(cast["old_coordinator"]).post(
        reverse("transfer_propose", args=[case.pk]), {"to_municipality": own.pk}
    )
    assert response.status_code == 200
    assert 'id="id_to_municipality_error"' in html(response)
    assert CaseTransfer.objects.count() == 0

    transfer = case_transfer_propose(
        case=case, to_municipality=Municipality.objects.get(code="PV"), by=cast["old_coordinator"]
    )
    with pytest.raises(ValidationError):
        case_transfer_propose(
            case=case, to_municipality=Municipality.objects.get(code="PV"), by=cast["old_coordinator"]
        )
    # Accepting: only the receiving ORP's supervisor, and a coordinator of that ORP.
    for outsider in (cast["old_supervisor"], cast["new_coordinator"]):
        with pytest.raises(PermissionDenied):
            case_transfer_accept(transfer=transfer, new_coordinator=cast["new_coordinator"], by=outsider)
    for wrong in (cast["old_coordinator"], cast["teacher"], None):
        with pytest.raises(ValidationError) as raised:
            case_transfer_accept(transfer=transfer, new_coordinator=wrong, by=cast["new_supervisor"])
        assert set(raised.value.message_dict) == {"new_coordinator"}
    case.refresh_from_db()
    transfer.refresh_from_db()
    assert case.municipality.code == "OM"
    assert transfer.status == TransferStatus.PROPOSED
    assert TeamMembership.objects.filter(case=case, ended_at__isnull=True).count() == 2
    assert not Notification.objects.filter(kind=Kind.TRANSFER_ACCEPTED).exists()


def test_only_the_lead_proposes_and_a_declined_transfer_changes_nothing(cast: dict[str, User], case: Case) -> None:
    prostejov = Municipality.objects.get(code="PV")
    for not_lead in (cast["teacher"], cast["old_ospod_member"], cast["new_supervisor"]):
        with pytest.raises(PermissionDenied):
            case_transfer_propose(case=case, to_municipality=prostejov, by=not_lead)
    transfer = case_transfer_propose(case=case, to_municipality=prostejov, by=cast["old_coordinator"])
    case_transfer_decline(transfer=transfer, by=cast["new_supervisor"])
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.DECLINED
    assert Notification.objects.get(kind=Kind.TRANSFER_DECLINED).recipient_id == cast["old_coordinator"].pk
    for key, (before, _page, _after, _page_after) in ACCESS_TABLE.items():
        assert load_case_access(cast[key], case).relationship == before, key
