"""What one case costs from the report to the approved plan, step by step as the pages drive it (``bench.steps``;
issue 20: 455 statements before the lean steps, 328 after ADR 0024, 250 after ADR 0026, 231 after its third pass;
goal ≤ 250). Pinned
exactly, so a step that grows fails here first; when a change makes a step cheaper, lower the pin. Fictional data
only."""

from __future__ import annotations

import pytest
from django.db import connection

from bench.steps import CORE_STEPS, STEPS, make_cast, measure_audit_lock_hold, measure_case_statements

#: Statements of each step, on both databases (Django's count: BEGIN and COMMIT are not statements it sends).
STATEMENTS_BY_STEP = {
    "file_report": 18,
    "take_triage": 9,
    "triage": 42,
    "add_member": 13,
    "request_inputs": 23,
    "provide_input": 33,
    "write_assessment": 23,
    "save_plan": 13,
    "submit_plan": 21,
    "take_approval": 10,
    "approve_plan": 26,
}


@pytest.mark.django_db(transaction=True)
def test_one_case_from_report_to_approved_plan_takes_a_pinned_number_of_statements() -> None:
    measured = measure_case_statements(make_cast("pin"))

    assert measured["case_statements_by_step"] == STATEMENTS_BY_STEP
    assert measured["case_statements"] == sum(STATEMENTS_BY_STEP.values())
    assert measured["case_statements"] <= 250  # issue 20's goal
    # No savepoint inside a step: viewflow's node savepoints buy nothing there (docs/adr/0026-…).
    assert measured["case_savepoint_statements"] == 0
    assert measured["core_step_statements"] == sum(STATEMENTS_BY_STEP[name] for name in CORE_STEPS)
    # Issue 20's core-steps goal: ≤ 2.0 times bare viewflow's 74 statements for the same steps (bench.baselines.BareFlow
    # with one input), i.e. ≤ 148 (docs/adr/0026-lean-steps-second-pass.md, third pass).
    assert measured["core_step_statements"] <= 148
    assert measured["database"] == connection.vendor


@pytest.mark.django_db(transaction=True)
def test_the_audit_head_is_held_once_per_audited_step_and_only_at_its_end() -> None:
    measured = measure_audit_lock_hold(cases=1, cast=make_cast("hold"))

    # Nine of the eleven steps write audit rows; each appends them once (taking a task from a queue records none).
    assert measured["audit_head_holds_per_case"] == 9
    assert set(measured["audit_lock_hold_share_by_step"]) == set(STEPS)
    assert measured["audit_lock_hold_share_by_step"]["take_triage"] == 0
    assert 0 < measured["audit_lock_hold_share"] < 1
