"""The plan's actions as services: written in the draft (by hand or taken over from a held conference's decisions),
checked before approval, carried into the next version (the old one unchanged), and reported on by their owners.

Each refusal is a field error under ``actions-<i>-<field>`` with nothing written; a refused report is audited; the
coordinator's notification carries ids, kind and reference only. Every name and text is fictional.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from casework.compartments import Compartment
from casework.models import (
    ActionReport,
    ActionStatus,
    Case,
    Conference,
    MembershipEndReason,
    Municipality,
    Organisation,
    Plan,
    PlanAction,
    PlanGoal,
    PlanStatus,
    TeamMembership,
    User,
)
from casework.services import conference_decision_add, team_member_end
from casework.services import plans as plan_services
from casework.services.plan_actions import ActionInput, action_report, plan_decisions_import
from notifications.models import Kind, Notification
from permissions import gate
from permissions.access import load_action_facts
from permissions.models import AuditEvent
from permissions.policy import Subject, may_report_on_action
from tests.casework.test_conference_services import held, schedule
from tests.factories import add_member, open_case
from tests.factories.cases import health_partner, school_partner, service_partner
from tests.scan import find_in_database

pytestmark = pytest.mark.django_db

GOALS = ["Vít chodí do školy každý den; zkušební cíl AKC-G1.", "Rodina spolupracuje se SAS; zkušební cíl AKC-G2."]
CHILD_VIEWS = "Chce bydlet doma; zkušební názor AKC-CV."
SCHOOL_ACTION = "Škola zajistí doučování z matematiky; zkušební úkol AKC-W1."
DOCTOR_ACTION = "Kontrola váhy jednou měsíčně; zkušební úkol AKC-W2."
SAS_ACTION = "SAS navštíví rodinu dvakrát týdně; zkušební úkol AKC-W3."
MEASURE = "Známka z matematiky nejhůře 3; zkušební měřítko AKC-M1."
REPORT_TEXT = "Doučování probíhá každé úterý; zkušební zpráva AKC-R1."
DECISION_TEXT = "Škola zajistí doučování; zkušební rozhodnutí AKC-D1."
ORG_DECISION_TEXT = "SAS zahájí spolupráci; zkušební rozhodnutí AKC-D2."
PLAIN_DECISION_TEXT = "Rodina bude spolupracovat; zkušební rozhodnutí AKC-D3."

LEAVE = MembershipEndReason.CHANGED_JOB


def may_report_action(user: User, action: PlanAction) -> bool:
    """The policy's answer (``may_report_on_action``) on the facts ``permissions.access`` loads for the action."""
    return may_report_on_action(Subject.from_user(user), load_action_facts(user, action))


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


# --- The cast: a case with a teacher, a paediatrician and two workers of a social service on the team ------------


@pytest.fixture
def doctor(olomouc: Municipality) -> User:
    return health_partner(municipality=olomouc)


@pytest.fixture
def sas_worker(olomouc: Municipality) -> User:
    return service_partner(municipality=olomouc)


@pytest.fixture
def sas(sas_worker: User) -> Organisation:
    assert sas_worker.organisation is not None
    return sas_worker.organisation


@pytest.fixture
def sas_colleague(sas: Organisation) -> User:
    return service_partner(org=sas)


@pytest.fixture
def case(coordinator: User, teacher: User, doctor: User, sas_worker: User, sas_colleague: User) -> Case:
    opened = open_case(coordinator=coordinator)
    for member in (teacher, doctor, sas_worker, sas_colleague):
        add_member(opened, member, coordinator)
    return opened


@pytest.fixture
def draft(case: Case, coordinator: User) -> Plan:
    return plan_services.plan_draft_start(case=case, by=coordinator)


def save(plan: Plan, by: User, actions: list[ActionInput] | None, *, goals: list[str] | None = None) -> Plan:
    return plan_services.plan_save(
        plan=plan,
        by=by,
        goals=GOALS if goals is None else goals,
        support_offered="SAS dvakrát týdně",
        child_views=CHILD_VIEWS,
        parents_views="Matka souhlasí.",
        next_review_on=None,
        actions=actions,
    )


def three_actions(teacher: User, doctor: User, sas: Organisation) -> list[ActionInput]:
    return [
        ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(30), success_measure=MEASURE, goal=0),
        ActionInput(what=DOCTOR_ACTION, owner_user_id=doctor.pk, due_on=in_days(20)),
        ActionInput(what=SAS_ACTION, owner_organisation_id=sas.pk, due_on=in_days(40), goal=1),
    ]


def approve(plan: Plan, coordinator: User, supervisor: User) -> Plan:
    plan_services.plan_submit(plan=plan, by=coordinator)
    plan.refresh_from_db()
    return plan_services.plan_approve(plan=plan, by=supervisor, next_review_on=in_days(180))


def actions_of(plan: Plan) -> list[PlanAction]:
    return list(PlanAction.objects.filter(plan=plan).order_by("position", "id"))


def texts(user: User, case: Case, rows: list[Any], fields: list[str]) -> list[dict[str, str | None]]:
    return [
        {name: disclosure.get(name) for name in fields}
        for disclosure in gate.read_case(user, case, rows, fields, purpose="test")
    ]


def snapshot(plan: Plan) -> tuple[Any, ...]:
    """Every column of the plan, its goals and its actions."""
    return (
        Plan.objects.values().get(pk=plan.pk),
        list(PlanGoal.objects.filter(plan=plan).order_by("position", "id").values()),
        list(PlanAction.objects.filter(plan=plan).order_by("position", "id").values()),
    )


# --- plan_save with actions ----------------------------------------------------------------------------------------


def test_plan_save_writes_actions_for_a_person_and_an_organisation(
    case: Case, draft: Plan, coordinator: User, teacher: User, doctor: User, sas: Organisation
) -> None:
    save(draft, coordinator, three_actions(teacher, doctor, sas))
    goals = list(PlanGoal.objects.filter(plan=draft).order_by("position"))
    rows = actions_of(draft)
    assert [(a.owner_user_id, a.owner_organisation_id) for a in rows] == [
        (teacher.pk, None),
        (doctor.pk, None),
        (None, sas.pk),
    ]
    assert [a.goal_id for a in rows] == [goals[0].pk, None, goals[1].pk]
    assert [a.due_on for a in rows] == [in_days(30), in_days(20), in_days(40)]
    assert {a.status for a in rows} == {ActionStatus.OPEN}
    assert texts(coordinator, case, rows, ["what", "success_measure"]) == [
        {"what": SCHOOL_ACTION, "success_measure": MEASURE},
        {"what": DOCTOR_ACTION, "success_measure": None},
        {"what": SAS_ACTION, "success_measure": None},
    ]
    # Ciphertext only at rest.
    assert find_in_database([SCHOOL_ACTION, MEASURE, SAS_ACTION]) == []
    assert AuditEvent.objects.filter(object_type="casework.plan", object_id=str(draft.pk), purpose="edit plan").exists()


def test_plan_save_replaces_the_action_list(
    draft: Plan, coordinator: User, teacher: User, doctor: User, sas: Organisation
) -> None:
    save(draft, coordinator, three_actions(teacher, doctor, sas))
    save(draft, coordinator, [ActionInput(what=DOCTOR_ACTION, owner_user_id=doctor.pk, due_on=in_days(10))])
    assert [(a.owner_user_id, a.due_on, a.position) for a in actions_of(draft)] == [(doctor.pk, in_days(10), 0)]
    save(draft, coordinator, [])
    assert actions_of(draft) == []


@pytest.fixture
def stranger(olomouc: Municipality) -> User:
    """A teacher of another school, on no team."""
    return school_partner(municipality=olomouc)


BAD_ACTIONS = {
    "no owner": (lambda p: ActionInput(what=SCHOOL_ACTION, due_on=in_days(5)), "owner"),
    "both owners": (
        lambda p: ActionInput(
            what=SCHOOL_ACTION, owner_user_id=p["teacher"].pk, owner_organisation_id=p["sas"].pk, due_on=in_days(5)
        ),
        "owner",
    ),
    "non-member owner": (
        lambda p: ActionInput(what=SCHOOL_ACTION, owner_user_id=p["stranger"].pk, due_on=in_days(5)),
        "owner",
    ),
    "organisation not on the team": (
        lambda p: ActionInput(
            what=SCHOOL_ACTION, owner_organisation_id=p["stranger"].organisation_id, due_on=in_days(5)
        ),
        "owner",
    ),
    "no due date": (lambda p: ActionInput(what=SCHOOL_ACTION, owner_user_id=p["teacher"].pk), "due_on"),
    "goal out of range": (
        lambda p: ActionInput(what=SCHOOL_ACTION, owner_user_id=p["teacher"].pk, due_on=in_days(5), goal=2),
        "goal",
    ),
    "negative goal": (
        lambda p: ActionInput(what=SCHOOL_ACTION, owner_user_id=p["teacher"].pk, due_on=in_days(5), goal=-1),
        "goal",
    ),
    "no text": (lambda p: ActionInput(what="  ", owner_user_id=p["teacher"].pk, due_on=in_days(5)), "what"),
}


@pytest.mark.parametrize("bad", list(BAD_ACTIONS))
def test_a_bad_action_is_a_field_error_and_nothing_is_written(
    bad: str,
    draft: Plan,
    coordinator: User,
    teacher: User,
    stranger: User,
    sas: Organisation,
) -> None:
    save(draft, coordinator, None)  # goals and texts, no action yet
    before = snapshot(draft)
    make, field = BAD_ACTIONS[bad]
    good = ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(5))
    with pytest.raises(ValidationError) as caught:
        plan_services.plan_save(
            plan=draft,
            by=coordinator,
            goals=["Jiný cíl AKC-X1", "Jiný cíl AKC-X2"],
            support_offered="jiná podpora",
            child_views="jiný názor",
            parents_views="",
            next_review_on=None,
            actions=[good, make({"teacher": teacher, "stranger": stranger, "sas": sas})],
        )
    assert set(caught.value.message_dict) == {f"actions-1-{field}"}
    assert snapshot(draft) == before
    assert not PlanAction.objects.filter(plan=draft).exists()


def test_a_due_date_before_the_drafts_conference_is_refused(
    case: Case, draft: Plan, coordinator: User, teacher: User
) -> None:
    conference = held(case, coordinator, teacher)
    today = timezone.localdate()
    # Held at midnight today: the day before it is also in the past, and the conference's message says why.
    Conference.objects.filter(pk=conference.pk).update(
        starts_at=timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 0)))
    )
    plan_decisions_import(plan=draft, by=coordinator, conference=conference)  # no decisions: only remembers it
    draft.refresh_from_db()
    assert draft.conference_id == conference.pk
    before = snapshot(draft)
    with pytest.raises(ValidationError) as caught:
        save(draft, coordinator, [ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(-1))])
    assert caught.value.message_dict == {"actions-0-due_on": [gettext("The due date cannot be before the conference.")]}
    assert snapshot(draft) == before
    # The conference's own day is fine.
    save(draft, coordinator, [ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=today)])
    assert [a.due_on for a in actions_of(draft)] == [today]


def test_a_new_due_date_in_the_past_is_refused(draft: Plan, coordinator: User, teacher: User) -> None:
    """An action of the draft is due today or later (the plausibility rule; the conference's day may lie further
    back)."""
    before = snapshot(draft)
    with pytest.raises(ValidationError) as caught:
        save(draft, coordinator, [ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(-1))])
    assert caught.value.message_dict == {"actions-0-due_on": [gettext("A due date cannot be in the past.")]}
    assert snapshot(draft) == before


def test_only_the_lead_saves_actions(draft: Plan, teacher: User) -> None:
    with pytest.raises(PermissionDenied):
        save(draft, teacher, [ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(5))])
    assert not PlanAction.objects.filter(plan=draft).exists()


def test_saving_without_actions_keeps_them_and_relinks_goals_by_position(
    case: Case, draft: Plan, coordinator: User, teacher: User, doctor: User, sas: Organisation
) -> None:
    save(draft, coordinator, three_actions(teacher, doctor, sas))
    before = [(a.pk, a.what, a.owner_user_id, a.owner_organisation_id, a.due_on) for a in actions_of(draft)]
    # The goals are rewritten (new rows): each kept action points at the goal now at its goal's place.
    save(draft, coordinator, None, goals=["Nový první cíl AKC-N1", "Nový druhý cíl AKC-N2", "Třetí AKC-N3"])
    goals = list(PlanGoal.objects.filter(plan=draft).order_by("position"))
    rows = actions_of(draft)
    assert [(a.pk, a.what, a.owner_user_id, a.owner_organisation_id, a.due_on) for a in rows] == before
    assert [a.goal_id for a in rows] == [goals[0].pk, None, goals[1].pk]
    assert texts(coordinator, case, [rows[0].goal], ["text"]) == [{"text": "Nový první cíl AKC-N1"}]
    # A shorter list: the action whose goal's place is gone points at none.
    save(draft, coordinator, None, goals=["Jediný cíl AKC-N4"])
    only = PlanGoal.objects.get(plan=draft)
    assert [a.goal_id for a in actions_of(draft)] == [only.pk, None, None]


# --- Decisions of a held conference ------------------------------------------------------------------------------


def decide(conference: Conference, coordinator: User, teacher: User, sas: Organisation) -> None:
    conference_decision_add(
        conference=conference, by=coordinator, text=DECISION_TEXT, owner_user=teacher, due_on=in_days(14)
    )
    conference_decision_add(conference=conference, by=coordinator, text=PLAIN_DECISION_TEXT)
    conference_decision_add(
        conference=conference, by=coordinator, text=ORG_DECISION_TEXT, owner_organisation=sas, due_on=in_days(21)
    )


def test_decisions_with_owner_and_due_date_become_actions_once(
    case: Case, draft: Plan, coordinator: User, teacher: User, sas: Organisation
) -> None:
    conference = held(case, coordinator, teacher)
    decide(conference, coordinator, teacher, sas)
    created = plan_decisions_import(plan=draft, by=coordinator, conference=conference)
    rows = actions_of(draft)
    assert [a.pk for a in created] == [a.pk for a in rows]
    assert [(a.owner_user_id, a.owner_organisation_id, a.due_on) for a in rows] == [
        (teacher.pk, None, in_days(14)),
        (None, sas.pk, in_days(21)),
    ]
    assert all(a.decision_id is not None for a in rows)
    assert [t["what"] for t in texts(coordinator, case, rows, ["what"])] == [DECISION_TEXT, ORG_DECISION_TEXT]
    draft.refresh_from_db()
    assert draft.conference_id == conference.pk
    # Each decision once: a second import adds nothing.
    assert plan_decisions_import(plan=draft, by=coordinator, conference=conference) == []
    assert len(actions_of(draft)) == 2
    # A decision added later is taken over on the next import, after the others.
    conference_decision_add(
        conference=conference, by=coordinator, text="Další rozhodnutí AKC-D4", owner_user=teacher, due_on=in_days(7)
    )
    assert len(plan_decisions_import(plan=draft, by=coordinator, conference=conference)) == 1
    assert [a.position for a in actions_of(draft)] == [1, 2, 3]


def test_decisions_of_another_case_or_of_a_conference_not_held_are_refused(
    case: Case, draft: Plan, coordinator: User, teacher: User
) -> None:
    other = open_case(coordinator=coordinator, given_name="Petr", family_name="Dvořák", female=False)
    add_member(other, teacher, coordinator)
    foreign = held(other, coordinator, teacher)
    conference_decision_add(
        conference=foreign, by=coordinator, text=DECISION_TEXT, owner_user=teacher, due_on=in_days(14)
    )
    scheduled = schedule(case, coordinator, [teacher])
    before = snapshot(draft)
    for conference in (foreign, scheduled):
        with pytest.raises(ValidationError) as caught:
            plan_decisions_import(plan=draft, by=coordinator, conference=conference)
        assert set(caught.value.message_dict) == {"conference"}
    assert snapshot(draft) == before


def test_decisions_are_imported_into_a_draft_only(
    case: Case, draft: Plan, coordinator: User, teacher: User, supervisor: User, sas: Organisation
) -> None:
    conference = held(case, coordinator, teacher)
    decide(conference, coordinator, teacher, sas)
    save(draft, coordinator, None)
    plan_services.plan_submit(plan=draft, by=coordinator)
    draft.refresh_from_db()
    with pytest.raises(ValidationError):
        plan_decisions_import(plan=draft, by=coordinator, conference=conference)
    assert not PlanAction.objects.filter(plan=draft).exists()
    with pytest.raises(PermissionDenied):
        plan_decisions_import(plan=draft, by=teacher, conference=conference)


def test_an_action_can_only_come_from_a_held_decision_of_the_case_or_the_previous_version_once(
    case: Case, draft: Plan, coordinator: User, supervisor: User, teacher: User, doctor: User, sas: Organisation
) -> None:
    conference = held(case, coordinator, teacher)
    decide(conference, coordinator, teacher, sas)
    [mine, _org] = plan_decisions_import(plan=draft, by=coordinator, conference=conference)
    save(draft, coordinator, None)
    other = open_case(coordinator=coordinator, given_name="Petr", family_name="Dvořák", female=False)
    add_member(other, teacher, coordinator)
    foreign = conference_decision_add(
        conference=held(other, coordinator, teacher),
        by=coordinator,
        text=DECISION_TEXT,
        owner_user=teacher,
        due_on=in_days(14),
    )
    first = approve(draft, coordinator, supervisor)
    second = plan_services.plan_draft_start(case=case, by=coordinator)
    [carried, _carried_org] = actions_of(second)
    assert carried.carried_from_id is not None

    def row(**origin: Any) -> ActionInput:
        return ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(30), **origin)

    bad = {
        "decision of another case": [row(decision_id=foreign.pk)],
        "the same decision twice": [row(decision_id=mine.decision_id), row(decision_id=mine.decision_id)],
        "an action of this draft, not of the version before": [row(carried_from_id=carried.pk)],
        "the same action carried twice": [
            row(carried_from_id=carried.carried_from_id),
            row(carried_from_id=carried.carried_from_id),
        ],
    }
    before = snapshot(second)
    for label, actions in bad.items():
        with pytest.raises(ValidationError) as caught:
            save(second, coordinator, actions)
        keys = set(caught.value.message_dict)
        assert keys, label
        assert all(k.endswith(("-decision_id", "-carried_from_id")) for k in keys), label
        assert snapshot(second) == before, label
    # The origins that do belong are kept as they are.
    save(second, coordinator, [row(decision_id=mine.decision_id, carried_from_id=carried.carried_from_id)])
    [kept] = actions_of(second)
    assert (kept.decision_id, kept.carried_from_id) == (mine.decision_id, first.actions.order_by("position")[0].pk)


# --- Submitting -------------------------------------------------------------------------------------------------


def test_submit_refuses_an_owner_who_left_the_team(
    case: Case, draft: Plan, coordinator: User, teacher: User, doctor: User, sas: Organisation
) -> None:
    save(draft, coordinator, three_actions(teacher, doctor, sas))
    team_member_end(
        membership=TeamMembership.objects.current().get(case=case, user=teacher), ended_by=coordinator, reason=LEAVE
    )
    with pytest.raises(ValidationError) as caught:
        plan_services.plan_submit(plan=draft, by=coordinator)
    assert set(caught.value.message_dict) == {"actions"}
    draft.refresh_from_db()
    assert draft.status == PlanStatus.DRAFT


def test_submit_refuses_an_organisation_whose_members_all_left(
    case: Case,
    draft: Plan,
    coordinator: User,
    teacher: User,
    sas_worker: User,
    sas_colleague: User,
    sas: Organisation,
) -> None:
    save(draft, coordinator, [ActionInput(what=SAS_ACTION, owner_organisation_id=sas.pk, due_on=in_days(5))])
    for member in (sas_worker, sas_colleague):
        team_member_end(
            membership=TeamMembership.objects.current().get(case=case, user=member), ended_by=coordinator, reason=LEAVE
        )
    with pytest.raises(ValidationError) as caught:
        plan_services.plan_submit(plan=draft, by=coordinator)
    assert set(caught.value.message_dict) == {"actions"}


def test_submit_refuses_a_passed_due_date(draft: Plan, coordinator: User, teacher: User) -> None:
    save(draft, coordinator, [ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(1))])
    # The day passed while the draft waited (a draft's actions are saved due today or later).
    PlanAction.objects.filter(plan=draft).update(due_on=in_days(-1))
    with pytest.raises(ValidationError) as caught:
        plan_services.plan_submit(plan=draft, by=coordinator)
    assert set(caught.value.message_dict) == {"actions"}
    draft.refresh_from_db()
    assert draft.status == PlanStatus.DRAFT
    # Due today is still fine.
    save(draft, coordinator, [ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(0))])
    assert plan_services.plan_submit(plan=draft, by=coordinator).status == PlanStatus.SUBMITTED


# --- Versions ---------------------------------------------------------------------------------------------------


def test_the_next_version_carries_open_actions_and_the_old_one_stays_unchanged(
    case: Case,
    draft: Plan,
    coordinator: User,
    supervisor: User,
    teacher: User,
    doctor: User,
    sas: Organisation,
) -> None:
    save(draft, coordinator, three_actions(teacher, doctor, sas))
    first = approve(draft, coordinator, supervisor)
    school_action, doctor_action, sas_action = actions_of(first)
    action_report(action=doctor_action, by=doctor, text="Váha v normě; zkušební zpráva AKC-R2.", completes=True)

    second = plan_services.plan_draft_start(case=case, by=coordinator)
    assert second.version == 2
    carried = actions_of(second)
    # Only the open actions, each pointing back at the action it continues, with the copied goal.
    assert [a.carried_from_id for a in carried] == [school_action.pk, sas_action.pk]
    assert [(a.owner_user_id, a.owner_organisation_id, a.due_on, a.position) for a in carried] == [
        (teacher.pk, None, school_action.due_on, school_action.position),
        (None, sas.pk, sas_action.due_on, sas_action.position),
    ]
    new_goals = list(PlanGoal.objects.filter(plan=second).order_by("position"))
    assert [a.goal_id for a in carried] == [new_goals[0].pk, new_goals[1].pk]
    assert {a.status for a in carried} == {ActionStatus.OPEN}
    assert texts(coordinator, case, carried, ["what", "success_measure"]) == [
        {"what": SCHOOL_ACTION, "success_measure": MEASURE},
        {"what": SAS_ACTION, "success_measure": None},
    ]
    # Sealed anew for the new rows.
    assert bytes(carried[0].what or b"") != bytes(school_action.what or b"")

    before = snapshot(first)
    plan_services.plan_submit(plan=second, by=coordinator)
    second.refresh_from_db()
    plan_services.plan_approve(plan=second, by=supervisor, next_review_on=in_days(180))
    plan_row, goal_rows, action_rows = snapshot(first)
    assert plan_row["status"] == PlanStatus.SUPERSEDED
    assert {k: v for k, v in plan_row.items() if k != "status"} == {k: v for k, v in before[0].items() if k != "status"}
    assert goal_rows == before[1]
    assert action_rows == before[2]
    assert list(Plan.objects.filter(case=case, status=PlanStatus.CURRENT).values_list("pk", flat=True)) == [second.pk]


# --- Reports -----------------------------------------------------------------------------------------------------


@pytest.fixture
def approved(draft: Plan, coordinator: User, supervisor: User, teacher: User, doctor: User, sas: Organisation) -> Plan:
    save(draft, coordinator, three_actions(teacher, doctor, sas))
    return approve(draft, coordinator, supervisor)


def report_counts() -> tuple[int, int, int]:
    return (
        ActionReport.objects.count(),
        Notification.objects.filter(kind=Kind.ACTION_REPORTED).count(),
        PlanAction.objects.filter(status=ActionStatus.DONE).count(),
    )


def test_the_owner_reports_progress_and_the_action_stays_open(
    case: Case, approved: Plan, coordinator: User, teacher: User
) -> None:
    school_action = actions_of(approved)[0]
    report = action_report(action=school_action, by=teacher, text=f"  {REPORT_TEXT}  ")
    assert report.compartment == Compartment.SCHOOL
    assert report.author_id == teacher.pk
    assert report.author_organisation_id == teacher.organisation_id
    assert report.completes is False
    school_action.refresh_from_db()
    assert school_action.status == ActionStatus.OPEN
    assert school_action.done_at is None
    assert texts(teacher, case, [report], ["text"]) == [{"text": REPORT_TEXT}]
    assert find_in_database([REPORT_TEXT]) == []
    assert AuditEvent.objects.filter(
        object_type="casework.actionreport", object_id=str(report.pk), purpose="report on plan action"
    ).exists()


def test_the_coordinator_gets_one_notification_with_ids_only(
    case: Case, approved: Plan, coordinator: User, teacher: User
) -> None:
    school_action = actions_of(approved)[0]
    action_report(action=school_action, by=teacher, text=REPORT_TEXT)
    sent = Notification.objects.filter(kind=Kind.ACTION_REPORTED)
    assert sent.count() == 1
    note = sent.get()
    assert note.recipient_id == coordinator.pk
    assert (note.case_id, note.case_reference, note.object_type, note.object_id) == (
        case.pk,
        case.reference,
        "casework.planaction",
        str(school_action.pk),
    )
    assert note.urgent is False
    # No protected text anywhere in the row.
    columns = " ".join(str(v) for v in Notification.objects.values().get(pk=note.pk).values())
    for secret in (REPORT_TEXT, SCHOOL_ACTION, "AKC-", "Eliška", "Nováková"):
        assert secret not in columns


def test_done_sets_the_status_and_a_second_report_is_a_plain_error(
    case: Case, approved: Plan, coordinator: User, doctor: User
) -> None:
    doctor_action = actions_of(approved)[1]
    report = action_report(action=doctor_action, by=doctor, text=REPORT_TEXT, completes=True)
    assert report.completes is True
    assert report.compartment == Compartment.HEALTH
    doctor_action.refresh_from_db()
    assert doctor_action.status == ActionStatus.DONE
    assert doctor_action.done_at is not None
    assert not may_report_action(doctor, doctor_action)
    before = report_counts()
    denials = AuditEvent.objects.filter(outcome="denied", purpose="report on plan action").count()
    # The owner's second "done" (a double click, another tab) is a plain error, not an access refusal: nothing written.
    with pytest.raises(ValidationError) as caught:
        action_report(action=doctor_action, by=doctor, text="Ještě jednou AKC-R9", completes=True)
    assert list(caught.value.message_dict) == ["__all__"]
    assert report_counts() == before
    assert AuditEvent.objects.filter(outcome="denied", purpose="report on plan action").count() == denials


def test_a_member_of_the_owning_organisation_reports(
    approved: Plan, sas_worker: User, sas_colleague: User, teacher: User
) -> None:
    sas_action = actions_of(approved)[2]
    assert may_report_action(sas_worker, sas_action)
    assert may_report_action(sas_colleague, sas_action)
    assert not may_report_action(teacher, sas_action)
    report = action_report(action=sas_action, by=sas_colleague, text=REPORT_TEXT)
    assert report.compartment == Compartment.SERVICES
    assert report.author_organisation_id == sas_action.owner_organisation_id


def test_a_member_who_left_no_longer_reports(case: Case, approved: Plan, coordinator: User, sas_worker: User) -> None:
    sas_action = actions_of(approved)[2]
    team_member_end(
        membership=TeamMembership.objects.current().get(case=case, user=sas_worker), ended_by=coordinator, reason=LEAVE
    )
    with pytest.raises(PermissionDenied):
        action_report(action=sas_action, by=sas_worker, text=REPORT_TEXT)
    assert not ActionReport.objects.exists()


@pytest.fixture
def outsider_of_the_school(school: Organisation) -> User:
    """A colleague of the teacher's at the same school, not on the team."""
    return school_partner(org=school)


@pytest.mark.parametrize(
    "who", ["doctor", "coordinator", "supervisor", "stranger", "outsider_of_the_school", "foreign_worker"]
)
def test_anyone_but_the_owner_is_refused_and_audited(who: str, approved: Plan, request: pytest.FixtureRequest) -> None:
    intruder: User = request.getfixturevalue(who)
    school_action = actions_of(approved)[0]
    before = report_counts()
    denials = AuditEvent.objects.filter(outcome="denied", purpose="report on plan action")
    count = denials.count()
    with pytest.raises(PermissionDenied):
        action_report(action=school_action, by=intruder, text=REPORT_TEXT, completes=True)
    assert report_counts() == before
    assert denials.count() == count + 1
    assert denials.order_by("-id").first().actor_id == intruder.pk  # type: ignore[union-attr]
    school_action.refresh_from_db()
    assert school_action.status == ActionStatus.OPEN


def test_an_empty_report_is_a_field_error_and_nothing_is_written(approved: Plan, teacher: User) -> None:
    school_action = actions_of(approved)[0]
    before = report_counts()
    with pytest.raises(ValidationError) as caught:
        action_report(action=school_action, by=teacher, text="   ", completes=True)
    assert set(caught.value.message_dict) == {"text"}
    assert report_counts() == before
    school_action.refresh_from_db()
    assert school_action.status == ActionStatus.OPEN


def test_actions_of_a_draft_are_not_reported_on(draft: Plan, coordinator: User, teacher: User) -> None:
    save(draft, coordinator, [ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(5))])
    # Not in force yet: its owner is told so (a field error), nothing is written.
    with pytest.raises(ValidationError) as caught:
        action_report(action=actions_of(draft)[0], by=teacher, text=REPORT_TEXT)
    assert list(caught.value.message_dict) == ["__all__"]
    assert not ActionReport.objects.exists()
