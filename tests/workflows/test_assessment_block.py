"""The assessment the plan rests on, where the plan is made and approved: the draft page, the approval page (the
supervisor approves an IPOD seeing the assessment and the team's inputs) — the same read model and partial as the
case file (``casework.selectors.assessments``). Fictional data only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import Case, User
from permissions.models import AuditEvent
from workflows import tasks
from workflows.flows import CaseFlow

from .conftest import client_for, html
from .test_case_flow import one_task
from .test_plan_stage import case, doctor, submit, to_plan_stage

pytestmark = pytest.mark.django_db

__all__ = ["case", "doctor"]


def test_the_draft_page_shows_the_assessment_and_the_inputs(case: Case, coordinator: User, teacher: User) -> None:
    task = to_plan_stage(case, coordinator, teacher)
    page = html(client_for(coordinator).get(f"/inbox/tasks/{task.pk}/"))
    block = page[page.index('id="assessment-heading"') :]
    for text in ("potřeby", "schopnosti", "prostředí", "přání", "vstup školy", teacher.display_name()):
        assert text in block


def test_the_supervisor_sees_the_assessment_when_approving(
    case: Case, coordinator: User, teacher: User, supervisor: User
) -> None:
    submit(case, coordinator, to_plan_stage(case, coordinator, teacher))
    task = one_task(case, CaseFlow.approve_plan)
    tasks.task_claim(task=task, user=supervisor)
    response = client_for(supervisor).get(f"/inbox/tasks/{task.pk}/")
    assert response.status_code == 200
    page = html(response)
    block = page[page.index('id="assessment-heading"') :]
    for text in ("potřeby", "přání", "vstup školy"):
        assert text in block
    read = AuditEvent.objects.filter(actor=supervisor, action="read", purpose="approve plan")
    assert {"casework.assessment", "casework.assessmentinput"} <= set(read.values_list("object_type", flat=True))


def test_the_teacher_reads_her_own_input_on_the_case_page(case: Case, coordinator: User, teacher: User) -> None:
    to_plan_stage(case, coordinator, teacher)
    page = html(client_for(teacher).get(reverse("case_detail", kwargs={"case_id": case.pk})))
    block = page[page.index('id="assessment-heading"') : page.index('id="conferences-heading"')]
    assert "vstup školy" in block
    # The assessment itself is in the social and child's-voice compartments: hidden from her, and said so.
    for hidden in ("potřeby", "schopnosti", "prostředí", "přání"):
        assert hidden not in page
    assert 'class="withheld"' in block
