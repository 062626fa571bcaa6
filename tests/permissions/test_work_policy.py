"""The decisions on a case's work, enumerated: four eyes on closures and plan versions, who reports on a plan action,
who sees, opens and completes a workflow task (``permissions.policy``).

No database here, as in ``test_case_policy.py``: each predicate decides from a ``Subject`` and plain facts. How the
services and the task pages load those facts is tested with them (``tests/casework``, ``tests/workflows``).
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from permissions.policy import (
    ActionFacts,
    CaseFacts,
    Subject,
    TaskFacts,
    case_access,
    completed_own_task,
    holds_task,
    may_approve_plan,
    may_complete_task,
    may_decide_closure,
    may_open_task_for_work,
    may_provide_input,
    may_report_on_action,
    may_see_conference,
    may_see_task,
    may_withdraw_closure,
    owns_action,
)
from tests.permissions.test_case_policy import (
    COORDINATOR,
    COORDINATOR_ID,
    FOREIGN_SUPERVISOR,
    OLOMOUC,
    OSPOD_COLLEAGUE,
    SAS_WORKER,
    SERVICE,
    SUPERVISOR,
    TEACHER,
    person,
)

SECOND_SUPERVISOR = dataclasses.replace(SUPERVISOR, user_id=9_001)
FORMER_SUPERVISOR = dataclasses.replace(SUPERVISOR, user_id=9_002, active=False)
SAS_COLLEAGUE = dataclasses.replace(SAS_WORKER, user_id=9_003)


def _id(subject: Subject) -> int:
    assert subject.user_id is not None
    return subject.user_id


# --- Four eyes: closing a case, approving a plan version -----------------------------------------------------------

FOUR_EYES = [
    # who,                                  subject,            proposed/drafted by,  may decide
    ("a supervisor who did not propose it", SECOND_SUPERVISOR, _id(COORDINATOR), True),
    ("the supervisor who proposed it", SUPERVISOR, _id(SUPERVISOR), False),
    ("the coordinator", COORDINATOR, _id(SUPERVISOR), False),
    ("an OSPOD colleague", OSPOD_COLLEAGUE, _id(COORDINATOR), False),
    ("another authority's supervisor", FOREIGN_SUPERVISOR, _id(COORDINATOR), False),
    ("a supervisor whose account was closed", FORMER_SUPERVISOR, _id(COORDINATOR), False),
    ("a partner", TEACHER, _id(COORDINATOR), False),
]


@pytest.mark.parametrize(("who", "subject", "author_id", "expected"), FOUR_EYES, ids=[r[0] for r in FOUR_EYES])
def test_four_eyes_on_a_closure(who: str, subject: Subject, author_id: int, expected: bool) -> None:
    assert may_decide_closure(subject, municipality_id=OLOMOUC, proposed_by_id=author_id) is expected


@pytest.mark.parametrize(("who", "subject", "author_id", "expected"), FOUR_EYES, ids=[r[0] for r in FOUR_EYES])
def test_four_eyes_on_a_plan_version(who: str, subject: Subject, author_id: int, expected: bool) -> None:
    assert may_approve_plan(subject, municipality_id=OLOMOUC, drafted_by_id=author_id) is expected


WITHDRAW = [
    # who,                                     subject,          proposed by,          member, case open, may withdraw
    ("the coordinator (the lead)", COORDINATOR, _id(SUPERVISOR), False, True, True),
    ("a supervisor (the lead)", SUPERVISOR, _id(COORDINATOR), False, True, True),
    ("its proposer, an OSPOD colleague on the team", OSPOD_COLLEAGUE, _id(OSPOD_COLLEAGUE), True, True, True),
    ("its proposer, no longer on the team", OSPOD_COLLEAGUE, _id(OSPOD_COLLEAGUE), False, True, False),
    ("an OSPOD colleague who did not propose it", OSPOD_COLLEAGUE, _id(COORDINATOR), True, True, False),
    ("a partner on the team", TEACHER, _id(COORDINATOR), True, True, False),
    ("the coordinator, on a closed case", COORDINATOR, _id(COORDINATOR), False, False, False),
]


@pytest.mark.parametrize(
    ("who", "subject", "proposer_id", "member", "is_open", "expected"), WITHDRAW, ids=[r[0] for r in WITHDRAW]
)
def test_who_withdraws_a_closure_proposal(
    who: str, subject: Subject, proposer_id: int, member: bool, is_open: bool, expected: bool
) -> None:
    facts = CaseFacts(
        case_id=uuid.uuid4(),
        municipality_id=OLOMOUC,
        coordinator_id=COORDINATOR_ID,
        is_open=is_open,
        is_current_member=member,
    )
    assert may_withdraw_closure(case_access(subject, facts), proposed_by_id=proposer_id) is expected


INPUTS = [
    # who, subject, asked, on the team?, case open?, may provide the input
    ("the member asked", TEACHER, TEACHER, True, True, True),
    ("the member asked, off the team now", TEACHER, TEACHER, False, True, False),
    ("the member asked, the case closed", TEACHER, TEACHER, True, False, False),
    ("another member", SAS_WORKER, TEACHER, True, True, False),
    ("the coordinator, for a member", COORDINATOR, TEACHER, False, True, False),
    ("the coordinator, asked themselves", COORDINATOR, COORDINATOR, False, True, True),
]


@pytest.mark.parametrize(
    ("who", "subject", "asked", "member", "is_open", "expected"), INPUTS, ids=[r[0] for r in INPUTS]
)
def test_who_provides_an_assessment_input(
    who: str, subject: Subject, asked: Subject, member: bool, is_open: bool, expected: bool
) -> None:
    facts = CaseFacts(
        case_id=uuid.uuid4(),
        municipality_id=OLOMOUC,
        coordinator_id=COORDINATOR_ID,
        is_open=is_open,
        is_current_member=member,
    )
    assert may_provide_input(case_access(subject, facts), asked_id=asked.user_id) is expected


CONFERENCES = [
    # who, subject, on the team?, invited?, case open?, may see the conference
    ("the coordinator", COORDINATOR, False, False, True, True),
    ("a supervisor", SUPERVISOR, False, False, True, True),
    ("the coordinator, on a closed case", COORDINATOR, False, False, False, True),
    ("an invited member", TEACHER, True, True, True, True),
    ("a member not invited", TEACHER, True, False, True, False),
    ("invited, but off the team now", TEACHER, False, True, True, False),
    ("invited, the case closed", TEACHER, True, True, False, False),
    ("another authority's supervisor", FOREIGN_SUPERVISOR, False, True, True, False),
]


@pytest.mark.parametrize(
    ("who", "subject", "member", "invited", "is_open", "expected"), CONFERENCES, ids=[r[0] for r in CONFERENCES]
)
def test_who_sees_a_case_conference(
    who: str, subject: Subject, member: bool, invited: bool, is_open: bool, expected: bool
) -> None:
    facts = CaseFacts(
        case_id=uuid.uuid4(),
        municipality_id=OLOMOUC,
        coordinator_id=COORDINATOR_ID,
        is_open=is_open,
        is_current_member=member,
    )
    assert may_see_conference(case_access(subject, facts), invited=invited) is expected


# --- Plan actions: their owner reports ----------------------------------------------------------------------------


def action(
    *,
    user: Subject | None = None,
    organisation: int | None = None,
    member: bool = True,
    case_open: bool = True,
    action_open: bool = True,
) -> ActionFacts:
    return ActionFacts(
        case_open=case_open,
        is_current_member=member,
        owner_user_id=user.user_id if user is not None else None,
        owner_organisation_id=organisation,
        action_open=action_open,
    )


ACTIONS = [
    # who, subject, facts; then: owns the action, may report on it
    ("its owner", TEACHER, action(user=TEACHER), True, True),
    ("its owner, the action done", TEACHER, action(user=TEACHER, action_open=False), True, False),
    ("its owner, off the team now", TEACHER, action(user=TEACHER, member=False), False, False),
    ("its owner, the case closed", TEACHER, action(user=TEACHER, case_open=False), False, False),
    ("another member", SAS_WORKER, action(user=TEACHER), False, False),
    ("the coordinator", COORDINATOR, action(user=TEACHER), False, False),
    ("a member of the owning organisation", SAS_COLLEAGUE, action(organisation=SERVICE), True, True),
    ("the owning organisation, off the team", SAS_COLLEAGUE, action(organisation=SERVICE, member=False), False, False),
    ("a member of another organisation", TEACHER, action(organisation=SERVICE), False, False),
    ("a member without an organisation", person("partner", None, None), action(organisation=SERVICE), False, False),
    (
        "an owner whose account was closed",
        dataclasses.replace(TEACHER, active=False),
        action(user=TEACHER),
        False,
        False,
    ),
]


@pytest.mark.parametrize(("who", "subject", "facts", "owns", "reports"), ACTIONS, ids=[r[0] for r in ACTIONS])
def test_who_reports_on_a_plan_action(
    who: str, subject: Subject, facts: ActionFacts, owns: bool, reports: bool
) -> None:
    assert owns_action(subject, facts) is owns
    assert may_report_on_action(subject, facts) is reports


# --- Workflow tasks: see, open for work, complete, come back to one's own finished task -----------------------------

HOLDER = SUPERVISOR
COLLEAGUE = SECOND_SUPERVISOR


def task(*, owner: Subject | None, state: str = "assigned", step_allows: bool = True) -> TaskFacts:
    return TaskFacts(
        owner_id=owner.user_id if owner is not None else None,
        is_open=state in ("new", "assigned"),
        is_done=state == "done",
        step_allows=step_allows,
    )


TASKS = [
    # who, subject, facts; then: may see, may open for work, holds, may complete, completed it themselves
    ("a free queue task, the step allows", COLLEAGUE, task(owner=None, state="new"), True, True, False, False, False),
    ("its holder", HOLDER, task(owner=HOLDER), True, True, True, True, False),
    ("a colleague the step allows", COLLEAGUE, task(owner=HOLDER), True, True, False, False, False),
    (
        "its holder, the step no longer allows",
        HOLDER,
        task(owner=HOLDER, step_allows=False),
        False,
        False,
        True,
        False,
        False,
    ),
    (
        "someone the step does not allow",
        TEACHER,
        task(owner=HOLDER, step_allows=False),
        False,
        False,
        False,
        False,
        False,
    ),
    ("its holder, account closed", FORMER_SUPERVISOR, task(owner=FORMER_SUPERVISOR), False, False, False, False, False),
    ("who completed it", HOLDER, task(owner=HOLDER, state="done"), True, False, True, True, True),
    ("a colleague, once it is done", COLLEAGUE, task(owner=HOLDER, state="done"), True, False, False, False, False),
    (
        "who held it, once it was cancelled",
        HOLDER,
        task(owner=HOLDER, state="cancelled"),
        True,
        False,
        True,
        True,
        False,
    ),
]


@pytest.mark.parametrize(
    ("who", "subject", "facts", "see", "work", "holds", "complete", "own_done"), TASKS, ids=[r[0] for r in TASKS]
)
def test_who_may_do_what_with_a_task(
    who: str,
    subject: Subject,
    facts: TaskFacts,
    see: bool,
    work: bool,
    holds: bool,
    complete: bool,
    own_done: bool,
) -> None:
    assert may_see_task(subject, facts) is see
    assert may_open_task_for_work(subject, facts) is work
    assert holds_task(subject, owner_id=facts.owner_id) is holds
    assert may_complete_task(subject, facts) is complete
    assert completed_own_task(subject, facts) is own_done
