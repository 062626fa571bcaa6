"""Case services: opening and closing a case file, handing it over, building the team, writing notes.

Each test states what a user would notice: the row (or its absence when the service refuses), who can open the case
afterwards, and the audit entry of the write or of the refusal.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from casework.compartments import Compartment
from casework.models import (
    NOTE_COMPARTMENTS,
    Case,
    CaseNote,
    CaseStatus,
    CloseReason,
    CoordinatorAssignment,
    HandoverReason,
    MembershipEndReason,
    Municipality,
    OpenReason,
    Organisation,
    Role,
    Sector,
    TeamMembership,
    User,
)
from casework.services import (
    case_close,
    case_open,
    coordinator_handover,
    team_member_add,
    team_member_end,
)
from permissions import audit, gate
from permissions.access import access_case_by_id, load_case_access
from permissions.models import AuditEvent, CaseUserObjectPermission
from permissions.policy import Relationship
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    add_member,
    health_partner,
    open_case,
    ospod_staff,
    team_role,
    write_note,
)
from tests.factories.cases import CLASS_TEACHER
from tests.factories.children import register_child
from tests.scan import find_in_database

PRAGUE = datetime.timezone(datetime.timedelta(hours=1))


# --- Helpers ------------------------------------------------------------------------------------------------------


def last_audit(**filters: object) -> AuditEvent:
    event = AuditEvent.objects.filter(**filters).order_by("-seq").first()
    assert event is not None, f"no audit row for {filters}"
    return event


def permission_rows(case: Case) -> set[tuple[str, str]]:
    """The case's object-permission index as (username, codename)."""
    return set(
        CaseUserObjectPermission.objects.filter(content_object=case).values_list(
            "user__username", "permission__codename"
        )
    )


def sees(user: User, case: Case) -> bool:
    """What the user notices on their next request: the case page or "not found"."""
    try:
        access_case_by_id(user, case.pk, purpose="case page")
    except Http404:
        return False
    return True


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def colleague(ospod: Organisation) -> User:
    """Another OSPOD worker of the same authority."""
    return ospod_staff(ospod, username="kolegyne", first_name="Marta")


@pytest.fixture
def paediatrician(olomouc: Municipality) -> User:
    return health_partner(municipality=olomouc, username="pediatr")


@pytest.fixture
def case(coordinator: User, supervisor: User) -> Case:
    return open_case(coordinator=coordinator, opened_by=supervisor)


# --- case_open ----------------------------------------------------------------------------------------------------


@pytest.fixture
def december(coordinator: User) -> Iterator[None]:
    with time_machine.travel(datetime.datetime(2026, 12, 30, 10, 0, tzinfo=PRAGUE), tick=False):
        yield


def test_cases_are_numbered_per_authority_and_year(
    december: None, coordinator: User, supervisor: User, foreign_worker: User
) -> None:
    first = open_case(coordinator=coordinator, opened_by=supervisor, given_name="Adam")
    second = open_case(coordinator=coordinator, opened_by=supervisor, given_name="Bára")
    elsewhere = open_case(coordinator=foreign_worker, given_name="Cyril")
    assert (first.reference, second.reference) == ("OM 2026/0001", "OM 2026/0002")
    assert elsewhere.reference == "PV 2026/0001"
    # Half past midnight on New Year's Day in Prague is still 31 December in UTC: the Czech year counts.
    with time_machine.travel(datetime.datetime(2027, 1, 1, 0, 30, tzinfo=PRAGUE), tick=False):
        new_year = open_case(coordinator=coordinator, given_name="Dana")
    assert new_year.reference == "OM 2027/0001"
    assert (new_year.year, new_year.number) == (2027, 1)


def test_opening_a_case_assigns_the_coordinator_and_is_audited(
    coordinator: User, supervisor: User, olomouc: Municipality
) -> None:
    child = register_child(by=coordinator)
    case = case_open(child=child, coordinator=coordinator, opened_by=supervisor, reason=OpenReason.REPORT)
    case = fresh(case)
    assert case.status == CaseStatus.OPEN
    assert (case.municipality, case.coordinator, case.opened_by) == (olomouc, coordinator, supervisor)
    [assignment] = CoordinatorAssignment.objects.filter(case=case)
    assert (assignment.coordinator, assignment.assigned_by, assignment.reason) == (
        coordinator,
        supervisor,
        HandoverReason.ASSIGNED,
    )
    assert assignment.ended_at is None
    assert permission_rows(case) == {("koord", "view_case"), ("koord", "coordinate_case")}
    event = last_audit(case_id=case.pk)
    assert (event.action, event.outcome, event.actor) == ("write", "allowed", supervisor)
    assert (event.object_type, event.object_id) == ("casework.case", str(case.pk))
    assert event.field_names == ["coordinator", "open_reason", "status"]
    assert sees(coordinator, case)
    assert sees(supervisor, case)


@pytest.mark.parametrize("who", ["teacher", "foreign_worker", "dpo", "administrator", "inactive_worker"])
def test_the_coordinator_must_be_an_active_ospod_worker_of_the_authority(
    request: pytest.FixtureRequest, coordinator: User, ospod: Organisation, who: str
) -> None:
    candidate = ospod_staff(ospod, is_active=False) if who == "inactive_worker" else request.getfixturevalue(who)
    child = register_child(by=coordinator)
    audit_rows = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        case_open(child=child, coordinator=candidate, opened_by=coordinator, reason=OpenReason.REPORT)
    assert set(error.value.message_dict) == {"coordinator"}
    assert not Case.objects.exists()
    assert not CoordinatorAssignment.objects.exists()
    assert not CaseUserObjectPermission.objects.exists()
    assert AuditEvent.objects.count() == audit_rows


def test_a_child_has_at_most_one_open_case(coordinator: User, supervisor: User) -> None:
    child = register_child(by=coordinator)
    first = case_open(child=child, coordinator=coordinator, opened_by=coordinator, reason=OpenReason.REPORT)
    with pytest.raises(ValidationError) as error:
        case_open(child=child, coordinator=coordinator, opened_by=supervisor, reason=OpenReason.OWN_FINDING)
    assert set(error.value.message_dict) == {"child"}
    assert first.reference in error.value.message_dict["child"][0]
    assert Case.objects.filter(child=child).count() == 1
    # Once the first case is closed, a new one may be opened for the same child.
    case_close(case=first, closed_by=coordinator, reason=CloseReason.GOALS_MET)
    second = case_open(child=child, coordinator=coordinator, opened_by=coordinator, reason=OpenReason.REPORT)
    assert second.reference != first.reference
    assert list(Case.objects.filter(child=child, status=CaseStatus.OPEN)) == [second]


def test_the_database_itself_refuses_a_second_open_case_for_a_child(coordinator: User) -> None:
    case = open_case(coordinator=coordinator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            municipality=case.municipality,
            year=case.year,
            number=case.number + 1,
            reference=Case.format_reference(case.municipality.code, case.year, case.number + 1),
            child=case.child,
            coordinator=coordinator,
            opened_by=coordinator,
            open_reason=OpenReason.REPORT,
        )
    assert Case.objects.filter(child=case.child).count() == 1


@pytest.mark.parametrize("who", ["foreign_worker", "teacher", "dpo", "administrator"])
def test_only_ospod_of_the_childs_authority_opens_a_case_and_a_refusal_is_audited(
    request: pytest.FixtureRequest, coordinator: User, who: str
) -> None:
    opener = request.getfixturevalue(who)
    child = register_child(by=coordinator)
    with pytest.raises(PermissionDenied):
        case_open(child=child, coordinator=coordinator, opened_by=opener, reason=OpenReason.REPORT)
    assert not Case.objects.exists()
    event = last_audit(actor=opener)
    assert (event.action, event.outcome) == ("deny", "denied")
    assert (event.object_type, event.object_id, event.purpose) == ("casework.child", str(child.pk), "open case")


@pytest.mark.django_db(transaction=True)
def test_the_refusal_to_open_is_committed_although_the_service_raised() -> None:
    # A transactional test: no test transaction wraps this one, so a row that is there was committed.
    ospod = OrganisationFactory.create(name="OSPOD Olomouc", sector=Sector.OSPOD)
    coordinator = ospod_staff(ospod)
    teacher = UserFactory.create(role=Role.PARTNER)
    child = register_child(by=coordinator)
    with pytest.raises(PermissionDenied):
        case_open(child=child, coordinator=coordinator, opened_by=teacher, reason=OpenReason.REPORT)
    assert not transaction.get_connection().in_atomic_block
    assert AuditEvent.objects.filter(actor=teacher, action="deny", object_id=str(child.pk)).count() == 1


def test_a_reason_for_opening_is_required(coordinator: User) -> None:
    child = register_child(by=coordinator)
    with pytest.raises(ValidationError) as error:
        case_open(child=child, coordinator=coordinator, opened_by=coordinator, reason="because")
    assert set(error.value.message_dict) == {"reason"}
    assert not Case.objects.exists()


# --- case_close ---------------------------------------------------------------------------------------------------


def test_closing_ends_the_team_and_its_access_but_the_lead_keeps_reading(
    case: Case, coordinator: User, supervisor: User, teacher: User, paediatrician: User
) -> None:
    add_member(case, teacher, coordinator)
    add_member(case, paediatrician, coordinator)
    assert sees(teacher, case)
    assert sees(paediatrician, case)

    case_close(case=case, closed_by=coordinator, reason=CloseReason.GOALS_MET)

    case = fresh(case)
    assert (case.status, case.close_reason, case.closed_by) == (CaseStatus.CLOSED, CloseReason.GOALS_MET, coordinator)
    assert case.closed_at is not None
    memberships = TeamMembership.objects.filter(case=case)
    assert memberships.count() == 2
    assert all(m.ended_at == case.closed_at and m.end_reason == MembershipEndReason.CASE_CLOSED for m in memberships)
    assert not sees(teacher, case)
    assert not sees(paediatrician, case)
    for lead in (coordinator, supervisor):
        assert sees(lead, case)
        standing = load_case_access(lead, case)
        assert standing.read_only
        assert not standing.may_manage
    # The index: only the coordinator's read-only entry is left; the members' rows are gone.
    assert permission_rows(case) == {("koord", "view_case")}
    event = last_audit(case_id=case.pk, action="write")
    assert (event.actor, event.purpose, event.field_names) == (coordinator, "close case", ["close_reason", "status"])


def test_a_closed_case_cannot_be_closed_again_or_managed(case: Case, coordinator: User, teacher: User) -> None:
    case_close(case=case, closed_by=coordinator, reason=CloseReason.MOVED)
    with pytest.raises(PermissionDenied):
        case_close(case=fresh(case), closed_by=coordinator, reason=CloseReason.OTHER)
    with pytest.raises(PermissionDenied):
        add_member(fresh(case), teacher, coordinator)
    assert fresh(case).close_reason == CloseReason.MOVED
    assert last_audit(actor=coordinator).action == "deny"


@pytest.mark.parametrize("who", ["teacher", "dpo", "colleague"])
def test_only_the_lead_closes_a_case(request: pytest.FixtureRequest, case: Case, coordinator: User, who: str) -> None:
    user = request.getfixturevalue(who)
    if who == "teacher":
        add_member(case, user, coordinator)
    with pytest.raises(PermissionDenied):
        case_close(case=case, closed_by=user, reason=CloseReason.GOALS_MET)
    assert fresh(case).status == CaseStatus.OPEN
    event = last_audit(actor=user)
    assert (event.action, event.purpose, event.case_id) == ("deny", "close case", case.pk)


def test_the_supervisor_may_close_and_a_reason_is_required(case: Case, supervisor: User) -> None:
    with pytest.raises(ValidationError) as error:
        case_close(case=case, closed_by=supervisor, reason="")
    assert set(error.value.message_dict) == {"reason"}
    assert fresh(case).is_open
    case_close(case=case, closed_by=supervisor, reason=CloseReason.NOT_AT_RISK)
    assert fresh(case).status == CaseStatus.CLOSED


# --- coordinator_handover -----------------------------------------------------------------------------------------


def test_handover_keeps_the_history_and_moves_access(
    case: Case, coordinator: User, supervisor: User, colleague: User
) -> None:
    assert not sees(colleague, case)
    coordinator_handover(case=case, to=colleague, by=supervisor, reason=HandoverReason.WORKLOAD)

    assert fresh(case).coordinator == colleague
    first, second = CoordinatorAssignment.objects.filter(case=case).order_by("assigned_at", "pk")
    assert (first.coordinator, first.reason) == (coordinator, HandoverReason.ASSIGNED)
    assert first.ended_at == second.assigned_at
    assert (second.coordinator, second.assigned_by, second.reason) == (colleague, supervisor, HandoverReason.WORKLOAD)
    assert second.ended_at is None
    assert sees(colleague, case)
    assert load_case_access(colleague, fresh(case)).is_coordinator
    assert not sees(coordinator, case)
    assert permission_rows(case) == {("kolegyne", "view_case"), ("kolegyne", "coordinate_case")}
    event = last_audit(case_id=case.pk, action="write")
    assert (event.actor, event.purpose, event.field_names) == (supervisor, "hand over case", ["coordinator"])


def test_a_supervisor_who_hands_over_their_own_case_keeps_access(
    supervisor: User, colleague: User, coordinator: User
) -> None:
    case = open_case(coordinator=supervisor)
    coordinator_handover(case=case, to=colleague, by=supervisor, reason=HandoverReason.ABSENCE)
    assert sees(supervisor, case)
    assert load_case_access(supervisor, fresh(case)).relationship is Relationship.CASE_LEAD
    assert not load_case_access(supervisor, fresh(case)).is_coordinator


def test_handing_over_to_a_team_member_ends_their_membership(case: Case, coordinator: User, colleague: User) -> None:
    membership = add_member(case, colleague, coordinator)
    coordinator_handover(case=case, to=colleague, by=coordinator, reason=HandoverReason.LEAVING)
    membership.refresh_from_db()
    assert membership.ended_at is not None
    assert load_case_access(colleague, fresh(case)).is_coordinator


@pytest.mark.parametrize("who", ["teacher", "foreign_worker", "dpo", "coordinator"])
def test_handover_target_must_be_another_ospod_worker_of_the_authority(
    request: pytest.FixtureRequest, case: Case, supervisor: User, who: str
) -> None:
    target = request.getfixturevalue(who)
    with pytest.raises(ValidationError) as error:
        coordinator_handover(case=case, to=target, by=supervisor, reason=HandoverReason.WORKLOAD)
    assert set(error.value.message_dict) == {"coordinator"}
    assert fresh(case).coordinator.username == "koord"
    assert CoordinatorAssignment.objects.filter(case=case).count() == 1


def test_a_handover_needs_a_reason_other_than_first_assignment(case: Case, supervisor: User, colleague: User) -> None:
    with pytest.raises(ValidationError) as error:
        coordinator_handover(case=case, to=colleague, by=supervisor, reason=HandoverReason.ASSIGNED)
    assert set(error.value.message_dict) == {"reason"}
    assert fresh(case).coordinator.username == "koord"


@pytest.mark.parametrize("who", ["teacher", "dpo", "colleague"])
def test_partners_the_dpo_and_colleagues_cannot_hand_over(
    request: pytest.FixtureRequest, case: Case, coordinator: User, colleague: User, who: str
) -> None:
    user = request.getfixturevalue(who)
    if who == "teacher":
        add_member(case, user, coordinator)
    with pytest.raises(PermissionDenied):
        coordinator_handover(case=case, to=colleague, by=user, reason=HandoverReason.WORKLOAD)
    assert fresh(case).coordinator == coordinator
    event = last_audit(actor=user)
    assert (event.action, event.outcome, event.purpose) == ("deny", "denied", "hand over case")


# --- team_member_add ----------------------------------------------------------------------------------------------


def test_adding_a_member_opens_the_case_to_them_with_an_index_row_and_an_audit_row(
    case: Case, coordinator: User, teacher: User
) -> None:
    assert not sees(teacher, case)
    membership = team_member_add(
        case=case,
        user=teacher,
        team_role=team_role(CLASS_TEACHER),
        valid_from=None,
        valid_until=None,
        added_by=coordinator,
    )
    assert membership.valid_from == timezone.localdate()
    assert membership.is_current()
    assert ("ucitelka", "view_case") in permission_rows(case)
    assert sees(teacher, case)
    assert load_case_access(teacher, case).relationship is Relationship.TEAM_MEMBER
    event = last_audit(case_id=case.pk, action="write")
    assert (event.object_type, event.object_id) == ("casework.teammembership", str(membership.pk))
    assert event.field_names == ["team_role", "user", "valid_from", "valid_until"]


def test_a_person_is_on_the_team_once(case: Case, coordinator: User, teacher: User) -> None:
    add_member(case, teacher, coordinator)
    with pytest.raises(ValidationError) as error:
        add_member(case, teacher, coordinator, role_name="jiná role")
    assert set(error.value.message_dict) == {"user"}
    assert TeamMembership.objects.filter(case=case, user=teacher).count() == 1


def test_the_last_day_cannot_come_before_the_first(case: Case, coordinator: User, teacher: User) -> None:
    today = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        add_member(case, teacher, coordinator, valid_from=today + datetime.timedelta(days=10), valid_until=today)
    assert set(error.value.message_dict) == {"valid_until"}
    assert not TeamMembership.objects.exists()
    assert ("ucitelka", "view_case") not in permission_rows(case)


@pytest.mark.parametrize("who", ["dpo", "administrator", "foreign_worker", "coordinator", "inactive_partner"])
def test_who_cannot_join_a_team(
    request: pytest.FixtureRequest, case: Case, coordinator: User, olomouc: Municipality, who: str
) -> None:
    if who == "inactive_partner":
        user = health_partner(municipality=olomouc, is_active=False)
    else:
        user = request.getfixturevalue(who)
    audit_rows = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        add_member(case, user, coordinator, role_name="jiná role")
    assert set(error.value.message_dict) == {"user"}
    assert not TeamMembership.objects.exists()
    assert permission_rows(case) == {("koord", "view_case"), ("koord", "coordinate_case")}
    assert AuditEvent.objects.count() == audit_rows


def test_a_partner_of_another_orp_may_join(case: Case, coordinator: User, prostejov: Municipality) -> None:
    # The child's paediatrician may practise in the next town: partners join whatever their organisation's ORP.
    doctor = health_partner(municipality=prostejov)
    add_member(case, doctor, coordinator)
    assert sees(doctor, case)


def test_the_index_row_is_written_in_the_memberships_transaction(
    case: Case, coordinator: User, teacher: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def audit_down(**kwargs: object) -> None:
        raise audit.AuditUnavailable("audit store unavailable")

    monkeypatch.setattr(audit, "record", audit_down)
    with pytest.raises(audit.AuditUnavailable):
        add_member(case, teacher, coordinator)
    # The failing last step took the membership and its permission row with it.
    assert not TeamMembership.objects.filter(case=case).exists()
    assert not CaseUserObjectPermission.objects.filter(user=teacher).exists()
    assert not sees(teacher, case)


def test_a_partner_cannot_add_members(case: Case, coordinator: User, teacher: User, paediatrician: User) -> None:
    add_member(case, teacher, coordinator)
    with pytest.raises(PermissionDenied):
        add_member(case, paediatrician, teacher)
    assert not TeamMembership.objects.filter(user=paediatrician).exists()
    event = last_audit(actor=teacher)
    assert (event.action, event.purpose) == ("deny", "add team member")


# --- team_member_end ----------------------------------------------------------------------------------------------


def test_ending_a_membership_takes_effect_on_the_next_request(case: Case, coordinator: User, teacher: User) -> None:
    membership = add_member(case, teacher, coordinator)
    assert load_case_access(teacher, fresh(case)).visible

    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.CHILD_LEFT)

    assert not load_case_access(teacher, fresh(case)).visible
    assert not sees(teacher, case)
    membership.refresh_from_db()
    assert (membership.ended_by, membership.end_reason) == (coordinator, MembershipEndReason.CHILD_LEFT)
    assert membership.ended_at is not None
    assert ("ucitelka", "view_case") not in permission_rows(case)
    event = last_audit(case_id=case.pk, action="write")
    assert (event.object_id, event.field_names) == (str(membership.pk), ["end_reason", "ended_at"])


def test_a_membership_ends_once(case: Case, coordinator: User, teacher: User) -> None:
    membership = add_member(case, teacher, coordinator)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
    ended_at = TeamMembership.objects.get(pk=membership.pk).ended_at
    with pytest.raises(ValidationError):
        team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.OTHER)
    again = TeamMembership.objects.get(pk=membership.pk)
    assert (again.ended_at, again.end_reason) == (ended_at, MembershipEndReason.TASK_DONE)


def test_case_closed_is_not_a_reason_to_end_one_membership(case: Case, coordinator: User, teacher: User) -> None:
    membership = add_member(case, teacher, coordinator)
    with pytest.raises(ValidationError) as error:
        team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.CASE_CLOSED)
    assert set(error.value.message_dict) == {"reason"}
    assert sees(teacher, case)


def test_a_member_cannot_end_anyones_membership(
    case: Case, coordinator: User, teacher: User, paediatrician: User
) -> None:
    add_member(case, teacher, coordinator)
    doctor = add_member(case, paediatrician, coordinator)
    with pytest.raises(PermissionDenied):
        team_member_end(membership=doctor, ended_by=teacher, reason=MembershipEndReason.OTHER)
    assert sees(paediatrician, case)
    assert last_audit(actor=teacher).purpose == "end team membership"


def test_a_member_removed_and_added_again_regains_access(case: Case, coordinator: User, teacher: User) -> None:
    first = add_member(case, teacher, coordinator)
    team_member_end(membership=first, ended_by=coordinator, reason=MembershipEndReason.ADDED_BY_MISTAKE)
    add_member(case, teacher, coordinator)
    assert sees(teacher, case)
    assert TeamMembership.objects.filter(case=case, user=teacher).count() == 2


# --- case_note_add ------------------------------------------------------------------------------------------------


def test_a_partner_writes_only_in_their_own_sectors_compartment(
    case: Case, coordinator: User, teacher: User, paediatrician: User
) -> None:
    add_member(case, teacher, coordinator)
    add_member(case, paediatrician, coordinator)
    school_note = write_note(case, teacher, Compartment.SCHOOL, "Od října chybí v pondělí na první hodině.")
    health_note = write_note(case, paediatrician, Compartment.HEALTH, "Očkování doplněno, hmotnost v normě.")
    assert (school_note.compartment, school_note.author_organisation) == (Compartment.SCHOOL, teacher.organisation)
    assert health_note.compartment == Compartment.HEALTH
    for compartment in (Compartment.HEALTH, Compartment.SOCIAL, Compartment.CHILD_VOICE, Compartment.OTHER):
        with pytest.raises(ValidationError) as error:
            write_note(case, teacher, compartment, "Zápis mimo vlastní oblast.")
        assert set(error.value.message_dict) == {"compartment"}
    assert CaseNote.objects.filter(author=teacher).count() == 1


def test_ospod_writes_in_any_compartment(case: Case, coordinator: User, supervisor: User, colleague: User) -> None:
    for compartment in NOTE_COMPARTMENTS:
        write_note(case, coordinator, compartment, f"Záznam koordinátora ({compartment}).")
    add_member(case, colleague, coordinator)
    write_note(case, colleague, Compartment.SOCIAL, "Návštěva v domácnosti proběhla.")
    write_note(case, supervisor, Compartment.SOCIAL, "Vedoucí: plán schválit do pátku.")
    assert CaseNote.objects.filter(case=case).count() == len(NOTE_COMPARTMENTS) + 2


def test_the_notifier_compartment_takes_no_notes(case: Case, coordinator: User) -> None:
    with pytest.raises(ValidationError) as error:
        write_note(case, coordinator, Compartment.NOTIFIER, "Oznamovatel: soused z 2. patra.")
    assert set(error.value.message_dict) == {"compartment"}
    assert not CaseNote.objects.exists()


@pytest.mark.parametrize("who", ["coordinator", "teacher"])
def test_nobody_writes_in_a_closed_case(
    request: pytest.FixtureRequest, case: Case, coordinator: User, who: str
) -> None:
    user = request.getfixturevalue(who)
    if who == "teacher":
        add_member(case, user, coordinator)
    case_close(case=case, closed_by=coordinator, reason=CloseReason.GOALS_MET)
    with pytest.raises(PermissionDenied):
        write_note(fresh(case), user, Compartment.SCHOOL, "Pozdní záznam.")
    assert not CaseNote.objects.exists()
    event = last_audit(actor=user)
    assert (event.action, event.purpose) == ("deny", "write case note")


@pytest.mark.parametrize("who", ["teacher", "colleague", "dpo", "foreign_worker"])
def test_nobody_off_the_team_writes_notes(request: pytest.FixtureRequest, case: Case, who: str) -> None:
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        write_note(case, user, Compartment.SCHOOL, "Cizí záznam.")
    assert not CaseNote.objects.exists()
    assert last_audit(actor=user).action == "deny"


def test_an_empty_note_is_a_field_error(case: Case, coordinator: User) -> None:
    with pytest.raises(ValidationError) as error:
        write_note(case, coordinator, Compartment.SOCIAL, "   ")
    assert set(error.value.message_dict) == {"text"}
    assert not CaseNote.objects.exists()


def test_a_note_is_stored_as_ciphertext_and_its_write_audited_by_field_name(
    case: Case, coordinator: User, teacher: User
) -> None:
    add_member(case, teacher, coordinator)
    text = "Matka uvedla, že se rodina stěhuje k babičce do Šternberka."
    written = write_note(case, coordinator, Compartment.SOCIAL, text)
    # ("Šternberk" alone is a municipality of the competence table, in clear by design: probe the note's own words.)
    assert find_in_database([text, "Šternberka", "babičce"]) == []
    event = last_audit(case_id=case.pk, action="write")
    assert (event.object_type, event.object_id, event.field_names) == ("casework.casenote", str(written.pk), ["text"])
    # The coordinator reads it back through the gate; the teacher does not.
    note = CaseNote.objects.get(pk=written.pk)
    [mine] = gate.read_case(
        coordinator, access_case_by_id(coordinator, case.pk, purpose="case page"), [note], ["text"], purpose="notes"
    )
    [theirs] = gate.read_case(
        teacher, access_case_by_id(teacher, case.pk, purpose="case page"), [note], ["text"], purpose="notes"
    )
    assert mine.get("text") == text
    assert not theirs.shows("text")
    assert text not in repr(theirs)


def test_a_note_longer_than_the_limit_is_refused(case: Case, coordinator: User) -> None:
    from casework.services.cases import NOTE_MAX

    with pytest.raises(ValidationError) as error:
        write_note(case, coordinator, Compartment.SOCIAL, "a" * (NOTE_MAX + 1))
    assert set(error.value.message_dict) == {"text"}
