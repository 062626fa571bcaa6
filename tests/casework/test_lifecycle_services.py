"""Closing a case with four eyes and recording court petitions (``casework.services.lifecycle``).

Each test states what a user would notice: the row (or its absence when the service refuses), who can open the case
afterwards, the notification and the audit entry of the write or of the refusal.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from casework.lifecycle_hooks import NoOpListener, hooks
from casework.models import (
    Case,
    CaseStatus,
    CloseReason,
    ClosureRequest,
    ClosureStatus,
    Conference,
    ConferenceStatus,
    CourtPetition,
    Municipality,
    Organisation,
    PetitionKind,
    Role,
    Sector,
    TeamMembership,
    User,
)
from casework.services import cases as case_services
from casework.services import (
    closure_approve,
    closure_request,
    closure_return,
    closure_withdraw,
    court_petition_record,
    lifecycle,
)
from notifications.models import Kind, Notification
from permissions.access import access_case_by_id
from permissions.models import AuditEvent
from tests.factories import OrganisationFactory, add_member, open_case, ospod_staff
from tests.scan import find_in_database

pytestmark = pytest.mark.django_db

EVALUATION = "Rodina zvládá péči, dítě chodí pravidelně do školy, SAS ukončena po dohodě."
RETURN_COMMENT = "Chybí zhodnocení bydlení a názor dítěte."
URGENT_REASON = "Dítě nalezeno samo v bytě bez jídla, matka nedosažitelná."


# --- Helpers ------------------------------------------------------------------------------------------------------


def last_audit(**filters: object) -> AuditEvent:
    event = AuditEvent.objects.filter(**filters).order_by("-seq").first()
    assert event is not None, f"no audit row for {filters}"
    return event


def sees(user: User, case: Case) -> bool:
    try:
        access_case_by_id(user, case.pk, purpose="case page")
    except Http404:
        return False
    return True


def fresh(row: Any) -> Any:
    return type(row).objects.get(pk=row.pk)


def propose(case: Case, by: User, **overrides: str) -> ClosureRequest:
    values = {"reason": CloseReason.GOALS_MET, "final_evaluation": EVALUATION, **overrides}
    return closure_request(case=case, by=by, **values)


def conference(case: Case, by: User, status: str, *, days_ago: int = 3) -> Conference:
    starts = timezone.now() - datetime.timedelta(days=days_ago)
    held = status in (ConferenceStatus.HELD, ConferenceStatus.SIGNED_OFF)
    return Conference.objects.create(
        case=case,
        starts_at=starts,
        place="Zasedačka",
        status=status,
        held_at=starts + datetime.timedelta(hours=1) if held else None,
        organised_by=by,
        signed_off_by=by if status == ConferenceStatus.SIGNED_OFF else None,
        signed_off_at=starts + datetime.timedelta(days=1) if status == ConferenceStatus.SIGNED_OFF else None,
    )


@pytest.fixture
def second_supervisor(ospod: Organisation) -> User:
    return ospod_staff(ospod, role=Role.SUPERVISOR, username="vedouci2", first_name="Ivana")


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    opened = open_case(coordinator=coordinator)
    add_member(opened, teacher, coordinator)
    return opened


# --- closure_request ----------------------------------------------------------------------------------------------


def test_the_coordinator_proposes_closure_sealed_audited_and_signalled(case: Case, coordinator: User) -> None:
    received: list[ClosureRequest] = []

    class Recorder(NoOpListener):
        def closure_requested(self, *, request: ClosureRequest) -> None:
            received.append(request)

    recorder = Recorder()
    hooks.register(recorder)
    try:
        request = propose(case, coordinator)
    finally:
        hooks.unregister(recorder)
    assert [r.pk for r in received] == [request.pk]
    row = fresh(request)
    assert (row.status, row.reason, row.requested_by_id) == (
        ClosureStatus.PENDING,
        CloseReason.GOALS_MET,
        coordinator.pk,
    )
    assert row.final_evaluation is not None
    assert find_in_database([EVALUATION]) == []  # ciphertext only
    event = last_audit(actor=coordinator, action="write")
    assert (event.object_type, event.purpose, event.case_id) == (
        "casework.closurerequest",
        "request case closure",
        case.pk,
    )
    assert set(event.field_names) == {"reason", "final_evaluation"}
    assert fresh(case).is_open  # a proposal closes nothing


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"reason": ""}, {"reason"}),
        ({"reason": "because"}, {"reason"}),
        ({"final_evaluation": "   "}, {"final_evaluation"}),
        ({"final_evaluation": "x" * 20_001}, {"final_evaluation"}),
        ({"reason": "", "final_evaluation": ""}, {"reason", "final_evaluation"}),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_written(
    case: Case, coordinator: User, values: dict[str, str], fields: set[str]
) -> None:
    audits = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        propose(case, coordinator, **values)
    assert set(error.value.message_dict) == fields
    assert not ClosureRequest.objects.exists()
    assert AuditEvent.objects.count() == audits


def test_one_pending_proposal_per_case(case: Case, coordinator: User) -> None:
    first = propose(case, coordinator)
    with pytest.raises(ValidationError) as error:
        propose(case, coordinator, reason=CloseReason.MOVED)
    assert set(error.value.message_dict) == {"case"}
    assert list(ClosureRequest.objects.values_list("pk", flat=True)) == [first.pk]
    closure_withdraw(request=first, by=coordinator)
    second = propose(case, coordinator, reason=CloseReason.MOVED)  # after a withdrawal a new one may follow
    assert fresh(second).status == ClosureStatus.PENDING


@pytest.mark.parametrize("who", ["teacher", "dpo", "foreign_worker"])
def test_only_the_lead_proposes_closure(request: pytest.FixtureRequest, case: Case, who: str) -> None:
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        propose(case, user)
    assert not ClosureRequest.objects.exists()
    event = last_audit(actor=user)
    assert (event.action, event.purpose) == ("deny", "request case closure")


def test_a_closed_case_cannot_be_proposed_for_closure(case: Case, coordinator: User) -> None:
    case_services.case_close(case=case, closed_by=coordinator, reason=CloseReason.MOVED)
    with pytest.raises(PermissionDenied):
        propose(fresh(case), coordinator)
    assert not ClosureRequest.objects.exists()


# --- closure_approve / closure_return: four eyes ------------------------------------------------------------------


def test_approval_closes_the_case_ends_the_team_and_tells_the_proposer(
    case: Case, coordinator: User, supervisor: User, teacher: User
) -> None:
    request = propose(case, coordinator)
    assert sees(teacher, case)
    approved = closure_approve(request=request, by=supervisor)
    assert (approved.status, approved.decided_by_id) == (ClosureStatus.APPROVED, supervisor.pk)
    assert approved.decided_at is not None
    closed = fresh(case)
    assert (closed.status, closed.close_reason, closed.closed_by_id) == (
        CaseStatus.CLOSED,
        CloseReason.GOALS_MET,
        supervisor.pk,
    )
    assert not TeamMembership.objects.filter(case=case, ended_at__isnull=True).exists()
    assert not sees(teacher, case)  # team access ended: the member gets 404
    assert sees(coordinator, case)  # read-only for the coordinator
    note = Notification.objects.get(recipient=coordinator, kind=Kind.CLOSURE_APPROVED)
    assert (note.case_id, note.object_id) == (case.pk, str(request.pk))
    event = last_audit(actor=supervisor, object_type="casework.closurerequest")
    assert (event.action, event.purpose) == ("write", "approve case closure")
    assert last_audit(actor=supervisor, object_type="casework.case").purpose == "close case"


def test_the_proposer_cannot_approve_or_return_even_as_a_supervisor(
    case: Case, supervisor: User, second_supervisor: User
) -> None:
    request = propose(case, supervisor)  # a supervisor covering the case proposes
    with pytest.raises(PermissionDenied):
        closure_approve(request=request, by=supervisor)
    assert (last_audit(actor=supervisor).action, last_audit(actor=supervisor).purpose) == (
        "deny",
        "approve case closure",
    )
    with pytest.raises(PermissionDenied):
        closure_return(request=request, by=supervisor, comment=RETURN_COMMENT)
    assert last_audit(actor=supervisor).purpose == "return case closure"
    assert fresh(request).status == ClosureStatus.PENDING
    assert fresh(case).is_open
    closure_approve(request=fresh(request), by=second_supervisor)  # another supervisor may
    assert fresh(case).status == CaseStatus.CLOSED


@pytest.mark.parametrize("who", ["coordinator", "teacher", "dpo", "foreign_supervisor"])
def test_only_a_supervisor_of_the_authority_decides(
    request: pytest.FixtureRequest, case: Case, supervisor: User, who: str, prostejov: Municipality
) -> None:
    if who == "foreign_supervisor":
        elsewhere = OrganisationFactory.create(name="OSPOD Prostějov", sector=Sector.OSPOD, municipality=prostejov)
        user = ospod_staff(elsewhere, role=Role.SUPERVISOR, username="cizi-vedouci")
    else:
        user = request.getfixturevalue(who)
    closure = propose(case, supervisor)
    with pytest.raises(PermissionDenied):
        closure_approve(request=closure, by=user)
    with pytest.raises(PermissionDenied):
        closure_return(request=closure, by=user, comment=RETURN_COMMENT)
    assert fresh(closure).status == ClosureStatus.PENDING
    assert fresh(case).is_open
    assert last_audit(actor=user).action == "deny"


def test_return_needs_a_comment_and_tells_the_proposer(case: Case, coordinator: User, supervisor: User) -> None:
    request = propose(case, coordinator)
    with pytest.raises(ValidationError) as error:
        closure_return(request=request, by=supervisor, comment="  ")
    assert set(error.value.message_dict) == {"comment"}
    assert fresh(request).status == ClosureStatus.PENDING
    returned = closure_return(request=request, by=supervisor, comment=RETURN_COMMENT)
    assert (returned.status, returned.decided_by_id) == (ClosureStatus.RETURNED, supervisor.pk)
    assert returned.return_comment is not None
    assert find_in_database([RETURN_COMMENT]) == []
    assert fresh(case).is_open
    assert Notification.objects.filter(recipient=coordinator, kind=Kind.CLOSURE_RETURNED, case_id=case.pk).exists()
    assert set(last_audit(actor=supervisor, action="write").field_names) == {"status", "decided_by", "return_comment"}
    # Decided once: neither approval nor another return.
    with pytest.raises(ValidationError):
        closure_approve(request=fresh(request), by=supervisor)
    assert fresh(case).is_open


def test_a_failure_inside_approval_leaves_the_proposal_pending_and_the_case_open(
    case: Case, coordinator: User, supervisor: User, teacher: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = propose(case, coordinator)

    def broken(**kwargs: object) -> Case:
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(case_services, "case_close", broken)
    with pytest.raises(RuntimeError):
        closure_approve(request=request, by=supervisor)
    assert fresh(request).status == ClosureStatus.PENDING
    assert fresh(request).decided_by_id is None
    assert fresh(case).is_open
    assert sees(teacher, case)
    assert not Notification.objects.filter(kind=Kind.CLOSURE_APPROVED).exists()


def test_a_failure_after_closing_rolls_the_closing_back(
    case: Case, coordinator: User, supervisor: User, teacher: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole approval is one transaction: the case does not stay closed when the request can't be marked."""
    request = propose(case, coordinator)

    def broken_notify(**kwargs: object) -> None:
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(lifecycle, "notify", broken_notify)
    with pytest.raises(RuntimeError):
        closure_approve(request=request, by=supervisor)
    assert fresh(request).status == ClosureStatus.PENDING
    assert fresh(case).is_open
    assert sees(teacher, case)


# --- closure_withdraw ---------------------------------------------------------------------------------------------


def test_the_proposer_or_a_lead_withdraws_a_pending_proposal(
    case: Case, coordinator: User, supervisor: User, teacher: User
) -> None:
    request = propose(case, coordinator)
    with pytest.raises(PermissionDenied):
        closure_withdraw(request=request, by=teacher)
    assert fresh(request).status == ClosureStatus.PENDING
    withdrawn = closure_withdraw(request=request, by=supervisor)
    assert withdrawn.status == ClosureStatus.WITHDRAWN
    assert last_audit(actor=supervisor, action="write").purpose == "withdraw case closure"
    with pytest.raises(ValidationError):
        closure_withdraw(request=fresh(request), by=coordinator)
    with pytest.raises(ValidationError):
        closure_approve(request=fresh(request), by=supervisor)
    assert fresh(case).is_open


# --- court_petition_record ----------------------------------------------------------------------------------------


def test_a_placement_petition_is_refused_without_a_held_conference(case: Case, coordinator: User) -> None:
    conference(case, coordinator, ConferenceStatus.SCHEDULED, days_ago=-3)  # only scheduled: does not count
    conference(case, coordinator, ConferenceStatus.CANCELLED)
    audits = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        court_petition_record(case=case, by=coordinator, kind=PetitionKind.PLACEMENT)
    assert set(error.value.message_dict) == {"kind"}
    assert "§ 14 odst. 2 písm. b)" in error.value.message_dict["kind"][0]  # the Czech catalogue's citation
    assert not CourtPetition.objects.exists()
    assert AuditEvent.objects.count() == audits


@pytest.mark.parametrize("status", [ConferenceStatus.HELD, ConferenceStatus.SIGNED_OFF])
def test_a_placement_petition_links_the_latest_held_conference(case: Case, coordinator: User, status: str) -> None:
    conference(case, coordinator, ConferenceStatus.HELD, days_ago=40)
    latest = conference(case, coordinator, status, days_ago=5)
    conference(case, coordinator, ConferenceStatus.SCHEDULED, days_ago=-7)
    petition = court_petition_record(case=case, by=coordinator, kind=PetitionKind.PLACEMENT)
    assert (petition.kind, petition.conference_id, petition.urgent_reason) == (PetitionKind.PLACEMENT, latest.pk, None)
    event = last_audit(actor=coordinator, action="write")
    assert (event.object_type, event.object_id, event.purpose) == (
        "casework.courtpetition",
        str(petition.pk),
        "record § 14(1) court petition",
    )
    assert not Notification.objects.filter(kind=Kind.URGENT_MEASURE).exists()


def test_an_urgent_petition_needs_a_reason(case: Case, coordinator: User) -> None:
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as error:
            court_petition_record(case=case, by=coordinator, kind=PetitionKind.URGENT, urgent_reason=reason)
        assert set(error.value.message_dict) == {"urgent_reason"}
    with pytest.raises(ValidationError) as error:
        court_petition_record(case=case, by=coordinator, kind="custody")
    assert set(error.value.message_dict) == {"kind"}
    assert not CourtPetition.objects.exists()
    assert not Notification.objects.filter(kind=Kind.URGENT_MEASURE).exists()


def test_an_urgent_petition_needs_no_conference_and_alerts_every_supervisor_without_the_reason(
    case: Case, coordinator: User, supervisor: User, second_supervisor: User, foreign_worker: User
) -> None:
    petition = court_petition_record(
        case=case, by=coordinator, kind=PetitionKind.URGENT, urgent_reason=f"  {URGENT_REASON}  "
    )
    assert (petition.kind, petition.conference_id) == (PetitionKind.URGENT, None)
    assert petition.urgent_reason is not None
    alerts = Notification.objects.filter(kind=Kind.URGENT_MEASURE)
    assert set(alerts.values_list("recipient_id", flat=True)) == {supervisor.pk, second_supervisor.pk}
    for alert in alerts:
        assert alert.urgent
        assert (alert.case_id, alert.case_reference, alert.object_id) == (case.pk, case.reference, str(petition.pk))
    assert find_in_database([URGENT_REASON]) == []  # neither in the notification nor anywhere else in plaintext
    event = last_audit(actor=coordinator, action="write")
    assert "§ 16" in event.purpose
    assert set(event.field_names) == {"kind", "filed_by", "urgent_reason"}


@pytest.mark.parametrize("who", ["teacher", "dpo", "supervisor_of_closed"])
def test_only_the_lead_of_an_open_case_records_a_petition(
    request: pytest.FixtureRequest, case: Case, coordinator: User, supervisor: User, who: str
) -> None:
    if who == "supervisor_of_closed":
        case_services.case_close(case=case, closed_by=coordinator, reason=CloseReason.MOVED)
        case = fresh(case)
        user = supervisor
    else:
        user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        court_petition_record(case=case, by=user, kind=PetitionKind.URGENT, urgent_reason=URGENT_REASON)
    assert not CourtPetition.objects.exists()
    assert not Notification.objects.filter(kind=Kind.URGENT_MEASURE).exists()
    event = last_audit(actor=user)
    assert (event.action, event.purpose) == ("deny", "record court petition")
