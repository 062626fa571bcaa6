"""The case's process page (/cases/<id>/process/): the case flow's steps, the finished tasks and the chart, for the
case's leads only (docs/adr/0007-case-flow-assessment.md). The access matrix covers every role and situation; these
tests cover what the page shows.

Every name and text is fictional.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from casework.models import Case, CloseReason, HandoverReason, Organisation, User
from casework.services import case_close, coordinator_handover
from casework.services.assessments import InputRequest, assessment_input_provide, assessment_inputs_request
from permissions.models import AuditEvent
from tests.factories.cases import add_member, open_case, ospod_staff
from workflows import tasks
from workflows.flows import CaseFlow

from .conftest import client_for, html

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    opened = open_case(coordinator=coordinator)
    add_member(opened, teacher, coordinator)
    return opened


def url(case: Case) -> str:
    return reverse("case_process", kwargs={"case_id": case.pk})


def steps(page: str) -> list[tuple[str, str]]:
    """(step class, text) of each step, in order."""
    found = re.findall(r'<li class="step step--(\w+)"[^>]*>(.*?)</li>', page, re.S)
    return [(state, re.sub(r"<[^>]+>", "", text).split()[0]) for state, text in found]


def states(page: str) -> list[str]:
    return [state for state, _ in steps(page)]


def history(page: str) -> list[list[str]]:
    body = re.search(r'aria-labelledby="history-heading">(.*?)</section>', page, re.S)
    assert body is not None
    rows = re.findall(r"<tr><td>(.*?)</tr>", body.group(1), re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.split(r"</td><td>", row)] for row in rows]


def request_inputs(case: Case, coordinator: User, members: list[User]) -> None:
    open_task = Task.objects.get(
        process__caseprocess__case=case, flow_task=CaseFlow.request_inputs, status__in=tasks.OPEN_STATUSES
    )
    due = timezone.localdate() + datetime.timedelta(days=14)
    tasks.task_complete(
        task=open_task,
        user=coordinator,
        work=lambda: assessment_inputs_request(
            case=case, by=coordinator, requests=[InputRequest(member=m, due_on=due) for m in members]
        ),
        purpose="request assessment inputs",
    )


def provide(case: Case, member: User) -> None:
    task = Task.objects.get(
        process__caseprocess__case=case,
        flow_task=CaseFlow.provide_input,
        owner=member,
        status__in=tasks.OPEN_STATUSES,
    )
    tasks.task_complete(
        task=task,
        user=member,
        work=lambda: assessment_input_provide(assessment_input=CaseFlow.input_of(task), by=member, text="vstup 1234"),
        purpose="provide assessment input",
    )


def test_a_fresh_case_waits_for_the_coordinators_request(case: Case, coordinator: User) -> None:
    page = html(client_for(coordinator).get(url(case)))
    assert states(page) == ["done", "current", *["waiting"] * 7]
    assert "aria-current" in page
    rows = history(page)
    assert len(rows) == 1  # the opening
    assert rows[0][0] in ("Case opened", "Případ otevřen")
    assert "<svg" in page  # viewflow's chart, drawn inside this page


def test_the_steps_and_history_follow_the_flow(case: Case, coordinator: User, teacher: User, supervisor: User) -> None:
    request_inputs(case, coordinator, [teacher])
    page = html(client_for(supervisor).get(url(case)))
    assert states(page) == ["done", "done", "current", *["waiting"] * 6]
    provide(case, teacher)
    page = html(client_for(supervisor).get(url(case)))
    assert states(page) == ["done", "done", "done", "current", *["waiting"] * 5]
    rows = history(page)
    assert len(rows) == 3
    whos = [row[1] for row in rows]
    assert whos[1] == coordinator.display_name()
    assert whos[2] == teacher.display_name()
    assert all(row[2] for row in rows)
    # The steps and history hold step names, people and dates, never what anyone wrote; the assessment block beside
    # them reads the inputs through the gate (the supervisor leads the case).
    steps_and_history = page[page.index('id="steps-heading"') :]
    assert "vstup 1234" not in steps_and_history
    assessment = page[page.index('id="assessment-heading"') : page.index('id="steps-heading"')]
    assert "vstup 1234" in assessment
    assert teacher.display_name() in assessment


def test_a_closed_case_shows_the_cancelled_process(case: Case, coordinator: User) -> None:
    case_close(case=case, closed_by=coordinator, reason=CloseReason.NOT_AT_RISK)
    response = client_for(coordinator).get(url(case))
    assert response.status_code == 200
    page = html(response)
    assert states(page) == ["done", *["cancelled"] * 8]
    assert len(history(page)) == 2  # the opening and the cancelled request


def test_a_member_is_refused_and_audited(case: Case, teacher: User) -> None:
    assert client_for(teacher).get(url(case)).status_code == 403
    assert AuditEvent.objects.filter(actor=teacher, purpose="case process").exists()


def test_after_a_handover_the_new_coordinator_sees_it_and_the_old_one_does_not(
    case: Case, coordinator: User, supervisor: User, ospod: Organisation
) -> None:
    successor = ospod_staff(ospod)
    coordinator_handover(case=case, to=successor, by=supervisor, reason=HandoverReason.WORKLOAD)
    assert client_for(successor).get(url(case)).status_code == 200
    assert client_for(coordinator).get(url(case)).status_code == 404


def test_the_case_page_links_it_for_leads_only(case: Case, coordinator: User, teacher: User) -> None:
    detail = reverse("case_detail", kwargs={"case_id": case.pk})
    assert url(case) in html(client_for(coordinator).get(detail))
    assert url(case) not in html(client_for(teacher).get(detail))
    case_close(case=case, closed_by=coordinator, reason=CloseReason.NOT_AT_RISK)
    assert url(case) in html(client_for(coordinator).get(detail))


def test_post_is_not_allowed(case: Case, coordinator: User) -> None:
    assert client_for(coordinator).post(url(case), {}).status_code == 405


def test_after_an_approval_the_page_shows_the_review_as_current(
    case: Case, coordinator: User, teacher: User, supervisor: User
) -> None:
    from .test_plan_stage import decide, submit, to_plan_stage

    submit(case, coordinator, to_plan_stage(case, coordinator, teacher))
    page = html(client_for(supervisor).get(url(case)))
    # start, request, inputs, assessment, re-assessment (after a review only), draft, approval (current), review, end
    assert states(page) == ["done", "done", "done", "done", "waiting", "done", "current", "waiting", "waiting"]
    decide(case, supervisor)
    page = html(client_for(supervisor).get(url(case)))
    assert states(page) == ["done", "done", "done", "done", "waiting", "done", "done", "current", "waiting"]
    # "Now:" names the review (before, the page stopped at the draft and said "Now: —" here).
    assert re.search(r"(Now:|Nyní:) <strong>(Review the plan|Přehodnotit plán)</strong>", page)
    labels = [row[0] for row in history(page)]
    # start, request, input, assessment, draft, approval
    assert len(labels) == 6
    assert labels[-1] in ("Approve the protection plan", "Schválit plán ochrany dítěte")


def test_the_flow_chart_style_carries_the_pages_csp_nonce(case: Case, coordinator: User) -> None:
    """The chart's inline <style> passes the Content-Security-Policy by its nonce; no style attribute is left."""
    response = client_for(coordinator).get(url(case))
    style_src = next(p for p in response["Content-Security-Policy"].split(";") if p.strip().startswith("style-src"))
    nonce = re.search(r"'nonce-([^']+)'", style_src)
    assert nonce is not None
    page = html(response)
    assert f'<style nonce="{nonce.group(1)}"' in page
    assert ' style="' not in page


def test_a_returned_plan_shows_the_draft_current_and_the_approval_waiting(
    case: Case, coordinator: User, teacher: User, supervisor: User
) -> None:
    """Issue 17: the flow loops back to the draft; the approval done in the earlier round is not done again yet, so
    it waits (it showed as done, and the page seemed to skip it)."""
    from .test_plan_stage import decide, submit, to_plan_stage

    submit(case, coordinator, to_plan_stage(case, coordinator, teacher))
    decide(case, supervisor, approve=False)
    page = html(client_for(supervisor).get(url(case)))
    # start, request, inputs, assessment, re-assessment, draft (current again), approval, review, end
    # the re-assessment (after a review) has not happened in this round: it waits too
    assert states(page) == ["done", "done", "done", "done", "waiting", "current", "waiting", "waiting", "waiting"]
    assert re.search(r"(Now:|Nyní:) <strong>(Draft the protection plan|Připravit individuální plán)", page)


def test_the_chart_labels_are_in_sentence_case_and_the_pages_language(case: Case, coordinator: User) -> None:
    client = client_for(coordinator)
    client.cookies.load({"django_language": "cs"})
    page = html(client.get(url(case), HTTP_ACCEPT_LANGUAGE="cs"))
    chart = page.split("<svg", 1)[1]
    texts = [t.strip() for t in re.findall(r">([^<>]+)</text>", chart) if t.strip()]
    assert "yes" not in texts
    assert "no" not in texts
    assert {"ano", "ne"} <= set(texts)
    # Each node's first line as written: "Schválit plán ochrany dítěte", never "Schválit Plán".
    for text in texts:
        words = text.split()
        assert not any(word[0].isupper() for word in words[1:] if word not in {"(IPOD)", "IPOD"}), text
