"""viewflow stores flows and nodes by dotted path: rows written while the flows lived in ``workflows/flows.py`` still
resolve and are found again after the move into ``workflows/flows/`` (migration 0006, forwards and backwards).

Every name is fictional.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from viewflow.workflow.models import Process, Task

from casework.models import Case, User
from tests.factories.cases import add_member, open_case
from workflows import selectors
from workflows.flows import CaseFlow
from workflows.nodes import OPEN_STATUSES

pytestmark = pytest.mark.django_db

moved = importlib.import_module("workflows.migrations.0006_flow_classes_moved_into_modules")


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    opened = open_case(coordinator=coordinator)
    add_member(opened, teacher, coordinator)
    return opened


def stored(case: Case) -> tuple[str, list[str]]:
    """The raw text viewflow stored for the case's process and its tasks."""
    process = Process.objects.filter(caseprocess__case=case).values_list("pk", flat=True).get()
    flow_class = Process.objects.filter(pk=process).extra(select={"raw": "flow_class"}).values_list("raw", flat=True)
    nodes = Task.objects.filter(process_id=process).order_by("pk").extra(select={"raw": "flow_task"})
    return flow_class.get(), list(nodes.values_list("raw", flat=True))


def test_new_rows_name_the_flows_module(case: Case) -> None:
    flow_class, nodes = stored(case)
    assert flow_class == "workflows/flows.case.CaseFlow"
    assert nodes == ["workflows/flows.case.CaseFlow.start", "workflows/flows.case.CaseFlow.request_inputs"]


def test_rows_of_the_old_module_resolve_and_are_found_after_the_migration(case: Case, coordinator: User) -> None:
    moved.backwards(apps, None)  # the rows as the old module wrote them
    flow_class, nodes = stored(case)
    assert flow_class == "workflows/flows.CaseFlow"
    assert nodes == ["workflows/flows.CaseFlow.start", "workflows/flows.CaseFlow.request_inputs"]
    # The old paths still import (the package re-exports the classes) ...
    process = Process.objects.get(caseprocess__case=case)
    assert process.flow_class is CaseFlow
    assert {task.flow_task for task in Task.objects.filter(process=process)} == {
        CaseFlow.start,
        CaseFlow.request_inputs,
    }
    # ... but queries compare the stored text: without the migration the inbox filter loses the task.
    assert not Task.objects.filter(flow_task=CaseFlow.request_inputs, status__in=OPEN_STATUSES).exists()
    assert selectors.my_tasks(user=coordinator, task_type="request_inputs").rows == []

    moved.forwards(apps, None)
    flow_class, nodes = stored(case)
    assert flow_class == "workflows/flows.case.CaseFlow"
    assert nodes == ["workflows/flows.case.CaseFlow.start", "workflows/flows.case.CaseFlow.request_inputs"]
    task = Task.objects.get(flow_task=CaseFlow.request_inputs, status__in=OPEN_STATUSES)
    assert [row.task_id for row in selectors.my_tasks(user=coordinator, task_type="request_inputs").rows] == [task.pk]
