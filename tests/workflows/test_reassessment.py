"""A review re-assesses before the next plan (DOMAIN.md, step 9; docs/adr/0015-review-reassessment-and-kept-apart.md):
the review opens ``request_inputs`` again (whom to ask is the coordinator's choice, possibly nobody), the inputs of
that round only reach the re-assessment, and the re-assessment adds a version — revised, or "no change" with its
reason — before the next draft of the plan. Older versions are never touched.

Every name and text is fictional.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext

from casework.models import Assessment, AssessmentInput, AssessmentOutcome, Case, PlanStatus, User
from casework.services import plans as plan_services
from casework.services.assessments import assessment_reassess, in_force_assessment
from permissions import gate
from permissions.models import AuditEvent
from workflows import tasks
from workflows.flows import CaseFlow
from workflows.models import Deadline, DeadlineKind

from . import test_case_flow as flow_tests
from .conftest import client_for, field_errors, html
from .test_case_flow import flow_tasks, one_task, provide, request
from .test_plan_stage import decide, submit, to_plan_stage

case = flow_tests.case
doctor = flow_tests.doctor

SECOND_INPUT = "Docházka se zlepšila, pozdní příchody ustaly; zkušební vstup 9917."
REASON = "Rodina plní plán, nic nového nenastalo; zkušební důvod 9918."


def to_review(case: Case, coordinator: User, teacher: User, supervisor: User) -> Any:
    """The first assessment (with the teacher's input), the first plan approved; the review task open."""
    submit(case, coordinator, to_plan_stage(case, coordinator, teacher))
    decide(case, supervisor)
    return one_task(case, CaseFlow.review)


def start_review(case: Case, coordinator: User, review: Any) -> None:
    tasks.task_complete(task=review, user=coordinator, work=lambda: None, purpose="review plan")


def test_the_review_asks_for_inputs_and_a_revised_version_before_the_next_draft(
    case: Case, coordinator: User, teacher: User, supervisor: User
) -> None:
    start_review(case, coordinator, to_review(case, coordinator, teacher, supervisor))
    first = Assessment.objects.get(case=case)
    first_row = Assessment.objects.values().get(pk=first.pk)

    # Not the draft yet: the re-assessment's first step, with the first round's input tied to version 1.
    assert plan_services.plan_in_work(case) is None
    assert flow_tasks(case, CaseFlow.draft_plan, open_only=True) == []
    assert one_task(case, CaseFlow.request_inputs).owner_id == coordinator.pk
    assert list(AssessmentInput.objects.filter(case=case).values_list("assessment_id", flat=True)) == [first.pk]

    request(case, coordinator, [teacher])
    provide(case, teacher, SECOND_INPUT)
    reassess = one_task(case, CaseFlow.reassess)
    assert flow_tasks(case, CaseFlow.write_assessment, open_only=True) == []
    assert Deadline.objects.get(task=reassess).kind == DeadlineKind.ASSESSMENT

    # The page shows this round's input only, and the version in force, through the gate.
    page = html(client_for(coordinator).get(f"/inbox/tasks/{reassess.pk}/"))
    assert SECOND_INPUT in page
    assert flow_tests.TEACHER_INPUT not in page
    assert "vstup školy" not in page
    assert "potřeby" in page  # the first version's "child's needs"

    tasks.task_complete(
        task=reassess,
        user=coordinator,
        work=lambda: assessment_reassess(
            case=case,
            by=coordinator,
            unchanged=False,
            child_needs="nové potřeby",
            parenting_capacity="schopnosti",
            family_environment="prostředí",
            child_views="přání dítěte",
        ),
        purpose="re-assess",
    )
    second = Assessment.objects.get(case=case, version=2)
    assert (second.outcome, second.previous_id, second.author_id) == (
        AssessmentOutcome.REVISED,
        first.pk,
        coordinator.pk,
    )
    assert Assessment.objects.values().get(pk=first.pk) == first_row  # the old version kept as it was
    assert in_force_assessment(case) == second
    latest_input = AssessmentInput.objects.filter(case=case).latest("requested_at")
    assert latest_input.assessment_id == second.pk
    assert gate.read_case(coordinator, case, [second], ["child_needs"], purpose="test")[0].get("child_needs") == (
        "nové potřeby"
    )
    assert AuditEvent.objects.filter(object_id=str(second.pk), purpose="re-assess").exists()

    # Only now the next version of the plan, from the current one.
    draft = plan_services.plan_in_work(case)
    assert draft is not None
    assert draft.version == 2
    assert draft.status == PlanStatus.DRAFT
    assert one_task(case, CaseFlow.draft_plan).owner_id == coordinator.pk


def test_no_change_is_a_reasoned_outcome(case: Case, coordinator: User, teacher: User, supervisor: User) -> None:
    start_review(case, coordinator, to_review(case, coordinator, teacher, supervisor))
    request(case, coordinator, [])  # nobody asked: straight to the re-assessment
    reassess = one_task(case, CaseFlow.reassess)

    with pytest.raises(ValidationError) as no_reason:
        tasks.task_complete(
            task=reassess,
            user=coordinator,
            work=lambda: assessment_reassess(case=case, by=coordinator, unchanged=True, unchanged_reason="  "),
            purpose="re-assess",
        )
    assert set(no_reason.value.message_dict) == {"unchanged_reason"}
    with pytest.raises(ValidationError) as with_texts:
        assessment_reassess(
            case=case, by=coordinator, unchanged=True, unchanged_reason=REASON, child_needs="něco nového"
        )
    assert set(with_texts.value.message_dict) == {"child_needs"}
    assert Assessment.objects.filter(case=case).count() == 1
    assert one_task(case, CaseFlow.reassess).pk == reassess.pk  # still open, nothing moved on
    assert plan_services.plan_in_work(case) is None

    tasks.task_complete(
        task=reassess,
        user=coordinator,
        work=lambda: assessment_reassess(case=case, by=coordinator, unchanged=True, unchanged_reason=REASON),
        purpose="re-assess",
    )
    second = Assessment.objects.get(case=case, version=2)
    assert second.outcome == AssessmentOutcome.UNCHANGED
    assert second.child_needs is None
    assert (
        gate.read_case(coordinator, case, [second], ["unchanged_reason"], purpose="test")[0].get("unchanged_reason")
        == REASON
    )
    assert in_force_assessment(case) == Assessment.objects.get(case=case, version=1)
    assert plan_services.plan_in_work(case) is not None


def test_the_reassessment_page_requires_the_reason_for_no_change(
    case: Case, coordinator: User, teacher: User, supervisor: User
) -> None:
    start_review(case, coordinator, to_review(case, coordinator, teacher, supervisor))
    lead = client_for(coordinator)
    ask = one_task(case, CaseFlow.request_inputs)
    # The re-assessment may ask nobody (the first assessment may not: test_case_flow).
    assert lead.post(f"/inbox/tasks/{ask.pk}/", {}).status_code == 302
    reassess = one_task(case, CaseFlow.reassess)

    refused = lead.post(f"/inbox/tasks/{reassess.pk}/", {"outcome": "unchanged", "unchanged_reason": ""})
    assert refused.status_code == 200
    with translation.override("cs"):
        required = gettext("This field is required.")
    assert required in field_errors(html(refused))
    assert Assessment.objects.filter(case=case).count() == 1

    revised_empty = lead.post(f"/inbox/tasks/{reassess.pk}/", {"outcome": "changed"})
    assert field_errors(html(revised_empty)).count(required) == 4

    done = lead.post(f"/inbox/tasks/{reassess.pk}/", {"outcome": "unchanged", "unchanged_reason": REASON})
    assert done.status_code == 302
    assert Assessment.objects.get(case=case, version=2).outcome == AssessmentOutcome.UNCHANGED
    assert one_task(case, CaseFlow.draft_plan).owner_id == coordinator.pk


def test_the_first_assessment_is_not_a_reassessment(case: Case, coordinator: User, teacher: User) -> None:
    ask = one_task(case, CaseFlow.request_inputs)
    refused = client_for(coordinator).post(f"/inbox/tasks/{ask.pk}/", {})
    with translation.override("cs"):
        assert gettext("Choose at least one team member.") in html(refused)
    assert one_task(case, CaseFlow.request_inputs).pk == ask.pk
    with pytest.raises(ValidationError):
        assessment_reassess(case=case, by=coordinator, unchanged=True, unchanged_reason=REASON)


def test_the_database_keeps_versions_apart(case: Case, coordinator: User, teacher: User) -> None:
    to_plan_stage(case, coordinator, teacher)
    first = Assessment.objects.get(case=case)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(case=case, author=coordinator, version=1, outcome=AssessmentOutcome.FIRST)
    with pytest.raises(IntegrityError), transaction.atomic():
        # "No change" without its reason.
        Assessment.objects.create(
            case=case, author=coordinator, version=2, outcome=AssessmentOutcome.UNCHANGED, previous=first
        )
