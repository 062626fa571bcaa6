"""The flow graph is the single source of its pages: every human node of every flow has a label, a page that imports,
an inbox type, and a route — the task URL reaches ``task_detail`` and the router hands the task to the declared page.
A node added without them is caught (``workflows.graph.problems``, also run by ``manage.py check``).
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.checks import Error
from django.http import HttpRequest, HttpResponse
from django.urls import resolve, reverse
from django.utils.module_loading import import_string
from viewflow import this
from viewflow.workflow import nodes
from viewflow.workflow.base import Flow
from viewflow.workflow.status import STATUS

from casework.models import User
from workflows import graph, views
from workflows import tasks as task_transitions
from workflows.checks import flow_nodes_check
from workflows.flows import FLOWS, ActionFlow, CaseFlow, ClosureFlow, ReportFlow
from workflows.nodes import PolicyView, human_nodes

from .conftest import client_for

EVERY_HUMAN_NODE = [
    pytest.param(node, id=f"{flow.__name__}.{node.name}") for flow in FLOWS for node in human_nodes(flow)
]


def test_every_flow_is_complete() -> None:
    assert graph.problems() == []
    assert flow_nodes_check(None) == []


def test_the_human_nodes_are_those_of_the_graph() -> None:
    assert [node.name for node in human_nodes(ReportFlow)] == ["triage", "send_feedback"]
    assert [node.name for node in human_nodes(CaseFlow)] == [
        "request_inputs",
        "provide_input",
        "write_assessment",
        "reassess",
        "draft_plan",
        "approve_plan",
        "review",
    ]
    assert [node.name for node in human_nodes(ClosureFlow)] == ["approve_closure"]
    assert [node.name for node in human_nodes(ActionFlow)] == ["do_action"]
    # The inbox filter keeps its URL slugs, in the flows' order.
    assert list(graph.task_types()) == [
        "triage",
        "feedback",
        "request_inputs",
        "input",
        "assessment",
        "reassessment",
        "plan",
        "plan_approval",
        "review",
        "closure_approval",
        "action",
    ]
    assert graph.queue_task_types() == {"triage", "plan_approval", "closure_approval", "action"}


def test_the_process_page_shows_every_human_step_of_the_case_flow() -> None:
    shown = [step.node.name for step in graph.process_steps(CaseFlow)]
    assert shown == [
        "start",
        "request_inputs",
        "provide_input",
        "write_assessment",
        "reassess",
        "draft_plan",
        "approve_plan",
        "review",
        "end",
    ]
    inputs = next(step for step in graph.process_steps(CaseFlow) if step.node is CaseFlow.provide_input)
    assert inputs.done_by is CaseFlow.join_inputs


@pytest.mark.parametrize("node", EVERY_HUMAN_NODE)
def test_each_human_node_has_a_label_and_a_page(node: PolicyView) -> None:
    assert str(node.label).strip()
    assert node.task_title is node.label  # the inbox, the page, the steps and the chart say the same
    assert callable(import_string(node.page))
    assert graph.task_page(node) is import_string(node.page)
    assert graph.task_types()[node.inbox_type] is node


@pytest.mark.django_db
@pytest.mark.parametrize("node", EVERY_HUMAN_NODE)
def test_each_human_node_is_routed_to_its_page(
    node: PolicyView, coordinator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = reverse("task_detail", kwargs={"task_id": 4242})
    assert resolve(url).func is views.task_detail
    task = SimpleNamespace(pk=4242, flow_task=node, status=STATUS.ASSIGNED, owner_id=coordinator.pk)
    monkeypatch.setattr(task_transitions, "access_task_by_id", lambda *args, **kwargs: task)
    seen: list[Any] = []

    def page(request: HttpRequest, user: User, routed: Any) -> HttpResponse:
        seen.append((user.pk, routed))
        return HttpResponse("the declared page")

    module, name = node.page.rsplit(".", 1)
    monkeypatch.setattr(importlib.import_module(module), name, page)
    response = client_for(coordinator).get(url)
    assert response.content == b"the declared page"
    assert seen == [(coordinator.pk, task)]


class Unfinished(Flow):
    """A flow someone is still writing: its human nodes miss what the application needs."""

    start = nodes.StartHandle(this.begin).Next(this.unlabelled)
    unlabelled = PolicyView(
        may_work=this.anyone, label="", page="workflows.views.nowhere.page", inbox_type="triage"
    ).Next(this.plain)
    plain = nodes.View(lambda request: None).Next(this.end)
    end = nodes.End()

    def begin(self, activation: Any) -> Any:
        return activation.process

    def anyone(self, user: User, task: Any) -> bool:
        return True


def test_a_node_without_a_page_or_a_label_is_caught() -> None:
    found = graph.problems((*FLOWS, Unfinished))
    assert "Unfinished.unlabelled: no label" in found
    assert any(problem.startswith("Unfinished.unlabelled: page workflows.views.nowhere.page") for problem in found)
    assert "Unfinished.plain: a human task must be a PolicyView (page, label, inbox type, deadline)" in found
    assert "inbox type 'triage' is used by 2 nodes" in found
    errors = flow_nodes_check(None, flows=(Unfinished,))
    assert errors
    assert all(isinstance(error, Error) for error in errors)


def test_a_policy_view_cannot_be_declared_without_a_page_or_a_label() -> None:
    with pytest.raises(TypeError):
        PolicyView(may_work=this.anyone, label="Something")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        PolicyView(may_work=this.anyone, page="workflows.views.tasks.triage", inbox_type="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        PolicyView(
            may_work=this.anyone, label="Something", page="workflows.views.tasks.triage", inbox_type="x"
        ).onCreate(this.anything)


def test_a_deadline_without_its_due_date_is_caught() -> None:
    class Undated(Flow):
        start = nodes.StartHandle(this.begin).Next(this.work)
        work = PolicyView(
            may_work=this.anyone,
            label="Work",
            page="workflows.views.tasks.triage",
            inbox_type="undated",
            deadline="triage",
        ).Next(this.end)
        end = nodes.End()

        def begin(self, activation: Any) -> Any:
            return activation.process

        def anyone(self, user: User, task: Any) -> bool:
            return True

    assert graph.node_problems(Undated) == ["Undated.work: a deadline needs its due date and a due date its deadline"]
