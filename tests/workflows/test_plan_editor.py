"""The plan draft's editor: the actions (what, who, by when, how success is judged, which goal) saved with the goals
and texts in one post, the service's refusals shown on the row and field they concern with nothing written, the
decisions of a held conference taken over as actions (each once), and the actions on the supervisor's approval page.

Every name and text is fictional.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from viewflow.workflow.status import STATUS

from casework.models import (
    Attendance,
    Case,
    ChildParticipation,
    Conference,
    MembershipEndReason,
    Plan,
    PlanAction,
    PlanGoal,
    TeamMembership,
    User,
)
from casework.services import (
    conference_decision_add,
    conference_record,
    conference_schedule,
    team_member_end,
)
from casework.services import plans as plan_services
from casework.services.plan_actions import ActionInput, plan_decisions_import
from permissions import gate
from permissions.models import AuditEvent
from tests.casework.test_conference_services import schedule
from tests.factories import UserFactory
from workflows import tasks
from workflows.flows import CaseFlow

from . import test_case_flow as flow_tests
from .conftest import client_for, html
from .test_case_flow import one_task
from .test_plan_stage import CHILD_VIEWS, GOAL, to_plan_stage

# The case flow's fixtures: a case with a teacher (school) and a doctor (paediatrician's practice) on the team.
case = flow_tests.case
doctor = flow_tests.doctor

SECOND_GOAL = "Rodina spolupracuje se SAS; zkušební cíl 6603."
SCHOOL_ACTION = "Třídní učitelka hlásí absence každý pátek; zkušební úkol 9101."
DOCTOR_ACTION = "Kontrola váhy jednou za měsíc; zkušební úkol 9102."
DOCTOR_MEASURE = "Váha v pásmu normy; zkušební měřítko 9103."
DECISION_SCHOOL = "Škola zajistí doučování; zkušební rozhodnutí 9201."
DECISION_DOCTOR = "Lékař vyšetří dítě do konce měsíce; zkušební rozhodnutí 9202."
DECISION_NO_ACTION = "Konference vzala na vědomí zprávu školy; zkušební rozhodnutí 9203."


@pytest.fixture
def draft(case: Case, coordinator: User, teacher: User) -> tuple[Any, Plan]:
    """The coordinator's draft task and its plan version."""
    task = to_plan_stage(case, coordinator, teacher)
    plan = plan_services.plan_in_work(case)
    assert plan is not None
    return task, plan


def url(task: Any) -> str:
    return f"/inbox/tasks/{task.pk}/"


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def post_data(goals: list[str], rows: list[dict[str, Any]], *, initial: int = 0, **fields: Any) -> dict[str, Any]:
    """What the editor posts: the plan's fields, the management form and the action rows (``actions-<i>-<field>``).
    ``initial`` says how many of the rows are the draft's own actions (as the page rendered them)."""
    data: dict[str, Any] = {
        "goals": "\n".join(goals),
        "support_offered": "",
        "child_views": CHILD_VIEWS,
        "parents_views": "",
        "next_review_on": "",
        "actions-TOTAL_FORMS": str(len(rows)),
        "actions-INITIAL_FORMS": str(initial),
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "1000",
        "save": "1",
    }
    data.update(fields)
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"actions-{index}-{name}"] = "" if value is None else str(value)
    return data


def row(what: str = "", owner: str = "", due_on: datetime.date | None = None, **fields: Any) -> dict[str, Any]:
    values = {"what": what, "owner": owner, "due_on": due_on.isoformat() if due_on else "", "success_measure": ""}
    values.update(fields)
    return values


def empty_row() -> dict[str, Any]:
    return row()


def action_texts(user: User, case: Case, actions: list[PlanAction]) -> list[dict[str, str | None]]:
    return [dict(d.values) for d in gate.read_case(user, case, actions, ["what", "success_measure"], purpose="test")]


def snapshot(plan: Plan) -> tuple[Any, ...]:
    """Everything the editor could write: the version's row, its goals and its actions (ciphertext included)."""
    return (
        Plan.objects.values().get(pk=plan.pk),
        list(PlanGoal.objects.filter(plan=plan).order_by("position").values()),
        list(PlanAction.objects.filter(plan=plan).order_by("position").values()),
    )


def held_conference(case: Case, coordinator: User, members: list[User], *, days_ago: int = 10) -> Conference:
    """A conference of the case that took place ``days_ago`` days ago, its record written (HELD)."""
    conference = schedule(case, coordinator, members)
    Conference.objects.filter(pk=conference.pk).update(starts_at=timezone.now() - datetime.timedelta(days=days_ago))
    conference.refresh_from_db()
    return conference_record(
        conference=conference,
        by=coordinator,
        attendance={str(i.pk): Attendance.ATTENDED for i in conference.invitees.all()},
        child_participation=ChildParticipation.VIEWS_CONVEYED,
        minutes="Zápis konference; zkušební zápis 9200.",
    )


def shown(message: str) -> str:
    """A service's message as the page shows it (Czech, the UI's first language; English until translated)."""
    with translation.override("cs"):
        return gettext(message)


def conference_day(conference: Conference) -> datetime.date:
    return timezone.localtime(conference.starts_at).date()


# --- The editor ---------------------------------------------------------------------------------------------------


def test_the_editor_shows_action_rows_with_team_owners_and_goals(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    task, plan = draft
    stranger = UserFactory.create(username="cizinec")
    plan_services.plan_save(
        plan=plan,
        by=coordinator,
        goals=[GOAL, SECOND_GOAL],
        support_offered="",
        child_views="",
        parents_views="",
        next_review_on=None,
        actions=[ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(30), goal=1)],
    )
    response = client_for(coordinator).get(url(task))
    assert response.status_code == 200
    page = html(response)
    formset = response.context["formset"]
    # The draft's action, then two empty rows.
    assert len(formset.forms) == 3
    assert 'name="actions-TOTAL_FORMS"' in page
    assert 'name="actions-2-what"' in page
    assert 'name="actions-3-what"' not in page
    assert SCHOOL_ACTION in page
    first = formset.forms[0]
    assert first.initial["owner"] == f"u:{teacher.pk}"
    assert first.initial["goal"] == "2"
    # Owners: the current members and their organisations; nobody from outside the team.
    owners = [value for _group, options in first.fields["owner"].choices[1:] for value, _label in options]
    assert f"u:{teacher.pk}" in owners
    assert f"u:{doctor.pk}" in owners
    assert f"o:{doctor.organisation_id}" in owners
    assert f"u:{stranger.pk}" not in owners
    assert f"{teacher.organisation} (" in page  # "Name (role, organisation)"
    # Goals by number.
    assert [value for value, _label in first.fields["goal"].choices] == ["", "1", "2"]


def test_two_actions_are_saved_with_the_goals_in_one_post(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    task, plan = draft
    data = post_data(
        [GOAL, SECOND_GOAL],
        [
            row(SCHOOL_ACTION, f"u:{teacher.pk}", in_days(14), goal="1"),
            row(DOCTOR_ACTION, f"o:{doctor.organisation_id}", in_days(30), success_measure=DOCTOR_MEASURE, goal="2"),
            empty_row(),
        ],
    )
    response = client_for(coordinator).post(url(task), data)
    assert response.status_code == 302

    goals = list(PlanGoal.objects.filter(plan=plan).order_by("position"))
    assert len(goals) == 2
    actions = list(PlanAction.objects.filter(plan=plan).order_by("position"))
    assert len(actions) == 2  # the empty row is ignored
    school, health = actions
    assert (school.owner_user_id, school.owner_organisation_id) == (teacher.pk, None)
    assert (health.owner_user_id, health.owner_organisation_id) == (None, doctor.organisation_id)
    assert (school.due_on, health.due_on) == (in_days(14), in_days(30))
    assert (school.goal_id, health.goal_id) == (goals[0].pk, goals[1].pk)
    assert action_texts(coordinator, case, actions) == [
        {"what": SCHOOL_ACTION, "success_measure": None},
        {"what": DOCTOR_ACTION, "success_measure": DOCTOR_MEASURE},
    ]
    assert SCHOOL_ACTION.encode() not in bytes(school.what or b"")  # sealed at rest
    written = AuditEvent.objects.filter(actor=coordinator, action="write", purpose="edit plan")
    assert any("actions" in event.field_names for event in written)

    # The page shows them again as the draft's rows; saving without changes keeps them.
    again = client_for(coordinator).get(url(task))
    assert DOCTOR_MEASURE in html(again)
    rows = [
        row(SCHOOL_ACTION, f"u:{teacher.pk}", in_days(14), goal="1"),
        row(DOCTOR_ACTION, f"o:{doctor.organisation_id}", in_days(30), success_measure=DOCTOR_MEASURE, goal="2"),
        empty_row(),
        empty_row(),
    ]
    assert client_for(coordinator).post(url(task), post_data([GOAL, SECOND_GOAL], rows, initial=2)).status_code == 302
    assert PlanAction.objects.filter(plan=plan).count() == 2


def test_a_refused_submit_keeps_the_saved_draft_and_says_so(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User
) -> None:
    task, plan = draft
    data = post_data([GOAL], [row(SCHOOL_ACTION, f"u:{teacher.pk}", in_days(14), goal="1")], child_views="")
    del data["save"]
    data["submit"] = "1"
    response = client_for(coordinator).post(url(task), data)
    assert response.status_code == 200
    page = html(response)
    assert shown("The draft was saved, but it cannot be submitted yet: please complete what is marked below.") in page
    assert shown("Please correct the errors below. Nothing was saved.") not in page
    # The goal and the action were saved; the task is still the coordinator's, the version still a draft.
    assert PlanGoal.objects.filter(plan=plan).count() == 1
    assert action_texts(coordinator, case, list(PlanAction.objects.filter(plan=plan))) == [
        {"what": SCHOOL_ACTION, "success_measure": None}
    ]
    plan.refresh_from_db()
    assert plan.submitted_at is None
    assert one_task(case, CaseFlow.draft_plan).pk == task.pk


def test_a_deleted_row_is_removed_and_a_post_without_rows_keeps_the_actions(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    task, plan = draft
    rows = [
        row(SCHOOL_ACTION, f"u:{teacher.pk}", in_days(14)),
        row(DOCTOR_ACTION, f"u:{doctor.pk}", in_days(20)),
    ]
    assert client_for(coordinator).post(url(task), post_data([GOAL], rows)).status_code == 302
    assert PlanAction.objects.filter(plan=plan).count() == 2
    rows[0]["DELETE"] = "on"
    assert client_for(coordinator).post(url(task), post_data([GOAL], rows, initial=2)).status_code == 302
    kept = list(PlanAction.objects.filter(plan=plan))
    assert [a.owner_user_id for a in kept] == [doctor.pk]
    # A post of the plan's fields alone (no action rows at all) leaves the actions as they are.
    plain = {"goals": GOAL, "child_views": CHILD_VIEWS, "support_offered": "", "parents_views": "", "save": "1"}
    assert client_for(coordinator).post(url(task), plain).status_code == 302
    assert list(PlanAction.objects.filter(plan=plan).values_list("pk", flat=True)) == [kept[0].pk]


def test_bad_rows_show_field_errors_and_nothing_is_saved(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    task, plan = draft
    plan_services.plan_save(
        plan=plan,
        by=coordinator,
        goals=[GOAL, SECOND_GOAL],
        support_offered="SAS dvakrát týdně",
        child_views=CHILD_VIEWS,
        parents_views="",
        next_review_on=None,
        actions=[ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(30), goal=0)],
    )
    stranger = UserFactory.create(username="cizinec")
    before = snapshot(plan)
    kept = row(SCHOOL_ACTION, f"u:{teacher.pk}", in_days(30), goal="1")
    cases = {
        "owner": row(DOCTOR_ACTION, "", in_days(10)),
        "due_on": row(DOCTOR_ACTION, f"u:{doctor.pk}", None),
        "what": row("", f"u:{doctor.pk}", in_days(10)),
    }
    cases_by_value = {
        "owner": row(DOCTOR_ACTION, f"u:{stranger.pk}", in_days(10)),  # hand-made: not on the team
        "goal": row(DOCTOR_ACTION, f"u:{doctor.pk}", in_days(10), goal="7"),  # there are two goals
    }
    lead = client_for(coordinator)
    for field, bad in [*cases.items(), *cases_by_value.items()]:
        # The goals and texts change in the same post: none of it may be written.
        data = post_data(["Jiný cíl", "Druhý cíl"], [kept, bad], initial=1, support_offered="změněno")
        response = lead.post(url(task), data)
        assert response.status_code == 200, field
        formset = response.context["formset"]
        assert field in formset.forms[1].errors, (field, formset.errors)
        assert not formset.forms[0].errors
        assert 'class="form-error"' in html(response)  # "Please correct the errors below. Nothing was saved."
        assert snapshot(plan) == before, field


def test_a_due_date_before_the_conference_is_refused_on_its_row(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    task, plan = draft
    conference = held_conference(case, coordinator, [teacher])
    conference_decision_add(
        conference=conference, by=coordinator, text=DECISION_SCHOOL, owner_user=teacher, due_on=in_days(14)
    )
    plan_decisions_import(plan=plan, by=coordinator, conference=conference)
    imported = PlanAction.objects.get(plan=plan)
    before = snapshot(plan)
    too_early = conference_day(conference) - datetime.timedelta(days=1)
    # Row 0 (the imported action) is deleted: the service's action 0 is row 1, and its error lands there.
    rows = [
        row(DECISION_SCHOOL, f"u:{teacher.pk}", in_days(14), decision_id=imported.decision_id, DELETE="on"),
        row(DOCTOR_ACTION, f"u:{doctor.pk}", too_early),
    ]
    response = client_for(coordinator).post(url(task), post_data([GOAL], rows, initial=1))
    assert response.status_code == 200
    formset = response.context["formset"]
    assert shown("The due date cannot be before the conference.") in formset.forms[1].errors["due_on"]
    assert not formset.forms[0].errors
    assert snapshot(plan) == before


def test_an_owner_who_left_the_team_is_refused_by_the_service(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    task, plan = draft
    plan_services.plan_save(
        plan=plan,
        by=coordinator,
        goals=[GOAL],
        support_offered="",
        child_views=CHILD_VIEWS,
        parents_views="",
        next_review_on=None,
        actions=[ActionInput(what=SCHOOL_ACTION, owner_user_id=teacher.pk, due_on=in_days(30))],
    )
    membership = TeamMembership.objects.current().get(case=case, user=teacher)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
    before = snapshot(plan)
    page = client_for(coordinator).get(url(task))
    # The row keeps its owner on screen.
    assert shown("%(name)s (no longer on the team)") % {"name": teacher.display_name()} in html(page)
    rows = [row(SCHOOL_ACTION, f"u:{teacher.pk}", in_days(30))]
    response = client_for(coordinator).post(url(task), post_data([GOAL], rows, initial=1, support_offered="nové"))
    assert response.status_code == 200
    errors = response.context["formset"].forms[0].errors
    assert shown("The owner must be a current member of the team.") in errors["owner"]
    assert snapshot(plan) == before


def test_a_forged_decision_id_is_refused(draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User) -> None:
    task, plan = draft
    conference = held_conference(case, coordinator, [teacher])
    decision = conference_decision_add(
        conference=conference, by=coordinator, text=DECISION_SCHOOL, owner_user=teacher, due_on=in_days(14)
    )
    # The decision was never taken over into this draft: a row cannot claim it.
    rows = [row(SCHOOL_ACTION, f"u:{teacher.pk}", in_days(14), decision_id=decision.pk)]
    response = client_for(coordinator).post(url(task), post_data([GOAL], rows))
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors
    assert not PlanAction.objects.filter(plan=plan).exists()


# --- Decisions of a conference ------------------------------------------------------------------------------------


def test_decisions_of_a_held_conference_become_actions_once(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User, doctor: User
) -> None:
    task, plan = draft
    conference = held_conference(case, coordinator, [teacher, doctor])
    school = conference_decision_add(
        conference=conference, by=coordinator, text=DECISION_SCHOOL, owner_user=teacher, due_on=in_days(14)
    )
    health = conference_decision_add(
        conference=conference,
        by=coordinator,
        text=DECISION_DOCTOR,
        owner_organisation=doctor.organisation,
        due_on=in_days(21),
    )
    conference_decision_add(conference=conference, by=coordinator, text=DECISION_NO_ACTION)

    lead = client_for(coordinator)
    page = lead.get(url(task))
    assert 'name="import_conference"' in html(page)
    assert "zasedací místnost" in html(page)
    response = lead.post(url(task), {"conference": str(conference.pk), "import_conference": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == url(task)
    with translation.override("cs"):
        taken = ngettext(
            "%(count)d decision was taken over as an action.", "%(count)d decisions were taken over as actions.", 2
        )
    assert taken % {"count": 2} in html(response)
    actions = list(PlanAction.objects.filter(plan=plan).order_by("position"))
    assert [a.decision_id for a in actions] == [school.pk, health.pk]
    assert [(a.owner_user_id, a.owner_organisation_id, a.due_on) for a in actions] == [
        (teacher.pk, None, in_days(14)),
        (None, doctor.organisation_id, in_days(21)),
    ]
    plan.refresh_from_db()
    assert plan.conference_id == conference.pk
    # The editor now holds them as rows (with where they came from).
    assert DECISION_DOCTOR in html(response)
    assert response.context["formset"].forms[0].initial["decision_id"] == school.pk

    again = lead.post(url(task), {"conference": str(conference.pk), "import_conference": "1"}, follow=True)
    assert again.status_code == 200
    assert PlanAction.objects.filter(plan=plan).count() == 2
    assert shown("No new decision to take over: each was taken over already.") in html(again)

    # Saving the editor keeps the link to the decision (so a later import still skips it).
    rows = [
        row(DECISION_SCHOOL, f"u:{teacher.pk}", in_days(14), decision_id=school.pk),
        row(DECISION_DOCTOR, f"o:{doctor.organisation_id}", in_days(21), decision_id=health.pk),
    ]
    assert lead.post(url(task), post_data([GOAL], rows, initial=2)).status_code == 302
    assert set(PlanAction.objects.filter(plan=plan).values_list("decision_id", flat=True)) == {school.pk, health.pk}
    lead.post(url(task), {"conference": str(conference.pk), "import_conference": "1"})
    assert PlanAction.objects.filter(plan=plan).count() == 2


def test_only_the_task_owner_takes_over_decisions(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User, supervisor: User
) -> None:
    task, plan = draft
    conference = held_conference(case, coordinator, [teacher])
    conference_decision_add(
        conference=conference, by=coordinator, text=DECISION_SCHOOL, owner_user=teacher, due_on=in_days(14)
    )
    for other in (teacher, supervisor):
        response = client_for(other).post(url(task), {"conference": str(conference.pk), "import_conference": "1"})
        assert response.status_code in (403, 404)
    assert not PlanAction.objects.filter(plan=plan).exists()
    assert AuditEvent.objects.filter(actor=supervisor, action="deny").exists()


def test_a_conference_not_yet_held_cannot_be_chosen(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User
) -> None:
    task, plan = draft
    scheduled = conference_schedule(
        case=case,
        by=coordinator,
        starts_at=timezone.now() + datetime.timedelta(days=3),
        duration_minutes=60,
        place="Škola, ředitelna",
        online_link="",
        members=[teacher],
        participants=[],
    )
    page = html(client_for(coordinator).get(url(task)))
    assert "ředitelna" not in page
    assert shown("No conference of this case has been held yet.") in page
    response = client_for(coordinator).post(url(task), {"conference": str(scheduled.pk), "import_conference": "1"})
    assert response.status_code == 200
    assert response.context["import_form"].errors["conference"]
    plan.refresh_from_db()
    assert plan.conference_id is None


# --- Approval -----------------------------------------------------------------------------------------------------


def test_the_supervisor_sees_the_actions_when_approving(
    draft: tuple[Any, Plan], case: Case, coordinator: User, teacher: User, doctor: User, supervisor: User
) -> None:
    task, _plan = draft
    rows = [
        row(SCHOOL_ACTION, f"u:{teacher.pk}", in_days(14), goal="1"),
        row(DOCTOR_ACTION, f"o:{doctor.organisation_id}", in_days(30), success_measure=DOCTOR_MEASURE),
    ]
    data = post_data([GOAL], rows)
    del data["save"]
    data["submit"] = "1"
    assert client_for(coordinator).post(url(task), data).status_code == 302
    task.refresh_from_db()
    assert task.status == STATUS.DONE

    approval = one_task(case, CaseFlow.approve_plan)
    tasks.task_claim(task=approval, user=supervisor)
    page = html(client_for(supervisor).get(f"/inbox/tasks/{approval.pk}/"))
    assert SCHOOL_ACTION in page
    assert DOCTOR_ACTION in page
    assert DOCTOR_MEASURE in page
    assert teacher.display_name() in page
    assert doctor.organisation is not None
    assert doctor.organisation.name in page
    reads = AuditEvent.objects.filter(actor=supervisor, action="read", purpose="approve plan")
    assert any("what" in event.field_names for event in reads)
