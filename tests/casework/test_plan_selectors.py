"""The plan's read model (``casework.selectors.plans.plan_disclosed``): what each role gets of a version, the same for
every page that shows a plan, in a fixed number of queries whatever the size of the plan. Fictional data only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from casework.models import Case, Plan, PlanStatus, User
from casework.selectors.plans import plan_disclosed
from permissions.access import AccessedCase, access_case_by_id
from permissions.models import AuditEvent

from .test_plan_views import (
    DOCTOR_ACTION,
    GOAL_SCHOOL,
    LOOSE_ACTION,
    NEW_REPORT,
    SCHOOL_ORG_ACTION,
    TEACHER_ACTION,
    _grow,
    case,
    doctor,
    make_plan,
    plan,
)

pytestmark = pytest.mark.django_db

__all__ = ["case", "doctor", "plan"]  # fixtures shared with the page tests

#: The read model's own statements (the board, a version and the PDF call it so), whatever the number of actions
#: and reports. The lead: goals, actions (with report counts), the latest reports, and four gate reads (the plan's
#: texts, the goals, the actions, the latest reports), each one committed audit batch plus a key load.
#: A team member: the viewer's standing is already decided by ``access_case_by_id``; no report texts, so three gate
#: reads.
PLAN_QUERIES_LEAD = 27
PLAN_QUERIES_MEMBER = 19
#: The workflow pages (draft, approval, review): the case comes from the task, so the viewer's standing is decided here
#: once (nothing for the lead) and kept for the gate's reads; no reports are read.
PLAN_QUERIES_EDITOR = 20


def _case_for(user: User, case: Case) -> AccessedCase:
    return access_case_by_id(user, case.pk, purpose="case plan")


@pytest.mark.parametrize("size", [2, 6])
def test_plan_disclosed_runs_a_fixed_number_of_queries(
    size: int,
    case: Case,
    coordinator: User,
    supervisor: User,
    teacher: User,
    doctor: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    shown = make_plan(case, drafted_by=coordinator, approved_by=supervisor)
    _grow(shown, teacher, doctor, size)
    shown = Plan.objects.select_related("drafted_by", "approved_by").get(pk=shown.pk)
    for user, expected in ((coordinator, PLAN_QUERIES_LEAD), (teacher, PLAN_QUERIES_MEMBER)):
        loaded = _case_for(user, case)
        with django_assert_num_queries(expected):
            view = plan_disclosed(user=user, case=loaded, plan=shown, purpose="case plan")
        assert len(view.all_actions) == (size if user == coordinator else size // 2)
    fresh = Case.objects.get(pk=case.pk)
    with django_assert_num_queries(PLAN_QUERIES_EDITOR):
        view = plan_disclosed(
            user=coordinator, case=fresh, plan=shown, purpose="draft plan", latest_reports=False, return_comment=True
        )
    assert len(view.actions) == size


def test_a_member_gets_every_action_row_but_reads_only_their_own(case: Case, plan: Plan, teacher: User) -> None:
    """The workflow pages list every action (hidden texts marked); the board's goal groups hold the readable ones."""
    view = plan_disclosed(user=teacher, case=_case_for(teacher, case), plan=plan, purpose="case plan")
    by_text = {row.what: row for row in view.actions}
    assert set(by_text) == {TEACHER_ACTION, SCHOOL_ORG_ACTION, None}
    assert [row.what_withheld for row in view.actions].count(True) == 2
    assert {a.what for a in view.all_actions} == {TEACHER_ACTION, SCHOOL_ORG_ACTION}
    assert view.hidden_actions == 2
    assert view.goal_texts[0] == GOAL_SCHOOL
    assert by_text[TEACHER_ACTION].goal_number == 1
    assert by_text[TEACHER_ACTION].last_report is None  # a member's view carries no report text
    assert DOCTOR_ACTION not in repr(view)
    assert LOOSE_ACTION not in repr(view)


def test_the_lead_reads_the_latest_report_only_when_asked(case: Case, plan: Plan, coordinator: User) -> None:
    board = plan_disclosed(user=coordinator, case=_case_for(coordinator, case), plan=plan, purpose="case plan")
    assert NEW_REPORT in {a.last_report for a in board.all_actions}
    before = AuditEvent.objects.filter(object_type="casework.actionreport").count()
    editor = plan_disclosed(
        user=coordinator, case=Case.objects.get(pk=case.pk), plan=plan, purpose="review plan", latest_reports=False
    )
    assert all(a.last_report is None for a in editor.actions)
    assert AuditEvent.objects.filter(object_type="casework.actionreport").count() == before
    assert "return_comment" not in editor.values
    assert "return_comment" not in editor.withheld


def test_the_return_comment_is_read_for_the_editor(case: Case, coordinator: User, supervisor: User) -> None:
    draft = make_plan(
        case,
        drafted_by=coordinator,
        status=PlanStatus.DRAFT,
        texts={"support_offered": "x", "return_comment": "Doplňte názor dítěte PLANRETURN"},
    )
    view = plan_disclosed(
        user=coordinator, case=case, plan=draft, purpose="draft plan", latest_reports=False, return_comment=True
    )
    assert view.values["return_comment"] == "Doplňte názor dítěte PLANRETURN"
    assert view.status == PlanStatus.DRAFT
