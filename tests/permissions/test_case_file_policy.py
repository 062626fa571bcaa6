"""Who sees which part of the case file beyond the gate's per-field answers (``permissions.policy``): the open tasks,
the reports, the timeline's events. No database: the policy decides from a ``Subject`` and ``CaseFacts``."""

from __future__ import annotations

import dataclasses

import pytest

from permissions.policy import (
    CaseAccess,
    CaseFacts,
    case_access,
    may_see_case_event,
    may_see_case_reports,
    sees_all_case_tasks,
)

from .test_case_policy import CASE_ID, COORDINATOR, COORDINATOR_ID, OLOMOUC, OSPOD_COLLEAGUE, SUPERVISOR, TEACHER

FACTS = CaseFacts(case_id=CASE_ID, municipality_id=OLOMOUC, coordinator_id=COORDINATOR_ID, is_open=True)


def _access(subject: object, *, member: bool = False) -> CaseAccess:
    return case_access(subject, dataclasses.replace(FACTS, is_current_member=member))  # type: ignore[arg-type]


@pytest.mark.parametrize("lead", [COORDINATOR, SUPERVISOR])
def test_the_lead_sees_every_task_every_report_and_every_event(lead: object) -> None:
    access = _access(lead)
    assert sees_all_case_tasks(access)
    assert may_see_case_reports(access)
    assert may_see_case_event(access, actor_id=None, team_wide=False)


@pytest.mark.parametrize("member", [TEACHER, OSPOD_COLLEAGUE])
def test_a_team_member_sees_her_tasks_no_report_and_the_team_events_and_her_own(member: object) -> None:
    access = _access(member, member=True)
    assert not sees_all_case_tasks(access)
    assert not may_see_case_reports(access)
    assert may_see_case_event(access, actor_id=None, team_wide=True)
    assert may_see_case_event(access, actor_id=access.subject.user_id, team_wide=False)
    assert not may_see_case_event(access, actor_id=COORDINATOR_ID, team_wide=False)


def test_someone_off_the_team_sees_no_event() -> None:
    access = _access(TEACHER, member=False)
    assert not access.visible
    assert not may_see_case_event(access, actor_id=None, team_wide=True)
    assert not may_see_case_reports(access)
