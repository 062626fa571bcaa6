"""seed_demo: the fictional Olomouc demo is complete, consistent and safe to run again, and it shows a case or a report
at every stage of the flow (new report, in triage, assessment, plan overdue, review due, closed)."""

from __future__ import annotations

import base64
import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.http import Http404
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from viewflow.workflow.models import Task

from casework.admin import administrator_permissions
from casework.birth_number import normalize_birth_number
from casework.compartments import Compartment
from casework.models import (
    ActionReport,
    Assessment,
    AssessmentInput,
    Case,
    CaseNote,
    CaseStatus,
    Child,
    CloseReason,
    Conference,
    ConferenceStatus,
    InputStatus,
    MembershipEndReason,
    Municipality,
    Organisation,
    Plan,
    PlanAction,
    PlanStatus,
    Report,
    ReportStatus,
    Role,
    Sector,
    TeamMembership,
    User,
)
from casework.selectors import birth_number_index
from notifications.models import Notification
from permissions import gate
from permissions.access import access_case_by_id, visible_cases
from permissions.models import AuditEvent, Consent, Share
from tests.scan import find_in_database
from workflows import selectors, tasks
from workflows.flows import CaseFlow, ReportFlow
from workflows.management.commands.seed_demo import (
    DEMO_CASES,
    DEMO_CHILDREN,
    DEMO_OTP_ROLES,
    DEMO_OTP_SECRET,
    DEMO_PASSWORD,
    DEMO_PEOPLE,
    DEMO_RECOVERY_CODES,
    DEMO_REPORTS,
    DEMO_SECOND_AUTHORITY_PEOPLE,
    JOURNEY_CHILD,
    RETENTION_DEMO_NOTE,
)
from workflows.models import AuthoritySettings, Deadline, DeadlineKind
from workflows.services.escalation import deadlines_check

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
    "kraj": Role.REGIONAL_OFFICE,
}


def _counts() -> tuple[object, ...]:
    return (
        Municipality.objects.count(),
        Organisation.objects.count(),
        User.objects.count(),
        sum(user.user_permissions.count() for user in User.objects.all()),
        Child.objects.count(),
        Case.objects.count(),
        TeamMembership.objects.count(),
        CaseNote.objects.count(),
        Consent.objects.count(),
        Share.objects.count(),
        AuditEvent.objects.count(),
        Report.objects.count(),
        Task.objects.count(),
        Deadline.objects.count(),
        AssessmentInput.objects.count(),
        Assessment.objects.count(),
        Plan.objects.count(),
        Notification.objects.count(),
        tuple(Case.objects.order_by("reference").values_list("reference", "opened_at")),
        tuple(Deadline.objects.order_by("pk").values_list("pk", "due_at", "done_at")),
    )


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_running_twice_changes_nothing() -> None:
    first_output = _seed()
    first = _counts()
    hashes = dict(User.objects.values_list("username", "password"))
    second_output = _seed()
    assert _counts() == first
    assert dict(User.objects.values_list("username", "password")) == hashes
    assert "existing" in second_output
    # Plus the case triage opened for the report of the child without a birth number.
    # … and the old file the shredding review proposes (seed_retention).
    assert Case.objects.count() == len(DEMO_CASES) + sum(1 for spec in DEMO_REPORTS if spec.triaged_by) + 1
    assert Report.objects.count() == len(DEMO_REPORTS) + 1  # and the one routed to Prostějov (seed_competence)
    # The stage lines (one per case and report) read the same after the second run.
    assert _stages(second_output) == _stages(first_output)
    # + 1: the old file the shredding review proposes (seed_retention).
    assert len(_stages(first_output)) == len(DEMO_CASES) + len(DEMO_REPORTS) + 1


def _stages(output: str) -> list[str]:
    return [line.strip() for line in output.split("Stages:", 1)[1].splitlines() if line.startswith("  ")]


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
def test_demo_staff_log_in_with_the_published_authenticator_secret_or_a_recovery_code(client: Client) -> None:
    with override_settings(DEMO_OTP_DEVICES=True):
        output = _seed()
        _seed()  # a second run keeps the devices and the codes left
    assert DEMO_OTP_SECRET in output
    assert all(code in output for code in DEMO_RECOVERY_CODES)
    staff = [person for person in (*DEMO_PEOPLE, *DEMO_SECOND_AUTHORITY_PEOPLE) if person.role in DEMO_OTP_ROLES]
    assert {person.role for person in staff} == {
        Role.OSPOD_WORKER,
        Role.SUPERVISOR,
        Role.DPO,
        Role.ADMINISTRATOR,
        Role.REGIONAL_OFFICE,
    }
    assert TOTPDevice.objects.filter(confirmed=True).count() == len(staff)
    secret = base64.b32decode(DEMO_OTP_SECRET)
    for number, person in enumerate(staff):
        response = client.post("/accounts/login/", {"username": person.username, "password": DEMO_PASSWORD})
        assert response["Location"] == "/accounts/login/code/", person.username
        assert "_auth_user_id" not in client.session
        token = f"{TOTP(secret).token():06d}" if number % 2 == 0 else DEMO_RECOVERY_CODES[0]
        client.post("/accounts/login/code/", {"token": token})
        assert "_auth_user_id" in client.session, person.username
        client.post("/accounts/logout/")
    partner = next(person for person in DEMO_PEOPLE if person.role == Role.PARTNER)
    client.post("/accounts/login/", {"username": partner.username, "password": DEMO_PASSWORD})
    assert "_auth_user_id" in client.session


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


# --- Cases and teams ----------------------------------------------------------------------------------------------


def _user(username: str) -> User:
    return User.objects.select_related("organisation").get(username=username)


def _case_of(birth_number: str) -> Case:
    child = Child.objects.get(birth_number_index=birth_number_index(normalize_birth_number(birth_number)))
    return Case.objects.get(child=child)


def _team(case: Case) -> dict[str, str]:
    """Current members: username -> sector."""
    current = TeamMembership.objects.current().filter(case=case).select_related("user__organisation")
    return {m.user.username: m.user.organisation.sector for m in current}  # type: ignore[union-attr]


@pytest.mark.django_db
def test_the_demo_cases_have_teams_across_sectors() -> None:
    output = _seed()
    first, second, third = (_case_of(spec.birth_number) for spec in DEMO_CASES[:3])

    assert (first.status, first.coordinator.username) == (CaseStatus.OPEN, "koordinator")
    # Kotva's worker joined through the demo's accepted referral (services.referrals.demo).
    assert _team(first) == {
        "ucitelka": Sector.SCHOOL,
        "pediatr": Sector.HEALTH,
        "sas": Sector.SERVICE,
        "kotva": Sector.SERVICE,
    }
    assert sorted(first.referrals.values_list("service__name", "status")) == [
        ("Rodinná terapie Kotva", "accepted"),
        ("SAS Modrý most", "waiting"),
    ]
    assert set(CaseNote.objects.filter(case=first).values_list("compartment", flat=True)) == {
        Compartment.SOCIAL,
        Compartment.SCHOOL,
        Compartment.HEALTH,
        Compartment.SERVICES,
    }
    [consent] = Consent.objects.filter(case=first, covers="share")  # the referrals' agreements aside
    assert (consent.compartment, consent.is_withdrawn) == (Compartment.HEALTH, False)
    [share] = Share.objects.in_force().filter(case=first)
    assert (share.compartment, share.recipient_user, share.consent) == (Compartment.HEALTH, _user("sas"), consent)

    assert (second.status, second.coordinator.username) == (CaseStatus.OPEN, "koordinatorka2")
    assert _team(second) == {"vychovny": Sector.SCHOOL, "psychiatr": Sector.HEALTH}

    assert (third.status, third.close_reason) == (CaseStatus.CLOSED, CloseReason.GOALS_MET)
    assert _team(third) == {}
    reasons = set(TeamMembership.objects.filter(case=third).values_list("end_reason", flat=True))
    assert reasons == {MembershipEndReason.TASK_DONE, MembershipEndReason.CASE_CLOSED}

    for case in (first, second, third):
        assert case.reference in output
        assert AuditEvent.objects.filter(case_id=case.pk, action="write", purpose="open case").exists()


@pytest.mark.django_db
def test_the_journey_child_has_no_case() -> None:
    _seed()
    assert JOURNEY_CHILD in {child.birth_number for child in DEMO_CHILDREN}
    assert JOURNEY_CHILD not in {spec.birth_number for spec in DEMO_CASES}
    child = Child.objects.get(birth_number_index=birth_number_index(normalize_birth_number(JOURNEY_CHILD)))
    assert not Case.objects.filter(child=child).exists()


def _sees(user: User, case: Case) -> bool:
    try:
        access_case_by_id(user, case.pk, purpose="case page")
    except Http404:
        return False
    return True


@pytest.mark.django_db
def test_the_teacher_sees_her_cases_only_and_reads_only_what_the_policy_allows() -> None:
    _seed()
    first, second, third = (_case_of(spec.birth_number) for spec in DEMO_CASES[:3])
    from_conference = _case_of(DEMO_CASES[6].birth_number)
    teacher, sas = _user("ucitelka"), _user("sas")
    assert _sees(teacher, first)
    assert not _sees(teacher, second)
    assert not _sees(teacher, third)  # she was on its team until it closed
    assert set(Case.objects.filter(visible_cases(teacher))) == {first, from_conference}
    assert set(Case.objects.filter(visible_cases(_user("vedouci")))) == set(Case.objects.all())
    assert set(Case.objects.filter(visible_cases(_user("poverenec")))) == set()

    [health] = CaseNote.objects.filter(case=first, compartment=Compartment.HEALTH)
    [disclosure] = gate.read_case(
        teacher, access_case_by_id(teacher, first.pk, purpose="case page"), [health], ["text"], purpose="case notes"
    )
    assert not disclosure.shows("text")
    # The SAS worker reads the health note: the coordinator shared health with her on the mother's agreement.
    [disclosure] = gate.read_case(
        sas, access_case_by_id(sas, first.pk, purpose="case page"), [health], ["text"], purpose="case notes"
    )
    assert disclosure.get("text")


@pytest.mark.django_db
def test_demo_notes_and_agreements_are_sealed() -> None:
    _seed()
    texts = [note.text for spec in DEMO_CASES for note in spec.notes] + [RETENTION_DEMO_NOTE]
    names = [spec.consent[2] for spec in DEMO_CASES if spec.consent is not None]
    assert CaseNote.objects.count() == len(texts)
    assert find_in_database(texts + names) == []


# --- A case or a report at every stage of the flow -------------------------------------------------------------------


def _open_tasks(node: object, **filters: object) -> list[Task]:
    return list(Task.objects.filter(flow_task=node, status__in=tasks.OPEN_STATUSES, **filters))


def _report(key: str) -> Report:
    [spec] = [spec for spec in DEMO_REPORTS if spec.key == key]
    return Report.objects.get(recorded_by__username=spec.filed_by)


def _check_reports(output: str) -> None:
    new, claimed = _report("report_new"), _report("report_triage")
    [waiting] = _open_tasks(ReportFlow.triage, process__reportprocess__report=new)
    assert (new.status, waiting.owner_id) == (ReportStatus.RECEIVED, None)
    [taken] = _open_tasks(ReportFlow.triage, process__reportprocess__report=claimed)
    assert taken.owner == _user("vedouci")
    assert (claimed.status, claimed.decided_at, claimed.case) == (ReportStatus.IN_TRIAGE, None, None)
    assert f"{new.reference}: new" in output
    assert f"{claimed.reference}: in triage" in output
    # What the notifiers wrote is sealed; the children are not in the register before the triage.
    texts = [spec.details.facts for spec in DEMO_REPORTS] + [spec.details.child_family_name for spec in DEMO_REPORTS]
    assert find_in_database(texts) == []
    # ... except the child without a birth number, whose report triage registered (by name and estimated date).
    [unnumbered] = Child.objects.filter(birth_number_index__isnull=True)
    # + 1 more: the child of the old file the shredding review proposes (seed_retention).
    assert Child.objects.count() == len(DEMO_CHILDREN) + 1 + 1
    triaged = _report("report_no_birth_number")
    assert (triaged.status, triaged.child, unnumbered.date_of_birth_estimated) == (
        ReportStatus.CASE_OPENED,
        unnumbered,
        True,
    )
    assert triaged.case is not None
    assert triaged.case.is_open


def _check_assessment(output: str) -> None:
    case = _case_of(DEMO_CASES[3].birth_number)
    statuses = sorted(AssessmentInput.objects.filter(case=case).values_list("member__username", "status"))
    assert statuses == [("pediatr", InputStatus.REQUESTED), ("vychovny", InputStatus.PROVIDED)]
    [open_input] = _open_tasks(CaseFlow.provide_input, process__caseprocess__case=case)
    assert open_input.owner == _user("pediatr")
    assert not Assessment.objects.filter(case=case).exists()
    assert f"{case.reference}: assessment: inputs requested (1 of 2 provided)" in output


def _check_plan_overdue(output: str) -> None:
    case = _case_of(DEMO_CASES[4].birth_number)
    assert case.opened_at < timezone.now() - datetime.timedelta(days=31)
    assert Assessment.objects.filter(case=case).exists()
    [draft] = _open_tasks(CaseFlow.draft_plan, process__caseprocess__case=case)
    deadline = Deadline.objects.get(task=draft)
    assert deadline.kind == DeadlineKind.PLAN
    assert deadline.due_at < timezone.now() - datetime.timedelta(days=2 * _settings().escalation_grace_days)
    assert f"{case.reference}: plan: drafting, plan deadline overdue since" in output


def _check_review_due(output: str) -> None:
    case = _case_of(DEMO_CASES[5].birth_number)
    [plan] = Plan.objects.filter(case=case)
    assert plan.status == PlanStatus.CURRENT
    assert (plan.drafted_by, plan.approved_by) == (_user("koordinator"), _user("vedouci"))  # four eyes
    [review] = _open_tasks(CaseFlow.review, process__caseprocess__case=case)
    deadline = Deadline.objects.get(task=review)
    assert deadline.kind == DeadlineKind.REVIEW
    now = timezone.now()
    assert now < deadline.due_at <= now + datetime.timedelta(days=_settings().due_soon_days)
    assert f"{case.reference}: plan in force: review due" in output


def _check_closed_and_references(output: str) -> None:
    closed = _case_of(DEMO_CASES[2].birth_number)
    assert closed.status == CaseStatus.CLOSED
    assert not Task.objects.filter(process__caseprocess__case=closed, status__in=tasks.OPEN_STATUSES).exists()
    assert f"{closed.reference}: closed" in output
    references = [_case_of(spec.birth_number).reference for spec in DEMO_CASES]
    year = timezone.localdate().year
    assert references == [f"OM {year}/{number:04d}" for number in range(1, len(DEMO_CASES) + 1)]
    # The closing lines name references and stages, never a child.
    for child in DEMO_CHILDREN:
        assert child.family_name not in output
    for spec in DEMO_REPORTS:
        assert spec.details.child_family_name not in output


def _settings() -> AuthoritySettings:
    return AuthoritySettings.for_municipality(Municipality.objects.get(code="OM"))


@pytest.mark.django_db
def test_reports_wait_new_and_in_triage_a_case_is_in_assessment_and_one_is_closed() -> None:
    output = _seed()
    _check_reports(output)
    _check_assessment(output)
    _check_closed_and_references(output)


@pytest.mark.django_db
def test_check_deadlines_escalates_the_overdue_plan_and_warns_of_the_review_due() -> None:
    output = _seed()
    _check_plan_overdue(output)
    _check_review_due(output)
    overdue = Deadline.objects.get(case=_case_of(DEMO_CASES[4].birth_number), kind=DeadlineKind.PLAN)
    review = Deadline.objects.get(case=_case_of(DEMO_CASES[5].birth_number), kind=DeadlineKind.REVIEW)

    deadlines_check()
    overdue.refresh_from_db()
    review.refresh_from_db()
    assert overdue.overdue_notified_at is not None
    assert overdue.escalated_to_supervisor_at is not None
    assert review.due_soon_notified_at is not None
    assert review.overdue_notified_at is None


@pytest.mark.django_db
def test_a_plan_made_at_a_signed_off_conference_has_actions_in_the_owners_inboxes_one_overdue() -> None:
    output = _seed()
    case = _case_of(DEMO_CASES[6].birth_number)
    [conference] = Conference.objects.filter(case=case)
    assert conference.status == ConferenceStatus.SIGNED_OFF
    assert conference.starts_at < timezone.now()
    [plan] = Plan.objects.filter(case=case)
    assert plan.status == PlanStatus.CURRENT
    assert plan.conference == conference
    assert (plan.drafted_by, plan.approved_by) == (_user("koordinatorka2"), _user("vedouci"))
    actions = list(PlanAction.objects.filter(plan=plan).order_by("position"))
    assert [a.decision is not None for a in actions] == [True, True, True]
    owners = [
        a.owner_user.username if a.owner_user else a.owner_organisation and a.owner_organisation.sector for a in actions
    ]
    assert owners == ["ucitelka", "pediatr", Sector.SERVICE]
    assert [a.is_overdue() for a in actions] == [False, True, False]
    # Each action is a task: the teacher's and the paediatrician's in their inboxes, the service's in its queue.
    assert [row.case_reference for row in selectors.my_tasks(user=_user("ucitelka"), task_type="action").rows] == [
        case.reference
    ]
    [late] = selectors.my_tasks(user=_user("pediatr"), task_type="action").rows
    assert late.overdue
    assert [row.case_reference for row in selectors.team_queue(user=_user("sas"), task_type="action").rows] == [
        case.reference
    ]
    assert ActionReport.objects.filter(action=actions[0], completes=False).count() == 1
    assert f"{case.reference}: plan in force: review due" in output
    assert "3 plan actions in the owners' inboxes (1 overdue)" in output
