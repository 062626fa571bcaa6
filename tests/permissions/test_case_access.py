"""Who can open a case, decided from the database on every request (DOMAIN.md, "Who sees which case"; DESIGN inv. 5).

``access_case_by_id`` is how every view fetches a case: the same 404 for "does not exist" and "not yours", a committed
denial row for the latter. Team membership is the source of truth and the object-permission index must agree; the
list filter ``visible_cases`` (SQL) must say exactly what ``load_case_access`` (Python) says, for everyone, every day.
The gate discloses case content per row and audits field names only.
"""

from __future__ import annotations

import datetime
import itertools
import uuid
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from casework.compartments import Compartment
from casework.models import (
    Case,
    CaseNote,
    CloseReason,
    MembershipEndReason,
    Municipality,
    Organisation,
    Role,
    Sector,
    TeamMembership,
    User,
)
from casework.selectors.lists import CaseFilters, case_list_for_user
from casework.services import case_close, team_member_end
from permissions import gate
from permissions.access import access_case_by_id, accessed_cases, load_case_access, visible_cases
from permissions.models import AuditEvent, CaseUserObjectPermission
from permissions.object_perms import VIEW, case_permissions
from permissions.sharing import consent_withdraw, share_revoke
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    add_member,
    health_partner,
    open_case,
    ospod_staff,
    other_partner,
    record_consent,
    school_partner,
    service_partner,
    share,
    write_note,
)
from tests.scan import find_in_database

DAY = datetime.timedelta(days=1)


def sees(user: User, case: Case) -> bool:
    """The user's next request for the case page: the case, or "not found"."""
    try:
        access_case_by_id(user, case.pk, purpose="case page")
    except Http404:
        return False
    return True


def denials(user: User) -> int:
    return AuditEvent.objects.filter(actor=user, action="deny", outcome="denied").count()


def read_note(user: User, case: Case, note: CaseNote) -> str | None:
    """The note's text as the user's next request would show it (None when withheld)."""
    fetched = access_case_by_id(user, case.pk, purpose="case page")
    [disclosure] = gate.read_case(user, fetched, [CaseNote.objects.get(pk=note.pk)], ["text"], purpose="case notes")
    return disclosure.get("text")


@pytest.fixture
def case(coordinator: User) -> Case:
    return open_case(coordinator=coordinator)


# --- One 404 for everything that is not yours -----------------------------------------------------------------------


def test_missing_malformed_and_not_yours_get_the_same_404_and_only_a_real_case_is_audited(
    case: Case, teacher: User
) -> None:
    answers = []
    audited = []
    for case_id in (uuid.uuid4(), "not-a-case-id", "../../admin", case.pk):
        before = denials(teacher)
        with pytest.raises(Http404) as refused:
            access_case_by_id(teacher, case_id, purpose="case page")
        answers.append((type(refused.value), str(refused.value), refused.value.args))
        audited.append(denials(teacher) - before)
    assert len(set(answers)) == 1
    assert audited == [0, 0, 0, 1]
    event = AuditEvent.objects.filter(actor=teacher).get()
    assert (event.object_type, event.object_id, event.case_id) == ("casework.case", str(case.pk), case.pk)
    assert (event.field_names, event.purpose) == ([], "case page")


@pytest.mark.django_db(transaction=True)
def test_the_denial_is_committed_before_the_404() -> None:
    # No test transaction wraps a transactional test: the row is there only because it was committed.
    coordinator = ospod_staff(OrganisationFactory.create(name="OSPOD Olomouc", sector=Sector.OSPOD))
    teacher = UserFactory.create(role=Role.PARTNER)
    case = open_case(coordinator=coordinator)
    with pytest.raises(Http404):
        access_case_by_id(teacher, case.pk, purpose="case page")
    assert not transaction.get_connection().in_atomic_block
    assert AuditEvent.objects.filter(actor=teacher, action="deny", case_id=case.pk).count() == 1


def test_the_supervisor_sees_every_case_of_the_authority_and_no_other(
    coordinator: User, supervisor: User, ospod: Organisation, foreign_worker: User
) -> None:
    colleague = ospod_staff(ospod)
    ours = [open_case(coordinator=coordinator), open_case(coordinator=colleague), open_case(coordinator=supervisor)]
    closed = open_case(coordinator=colleague)
    case_close(case=closed, closed_by=colleague, reason=CloseReason.GOALS_MET)
    theirs = open_case(coordinator=foreign_worker)
    assert all(sees(supervisor, c) for c in [*ours, closed])
    assert load_case_access(supervisor, Case.objects.get(pk=closed.pk)).read_only
    assert not sees(supervisor, theirs)
    assert not sees(foreign_worker, ours[0])


def test_another_ospod_worker_of_the_authority_sees_only_cases_they_coordinate_or_are_on(
    case: Case, coordinator: User, ospod: Organisation
) -> None:
    colleague = ospod_staff(ospod)
    assert not sees(colleague, case)
    add_member(case, colleague, coordinator)
    assert sees(colleague, case)


@pytest.mark.parametrize("who", ["dpo", "administrator"])
def test_the_dpo_and_the_administrator_get_not_found(request: pytest.FixtureRequest, case: Case, who: str) -> None:
    user = request.getfixturevalue(who)
    assert not sees(user, case)
    assert denials(user) == 1


def test_a_membership_counts_from_its_first_day(case: Case, coordinator: User, teacher: User) -> None:
    tomorrow = timezone.localdate() + DAY
    add_member(case, teacher, coordinator, valid_from=tomorrow)
    assert not sees(teacher, case)
    with time_machine.travel(tomorrow.isoformat() + " 07:30 +01:00", tick=False):
        assert sees(teacher, case)  # nothing was written in between: the day itself opens it


def test_a_membership_ends_after_its_last_day(case: Case, coordinator: User, teacher: User) -> None:
    today = timezone.localdate()
    add_member(case, teacher, coordinator, valid_until=today)
    assert sees(teacher, case)
    with time_machine.travel((today + DAY).isoformat() + " 00:05 +01:00", tick=False):
        assert timezone.localdate() == today + DAY
        assert not sees(teacher, case)


def test_a_member_without_an_index_row_gets_not_found(case: Case, coordinator: User, teacher: User) -> None:
    add_member(case, teacher, coordinator)
    CaseUserObjectPermission.objects.filter(content_object=case, user=teacher).delete()
    assert TeamMembership.objects.current().filter(case=case, user=teacher).exists()
    assert not sees(teacher, case)


def test_an_index_row_without_a_membership_gives_nothing(case: Case, teacher: User) -> None:
    CaseUserObjectPermission.objects.create(content_object=case, user=teacher, permission=case_permissions()[VIEW])
    assert not sees(teacher, case)


def test_a_deactivated_member_gets_not_found(case: Case, coordinator: User, teacher: User) -> None:
    add_member(case, teacher, coordinator)
    teacher.is_active = False
    teacher.save()
    assert not sees(teacher, case)


# --- Every change counts on the very next request -----------------------------------------------------------------


@pytest.fixture
def paediatrician(olomouc: Municipality) -> User:
    return health_partner(municipality=olomouc)


@pytest.fixture
def health_note(case: Case, coordinator: User, paediatrician: User) -> CaseNote:
    add_member(case, paediatrician, coordinator)
    return write_note(case, paediatrician, Compartment.HEALTH, "Astma bronchiale, inhalace dvakrát denně.")


def test_ending_a_membership_takes_effect_on_the_next_request(case: Case, coordinator: User, teacher: User) -> None:
    membership = add_member(case, teacher, coordinator)
    assert sees(teacher, case)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
    assert not load_case_access(teacher, Case.objects.get(pk=case.pk)).visible
    assert not sees(teacher, case)


def test_revoking_a_share_takes_effect_on_the_next_request(
    case: Case, coordinator: User, teacher: User, health_note: CaseNote
) -> None:
    add_member(case, teacher, coordinator)
    consent = record_consent(case, coordinator)
    granted = share(case, coordinator, with_user=teacher, compartment=Compartment.HEALTH, consent=consent)
    assert read_note(teacher, case, health_note) == "Astma bronchiale, inhalace dvakrát denně."
    share_revoke(share=granted, revoked_by=coordinator)
    assert read_note(teacher, case, health_note) is None
    assert sees(teacher, case)  # the case stays visible: only the share ended


def test_a_share_stops_after_its_last_day(case: Case, coordinator: User, teacher: User, health_note: CaseNote) -> None:
    add_member(case, teacher, coordinator)
    consent = record_consent(case, coordinator)
    granted = share(case, coordinator, with_user=teacher, note=health_note, consent=consent, days=3)
    with time_machine.travel(granted.valid_until.isoformat() + " 23:00 +01:00", tick=False):
        assert read_note(teacher, case, health_note) is not None
    with time_machine.travel((granted.valid_until + DAY).isoformat() + " 08:00 +01:00", tick=False):
        assert read_note(teacher, case, health_note) is None


def test_withdrawing_the_agreement_stops_the_shares_resting_on_it(
    case: Case, coordinator: User, teacher: User, health_note: CaseNote
) -> None:
    add_member(case, teacher, coordinator)
    consent = record_consent(case, coordinator)
    share(case, coordinator, with_organisation=teacher.organisation, compartment=Compartment.HEALTH, consent=consent)
    assert read_note(teacher, case, health_note) is not None
    consent_withdraw(consent=consent, withdrawn_by=coordinator)
    assert read_note(teacher, case, health_note) is None


def test_an_item_share_opens_that_one_social_note_and_no_other(case: Case, coordinator: User, teacher: User) -> None:
    add_member(case, teacher, coordinator)
    lunches = write_note(case, coordinator, Compartment.SOCIAL, "Obědy ve školní jídelně hradí obec od listopadu.")
    past = write_note(case, coordinator, Compartment.SOCIAL, "Otec byl v minulosti ve výkonu trestu.")
    share(case, coordinator, with_user=teacher, note=lunches, purpose="aby škola nevymáhala platbu za obědy")
    assert read_note(teacher, case, lunches) == "Obědy ve školní jídelně hradí obec od listopadu."
    assert read_note(teacher, case, past) is None


def test_an_organisation_share_reaches_only_its_current_members(
    case: Case, coordinator: User, teacher: User, school: Organisation, health_note: CaseNote
) -> None:
    colleague_on_team = school_partner(org=school)
    colleague_off_team = school_partner(org=school)
    add_member(case, teacher, coordinator)
    add_member(case, colleague_on_team, coordinator)
    consent = record_consent(case, coordinator)
    share(case, coordinator, with_organisation=school, compartment=Compartment.HEALTH, consent=consent)
    assert read_note(colleague_on_team, case, health_note) is not None
    assert not sees(colleague_off_team, case)


# --- visible_cases (SQL) says what load_case_access (Python) says ---------------------------------------------------


def _generated_world(olomouc: Municipality, prostejov: Municipality) -> tuple[list[User], list[Case]]:
    """Two ORPs; OSPOD staff, partners of every sector, the DPO and the administrator; open and closed cases; current,
    future, time-limited, ended, index-less and membership-less team entries; deactivated accounts."""
    ospod_om = OrganisationFactory.create(name="OSPOD Olomouc", sector=Sector.OSPOD, municipality=olomouc)
    ospod_pv = OrganisationFactory.create(name="OSPOD Prostějov", sector=Sector.OSPOD, municipality=prostejov)
    office = OrganisationFactory.create(name="Magistrát", sector=Sector.OTHER, municipality=olomouc)
    school = OrganisationFactory.create(name="ZŠ Lipová", sector=Sector.SCHOOL, municipality=olomouc)
    supervisor = ospod_staff(ospod_om, role=Role.SUPERVISOR, username="vedouci_om")
    w1, w2, w3, w4 = (ospod_staff(ospod_om, username=f"pracovnik{i}") for i in range(1, 5))
    pv_supervisor = ospod_staff(ospod_pv, role=Role.SUPERVISOR, username="vedouci_pv")
    pv_worker = ospod_staff(ospod_pv, username="pracovnik_pv")
    teacher = school_partner(org=school, username="ucitel1")
    teacher2 = school_partner(org=school, username="ucitel2")
    doctor = health_partner(municipality=olomouc, username="lekar")
    doctor2 = health_partner(municipality=olomouc, username="lekar2")
    sas = service_partner(municipality=olomouc, username="sas")
    police = other_partner(municipality=olomouc, username="policie")
    pv_teacher = school_partner(municipality=prostejov, username="ucitel_pv")
    dpo = UserFactory.create(role=Role.DPO, organisation=office, username="poverenec")
    administrator = UserFactory.create(role=Role.ADMINISTRATOR, organisation=office, username="spravce")
    bare_admin = UserFactory.create(role=Role.ADMINISTRATOR, organisation=None, username="technik")
    moved = ospod_staff(ospod_om, username="presunuty")  # joins a team, then moves to another authority
    orphan = school_partner(municipality=olomouc, username="bez_organizace")  # joins, then loses the organisation

    today = timezone.localdate()
    a = open_case(coordinator=w1, opened_by=supervisor)
    add_member(a, teacher, w1)
    add_member(a, doctor, w1, valid_from=today + DAY)
    add_member(a, sas, w1, valid_until=today)
    team_member_end(membership=add_member(a, police, w1), ended_by=w1, reason=MembershipEndReason.TASK_DONE)
    add_member(a, w2, w1)
    add_member(a, pv_teacher, w1)
    add_member(a, teacher2, w1)
    add_member(a, moved, w1)
    User.objects.filter(pk=moved.pk).update(organisation=ospod_pv)
    add_member(a, orphan, w1)
    User.objects.filter(pk=orphan.pk).update(organisation=None)
    # After the last change to a's team: every sync rewrites the whole index (and would restore this row).
    CaseUserObjectPermission.objects.filter(content_object=a, user=teacher2).delete()

    b = open_case(coordinator=w2)
    add_member(b, teacher, w2, valid_from=today + 2 * DAY, valid_until=today + 2 * DAY)
    add_member(b, doctor, w2)
    add_member(b, police, w2)
    CaseUserObjectPermission.objects.create(content_object=b, user=sas, permission=case_permissions()[VIEW])

    c = open_case(coordinator=w1)
    add_member(c, teacher, w1)
    add_member(c, doctor2, w1)
    add_member(c, w3, w1)
    case_close(case=c, closed_by=supervisor, reason=CloseReason.GOALS_MET)

    d = open_case(coordinator=pv_worker)
    add_member(d, teacher, pv_worker)
    add_member(d, pv_teacher, pv_worker)

    e = open_case(coordinator=w4)
    add_member(e, doctor2, w4)
    add_member(e, sas, w4)
    for deactivated in (w4, doctor2):
        deactivated.is_active = False
        deactivated.save()

    users = [
        supervisor, w1, w2, w3, w4, pv_supervisor, pv_worker, teacher, teacher2, doctor, doctor2, sas, police,
        pv_teacher, dpo, administrator, bare_admin, moved, orphan,
    ]  # fmt: skip
    return users, [a, b, c, d, e]


def _by_python(users: list[User], cases: list[Case]) -> dict[tuple[str, str], bool]:
    fresh_cases = list(Case.objects.filter(pk__in=[c.pk for c in cases]))
    return {
        (u.username, c.reference): load_case_access(User.objects.get(pk=u.pk), c).visible
        for u, c in itertools.product(users, fresh_cases)
    }


def _by_sql(users: list[User], cases: list[Case], listing: Callable[[User], set[str]]) -> dict[tuple[str, str], bool]:
    result = {}
    for u in users:
        visible = listing(User.objects.get(pk=u.pk))
        result.update({(u.username, c.reference): c.reference in visible for c in cases})
    return result


def _visible_cases(user: User) -> set[str]:
    return set(Case.objects.filter(visible_cases(user)).values_list("reference", flat=True))


def _case_list(user: User) -> set[str]:
    return {c.reference for c in case_list_for_user(user=user, filters=CaseFilters(status=""))}


def test_the_sql_rule_and_the_python_rule_agree_for_everyone_on_every_day(
    olomouc: Municipality, prostejov: Municipality
) -> None:
    users, cases = _generated_world(olomouc, prostejov)
    today = timezone.localdate()
    seen_per_day = []
    for day in (today, today + DAY, today + 2 * DAY, today + 3 * DAY):
        with time_machine.travel(day.isoformat() + " 12:00 +01:00", tick=False):
            python = _by_python(users, cases)
            assert _by_sql(users, cases, _visible_cases) == python, day
            assert _by_sql(users, cases, _case_list) == python, day
            seen_per_day.append({pair for pair, visible in python.items() if visible})

    a, b, c, d, e = (case.reference for case in cases)
    seen_today, tomorrow, day_after = seen_per_day[0], seen_per_day[1], seen_per_day[2]
    # The world is not trivial: spot-check the rules it exercises.
    assert {r for u, r in seen_today if u == "vedouci_om"} == {a, b, c, e}
    assert {r for u, r in seen_today if u == "vedouci_pv"} == {d}
    assert {r for u, r in seen_today if u == "pracovnik1"} == {a, c}  # coordinator keeps the closed case
    assert {r for u, r in seen_today if u == "pracovnik2"} == {a, b}
    assert {r for u, r in seen_today if u == "pracovnik3"} == set()  # member of a case since closed
    assert {r for u, r in seen_today if u == "pracovnik4"} == set()  # deactivated coordinator
    assert {r for u, r in seen_today if u == "ucitel1"} == {a, d}
    assert {r for u, r in seen_today if u == "ucitel2"} == set()  # index row deleted
    assert {r for u, r in seen_today if u == "sas"} == {a, e}  # b: index row without a membership
    assert {r for u, r in tomorrow if u == "sas"} == {e}  # a: past the last day
    assert {r for u, r in seen_today if u == "lekar"} == {b}
    assert {r for u, r in tomorrow if u == "lekar"} == {a, b}  # a: from tomorrow
    assert {r for u, r in day_after if u == "ucitel1"} == {a, b, d}  # b: that one day only
    assert {r for u, r in seen_per_day[3] if u == "ucitel1"} == {a, d}
    assert {r for u, r in seen_today if u == "policie"} == {b}  # a: ended
    assert {r for u, r in seen_today if u == "ucitel_pv"} == {a, d}
    for nobody in ("lekar2", "poverenec", "spravce", "technik", "presunuty", "bez_organizace"):
        assert {r for u, r in seen_today if u == nobody} == set(), nobody


# --- The gate on case content ---------------------------------------------------------------------------------------

NOTES = {
    Compartment.SOCIAL: "Rodina žije v jednom pokoji na ubytovně, otec pracuje v cizině.",
    Compartment.SCHOOL: "Ve čtvrtek opět bez svačiny a bez domácího úkolu.",
    Compartment.HEALTH: "Podezření na ADHD, objednán k vyšetření v březnu.",
    Compartment.CHILD_VOICE: "Chce zůstat bydlet s babičkou, tatínka se bojí.",
}


@pytest.fixture
def notes(case: Case, coordinator: User, teacher: User) -> list[CaseNote]:
    add_member(case, teacher, coordinator)
    written = [write_note(case, coordinator, compartment, text) for compartment, text in NOTES.items()]
    return list(CaseNote.objects.filter(pk__in=[n.pk for n in written]).order_by("created_at"))


def test_read_case_discloses_per_note_and_audits_one_read_row_and_one_denial_row_with_field_names(
    case: Case, teacher: User, notes: list[CaseNote]
) -> None:
    fetched = access_case_by_id(teacher, case.pk, purpose="case page")
    before = AuditEvent.objects.count()
    disclosures = gate.read_case(teacher, fetched, notes, ["text"], purpose="case notes")

    shown = {note.compartment: d.get("text") for note, d in zip(notes, disclosures, strict=True)}
    assert shown == {
        Compartment.SOCIAL: None,
        Compartment.SCHOOL: NOTES[Compartment.SCHOOL],
        Compartment.HEALTH: None,
        Compartment.CHILD_VOICE: None,
    }
    for note, disclosure in zip(notes, disclosures, strict=True):
        if note.compartment != Compartment.SCHOOL:
            assert disclosure.withheld == ("text",)
            assert not disclosure.shows("text")
            assert NOTES[Compartment(note.compartment)] not in repr(disclosure)

    rows = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    assert [(r.action, r.outcome, r.field_names) for r in rows] == [
        ("deny", "denied", ["text"]),
        ("read", "allowed", ["text"]),
    ]
    assert all((r.actor, r.case_id, r.purpose) == (teacher, case.pk, "case notes") for r in rows)
    # Field names only: no note text anywhere in the database, the audit log included.
    assert find_in_database(list(NOTES.values())) == []


def test_the_coordinator_reads_every_note_in_one_read_row(case: Case, coordinator: User, notes: list[CaseNote]) -> None:
    fetched = access_case_by_id(coordinator, case.pk, purpose="case page")
    before = AuditEvent.objects.count()
    disclosures = gate.read_case(coordinator, fetched, notes, ["text"], purpose="case notes")
    assert [d.get("text") for d in disclosures] == list(NOTES.values())
    [row] = AuditEvent.objects.filter(seq__gt=before)
    assert (row.action, row.field_names) == ("read", ["text"])


def test_the_case_comes_back_with_the_decision_and_the_gate_uses_it_as_it_is(
    case: Case, teacher: User, notes: list[CaseNote]
) -> None:
    fetched = access_case_by_id(teacher, case.pk, purpose="case page")
    assert fetched.case.pk == case.pk
    assert fetched.access == load_case_access(teacher, Case.objects.get(pk=case.pk))
    assert not [name for name in vars(fetched.case) if "access" in name]  # nothing travels on the instance
    with CaptureQueriesContext(connection) as decided_afresh:
        gate.read_case(teacher, case, notes, ["text"], purpose="case notes")
    with CaptureQueriesContext(connection) as decision_passed:
        gate.read_case(teacher, fetched, notes, ["text"], purpose="case notes")
    # A team member's standing costs two queries (membership, shares); the page pays them once, in access_case_by_id.
    assert len(decision_passed) == len(decided_afresh) - 2


def test_the_gate_refuses_a_decision_made_for_someone_else(
    case: Case, coordinator: User, teacher: User, notes: list[CaseNote]
) -> None:
    coordinators = access_case_by_id(coordinator, case.pk, purpose="case page")
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="another user"):
        gate.read_case(teacher, coordinators, notes, ["text"], purpose="case notes")
    assert AuditEvent.objects.count() == before


def test_read_case_children_audits_one_row_per_case_in_a_fixed_number_of_queries(
    coordinator: User, teacher: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    fields = ["given_name", "family_name"]

    def list_page(user: User) -> tuple[int, int, list[gate.Disclosure]]:
        cases = list(case_list_for_user(user=user))
        before = AuditEvent.objects.count()
        with CaptureQueriesContext(connection) as queries:
            disclosures = gate.read_case_children(user, accessed_cases(user, cases), fields, purpose="case list")
        return len(queries), AuditEvent.objects.count() - before, disclosures

    first = open_case(coordinator=coordinator, given_name="Ondřej")
    add_member(first, teacher, coordinator)
    one = {user.username: list_page(user) for user in (coordinator, teacher)}
    for i in range(9):
        add_member(open_case(coordinator=coordinator, given_name=f"Dítě{i}"), teacher, coordinator)
    ten = {user.username: list_page(user) for user in (coordinator, teacher)}

    for username in ("koord", "ucitelka"):
        queries_one, rows_one, shown_one = one[username]
        queries_ten, rows_ten, shown_ten = ten[username]
        assert (rows_one, rows_ten) == (1, 10), username
        assert queries_ten == queries_one, username
        assert [d.get("given_name") for d in shown_one] == ["Ondřej"]
        assert len({d.get("given_name") for d in shown_ten}) == 10
    cases = list(case_list_for_user(user=teacher))
    with django_assert_num_queries(one["ucitelka"][0]):
        accessed = accessed_cases(teacher, cases)
        gate.read_case_children(teacher, accessed, fields, purpose="case list")
    # The decisions come back with the listed cases: asking again for each row (its badge, its links) costs nothing.
    with django_assert_num_queries(0):
        assert all(access.visible for _case, access in accessed)
