"""The plan pages: the plan board (the coordinator's overview, a member's share of it), old versions read-only, and a
fixed number of queries whatever the size of the plan. Plans, actions and reports are written as sealed rows directly
(the services that write actions and reports are tested on their own). Fictional data only."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import (
    ActionReport,
    ActionStatus,
    Case,
    Organisation,
    Plan,
    PlanAction,
    PlanGoal,
    PlanStatus,
    Role,
    User,
)
from casework.sealing import Keyring, seal_values
from permissions.models import AuditAction, AuditEvent
from tests.factories import add_member, open_case
from tests.factories.cases import health_partner, ospod_staff

pytestmark = pytest.mark.django_db

GOAL_SCHOOL = "Vít chodí do školy každý den PLANGOAL1"
GOAL_HEALTH = "Vít je pravidelně u lékaře PLANGOAL2"
TEACHER_ACTION = "Třídní učitelka hlásí absence PLANACTSCHOOL"
SCHOOL_ORG_ACTION = "Škola nabídne doučování PLANACTSCHOOLORG"
DOCTOR_ACTION = "Pediatr zkontroluje očkování PLANACTHEALTH"
LOOSE_ACTION = "OSPOD svolá schůzku s rodinou PLANACTOTHER"
SUPPORT = "Sociálně aktivizační služba dvakrát týdně PLANSUPPORT"
CHILD_VIEWS = "Chce bydlet doma a mít klid na úkoly PLANCHILDVIEWS"
PARENTS_VIEWS = "Matka souhlasí s pomocí PLANPARENTSVIEWS"
OLD_REPORT = "Absence v září PLANREPORTOLD"
NEW_REPORT = "Docházka v říjnu bez absencí PLANREPORTNEW"


def page_text(response: Any) -> str:
    """The page's HTML with no-break spaces (Czech typography binds one-letter words) read as spaces."""
    return str(response.content.decode()).replace("\xa0", " ")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Building plans (sealed rows, as the services would write them) ----------------------------------------------


def make_plan(
    case: Case,
    *,
    drafted_by: User,
    approved_by: User | None = None,
    version: int = 1,
    status: str = PlanStatus.CURRENT,
    goals: Sequence[str] = (GOAL_SCHOOL, GOAL_HEALTH),
    approved_at: datetime.datetime | None = None,
    texts: dict[str, str] | None = None,
) -> Plan:
    keyring = Keyring()
    approved = status in (PlanStatus.CURRENT, PlanStatus.SUPERSEDED)
    plan = Plan(
        case=case,
        version=version,
        status=status,
        drafted_by=drafted_by,
        approved_by=approved_by if approved else None,
        approved_at=(approved_at or timezone.now()) if approved else None,
        next_review_on=datetime.date(2027, 3, 1) if approved else None,
    )
    values = (
        texts
        if texts is not None
        else {
            "support_offered": SUPPORT,
            "child_views": CHILD_VIEWS,
            "parents_views": PARENTS_VIEWS,
        }
    )
    seal_values(plan, values, keyring)
    plan.save()
    for position, text in enumerate(goals):
        goal = PlanGoal(case=case, plan=plan, position=position)
        seal_values(goal, {"text": text}, keyring)
        goal.save()
    return plan


def goal_of(plan: Plan, position: int) -> PlanGoal:
    return PlanGoal.objects.get(plan=plan, position=position)


def make_action(
    plan: Plan,
    what: str,
    *,
    goal: PlanGoal | None = None,
    owner_user: User | None = None,
    owner_organisation: Organisation | None = None,
    due_on: datetime.date | None = None,
    status: str = ActionStatus.OPEN,
    position: int = 0,
) -> PlanAction:
    action = PlanAction(
        case_id=plan.case_id,
        plan=plan,
        goal=goal,
        position=position,
        owner_user=owner_user,
        owner_organisation=owner_organisation,
        due_on=due_on or timezone.localdate() + datetime.timedelta(days=30),
        status=status,
        done_at=timezone.now() if status == ActionStatus.DONE else None,
    )
    seal_values(action, {"what": what, "success_measure": f"Měřítko: {what}"})
    action.save()
    return action


def make_report(action: PlanAction, author: User, text: str, *, compartment: str, days_ago: int = 0) -> ActionReport:
    report = ActionReport(
        case_id=action.case_id,
        action=action,
        compartment=compartment,
        author=author,
        author_organisation=author.organisation,
        created_at=timezone.now() - datetime.timedelta(days=days_ago),
    )
    seal_values(report, {"text": text})
    report.save()
    return report


# --- The cast -----------------------------------------------------------------------------------------------------


@pytest.fixture
def doctor(olomouc: Any) -> User:
    return health_partner(municipality=olomouc, username="lekarka")


@pytest.fixture
def case(coordinator: User, teacher: User, doctor: User) -> Case:
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    add_member(case, doctor, coordinator)
    return case


@pytest.fixture
def plan(case: Case, coordinator: User, supervisor: User, teacher: User, doctor: User) -> Plan:
    """A current plan: the teacher's action (overdue, two reports), the school's action, the doctor's action (done),
    and an action without a goal."""
    plan = make_plan(case, drafted_by=coordinator, approved_by=supervisor)
    school_goal, health_goal = goal_of(plan, 0), goal_of(plan, 1)
    today = timezone.localdate()
    mine = make_action(
        plan, TEACHER_ACTION, goal=school_goal, owner_user=teacher, due_on=today - datetime.timedelta(days=3)
    )
    make_action(plan, SCHOOL_ORG_ACTION, goal=school_goal, owner_organisation=teacher.organisation, position=1)
    make_action(
        plan,
        DOCTOR_ACTION,
        goal=health_goal,
        owner_user=doctor,
        due_on=today - datetime.timedelta(days=10),
        status=ActionStatus.DONE,
    )
    make_action(plan, LOOSE_ACTION, owner_user=coordinator)
    make_report(mine, teacher, OLD_REPORT, compartment="school", days_ago=20)
    make_report(mine, teacher, NEW_REPORT, compartment="school", days_ago=2)
    return plan


def board(case: Case) -> str:
    return reverse("case_plan", kwargs={"case_id": case.pk})


def version_url(case: Case, plan: Plan, name: str = "case_plan_version") -> str:
    return reverse(name, kwargs={"case_id": case.pk, "plan_id": plan.pk})


# --- The board ----------------------------------------------------------------------------------------------------


def test_the_coordinator_sees_the_whole_plan_board(case: Case, plan: Plan, coordinator: User) -> None:
    response = client_for(coordinator).get(board(case))
    assert response.status_code == 200
    body = page_text(response)
    for text in (GOAL_SCHOOL, GOAL_HEALTH, TEACHER_ACTION, SCHOOL_ORG_ACTION, DOCTOR_ACTION, LOOSE_ACTION):
        assert text in body
    for text in (SUPPORT, CHILD_VIEWS, PARENTS_VIEWS):
        assert text in body
    # The latest report's text (the lead's board), not the older one; counts and the latest date for everyone.
    assert NEW_REPORT in body
    assert OLD_REPORT not in body
    assert body.count("plan-summary") == 3  # two goals and "other actions"
    assert body.count("badge--overdue") == 1  # the teacher's action; the doctor's is done
    assert "Hidden:" not in body
    assert "Skryto" not in body
    assert version_url(case, plan, "case_plan_pdf") in body
    assert version_url(case, plan) in body


def test_the_board_summarises_each_goal(case: Case, plan: Plan, coordinator: User) -> None:
    response = client_for(coordinator).get(board(case))
    goals = response.context["plan"].goals
    assert [(g.open_count, g.done_count, g.overdue_count) for g in goals] == [(2, 0, 1), (0, 1, 0)]
    other = response.context["plan"].other_actions
    assert [a.what for a in other.actions] == [LOOSE_ACTION]
    [teacher_row, _org_row] = goals[0].actions
    assert teacher_row.report_count == 2
    assert teacher_row.last_report == NEW_REPORT
    assert teacher_row.overdue


def test_a_school_member_sees_the_goals_and_only_their_actions(
    case: Case, plan: Plan, teacher: User, doctor: User
) -> None:
    response = client_for(teacher).get(board(case))
    assert response.status_code == 200
    body = page_text(response)
    assert GOAL_SCHOOL in body
    assert GOAL_HEALTH in body
    # Their own action and their organisation's; not the paediatrician's, not the coordinator's own.
    assert TEACHER_ACTION in body
    assert SCHOOL_ORG_ACTION in body
    assert DOCTOR_ACTION not in body
    assert LOOSE_ACTION not in body
    assert doctor.display_name() not in body
    # Social and the child's voice are not theirs: named as hidden, not shown.
    for text in (SUPPORT, CHILD_VIEWS, PARENTS_VIEWS):
        assert text not in body
    assert body.count('class="withheld" role="note"') == 4  # three texts and "2 more actions"
    # Reports: the count and the date, but no text (the board's text is the lead's).
    assert NEW_REPORT not in body
    assert OLD_REPORT not in body
    row = response.context["plan"].goals[0].actions[0]
    assert (row.what, row.report_count, row.last_report) == (TEACHER_ACTION, 2, None)
    assert response.context["plan"].hidden_actions == 2
    assert "plan-summary" not in body
    # Every read passed the gate: the action texts it disclosed, and a denial for the ones it withheld.
    reads = AuditEvent.objects.filter(actor=teacher, purpose="case plan", object_type="casework.planaction")
    assert set(reads.values_list("action", flat=True)) == {AuditAction.READ, AuditAction.DENY}


def test_the_doctor_sees_their_own_action_not_the_schools(case: Case, plan: Plan, doctor: User) -> None:
    body = page_text(client_for(doctor).get(board(case)))
    assert DOCTOR_ACTION in body
    assert TEACHER_ACTION not in body
    assert SCHOOL_ORG_ACTION not in body


@pytest.mark.parametrize("name", ["case_plan", "case_plan_version", "case_plan_pdf"])
def test_a_stranger_gets_404(case: Case, plan: Plan, foreign_worker: User, olomouc: Any, name: str) -> None:
    outsider = health_partner(municipality=olomouc)  # a partner not on the team
    kwargs: dict[str, object] = {"case_id": case.pk}
    if name != "case_plan":
        kwargs["plan_id"] = plan.pk
    for user in (foreign_worker, outsider):
        client = client_for(user)
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404
        assert client.post(reverse(name, kwargs=kwargs)).status_code == 404


@pytest.mark.parametrize("name", ["case_plan_version", "case_plan_pdf"])
def test_a_plan_of_another_case_is_not_found(case: Case, plan: Plan, coordinator: User, name: str) -> None:
    other_case = open_case(coordinator=coordinator)
    response = client_for(coordinator).get(reverse(name, kwargs={"case_id": other_case.pk, "plan_id": plan.pk}))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(actor=coordinator, action=AuditAction.DENY, case_id=other_case.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_case_page_links_to_the_plan(case: Case, coordinator: User, teacher: User) -> None:
    for user in (coordinator, teacher):
        body = page_text(client_for(user).get(reverse("case_detail", kwargs={"case_id": case.pk})))
        assert board(case) in body


def test_no_plan_yet(case: Case, coordinator: User, teacher: User) -> None:
    for user in (coordinator, teacher):
        response = client_for(user).get(board(case))
        assert response.status_code == 200
        assert response.context["plan"] is None
        assert response.context["versions"] == []


def test_the_lead_sees_the_version_in_work_a_member_does_not(
    case: Case, coordinator: User, teacher: User, supervisor: User
) -> None:
    draft = make_plan(case, drafted_by=coordinator, status=PlanStatus.DRAFT)
    make_action(draft, TEACHER_ACTION, goal=goal_of(draft, 0), owner_user=teacher)
    lead = client_for(coordinator).get(board(case))
    assert lead.context["plan"].id == draft.pk
    assert TEACHER_ACTION in page_text(lead)
    member = client_for(teacher).get(board(case))
    assert member.context["plan"] is None
    assert TEACHER_ACTION not in page_text(member)
    assert member.context["versions"] == []
    # Asking for the draft by its id: the member sees the case, so an audited 403.
    assert client_for(teacher).get(version_url(case, draft)).status_code == 403
    assert client_for(teacher).get(version_url(case, draft, "case_plan_pdf")).status_code == 403
    assert AuditEvent.objects.filter(actor=teacher, action=AuditAction.DENY, purpose="case plan version").exists()
    assert client_for(supervisor).get(version_url(case, draft)).status_code == 200


# --- Versions -----------------------------------------------------------------------------------------------------


def test_an_old_version_stays_readable_with_its_approver(
    case: Case, coordinator: User, supervisor: User, teacher: User, ospod: Organisation
) -> None:
    first_approver = ospod_staff(ospod, role=Role.SUPERVISOR, first_name="Bohumila", last_name="Schvalovací")
    approved_at = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 30))
    old = make_plan(
        case,
        drafted_by=coordinator,
        approved_by=first_approver,
        status=PlanStatus.SUPERSEDED,
        approved_at=approved_at,
        goals=["Starý cíl PLANOLDGOAL"],
    )
    current = make_plan(case, drafted_by=coordinator, approved_by=supervisor, version=2, goals=["Nový cíl PLANNEWGOAL"])
    boardpage = client_for(teacher).get(board(case))
    assert boardpage.context["plan"].id == current.pk
    body = page_text(boardpage)
    assert "PLANNEWGOAL" in body
    assert "PLANOLDGOAL" not in body
    assert version_url(case, old) in body
    assert version_url(case, current) in body
    for user in (coordinator, teacher):
        response = client_for(user).get(version_url(case, old))
        assert response.status_code == 200
        page = page_text(response)
        assert "PLANOLDGOAL" in page
        assert "PLANNEWGOAL" not in page
        assert first_approver.display_name() in page
        assert response.context["plan"].approved_at == approved_at
        assert response.context["plan"].status == PlanStatus.SUPERSEDED


def test_the_pages_are_read_only(case: Case, plan: Plan, coordinator: User) -> None:
    client = client_for(coordinator)
    assert client.post(board(case)).status_code == 405
    assert client.post(version_url(case, plan)).status_code == 405
    assert client.post(version_url(case, plan, "case_plan_pdf")).status_code == 405


# --- Queries ------------------------------------------------------------------------------------------------------

#: The board's queries for the coordinator and for a member, whatever the number of actions and reports: session and
#: user, the case and the viewer's standing, the versions, goals, actions (with report counts), the latest reports
#: (the lead only: one more gate read), one audit write (seven statements) plus one key load per gate read, and the
#: page's unread-notifications badge; and the child's name beside the reference (one more gate read: its audit write
#: and key load).
BOARD_QUERIES_LEAD = 39
BOARD_QUERIES_MEMBER = 33


def _grow(plan: Plan, teacher: User, doctor: User, size: int) -> None:
    goals = [goal_of(plan, 0), goal_of(plan, 1)]
    for index in range(size):
        owner = teacher if index % 2 == 0 else doctor
        action = make_action(plan, f"Úkol číslo {index}", goal=goals[index % 2], owner_user=owner, position=index)
        make_report(action, owner, f"Zpráva {index}", compartment="school" if owner == teacher else "health")
        make_report(action, owner, f"Další zpráva {index}", compartment="school" if owner == teacher else "health")


@pytest.mark.parametrize("size", [2, 6])
def test_the_board_runs_a_fixed_number_of_queries(
    size: int,
    case: Case,
    coordinator: User,
    supervisor: User,
    teacher: User,
    doctor: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    plan = make_plan(case, drafted_by=coordinator, approved_by=supervisor)
    _grow(plan, teacher, doctor, size)
    for user, expected in ((coordinator, BOARD_QUERIES_LEAD), (teacher, BOARD_QUERIES_MEMBER)):
        client = client_for(user)
        with django_assert_num_queries(expected):
            response = client.get(board(case))
        assert response.status_code == 200
        shown = len(response.context["plan"].all_actions)
        assert shown == (size if user == coordinator else size // 2)
