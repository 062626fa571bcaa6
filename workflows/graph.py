"""The flow graph as the single source of its pages: what the task router, the inbox's task-type filter, the case's
process page and the demo know about a flow's nodes, read from the flow classes.

Each human node (``workflows.nodes.PolicyView``) declares its page, its label, its inbox type and its deadline; its
place on the process page is its place in the graph (``workflows.nodes.walk``). Nothing here names a node by a
string: adding a node to a flow adds it to the inbox filter and the process page, and :func:`problems` (run by a
test and by ``manage.py check``) refuses a human node without a page or a label.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from viewflow.workflow import nodes

from workflows.flows import FLOWS, CaseFlow
from workflows.nodes import PolicyView, TaskPage, human_nodes, walk


def task_types() -> dict[str, PolicyView]:
    """The inbox's task types: slug → node, in the flows' order and each flow's graph order."""
    return {node.inbox_type: node for flow in FLOWS for node in human_nodes(flow)}


def queue_task_types() -> frozenset[str]:
    """The task types that wait in a team queue (``queue=True``)."""
    return frozenset(slug for slug, node in task_types().items() if node.queue)


def task_type_of(node: Any) -> str:
    """The inbox type of a task's node (``""`` for a node that is not a human task of ours)."""
    return node.inbox_type if isinstance(node, PolicyView) else ""


def task_page(node: PolicyView) -> TaskPage:
    """The router: the page a task of ``node`` is rendered and completed on."""
    return node.page_view()


@dataclass(frozen=True)
class ProcessStep:
    """A row of the process page: the node shown, and the node whose finished task marks the step done."""

    node: Any
    done_by: Any

    @property
    def label(self) -> Any:
        return self.node.task_title


def process_steps(flow_class: Any = CaseFlow) -> list[ProcessStep]:
    """The process page's steps: the start, every human task in the order of the graph, and the end. A task that
    runs once per branch of a split (one input per member) is done when the join after it fired."""
    graph = walk(flow_class)
    steps = [ProcessStep(node, node) for node in graph if isinstance(node, (nodes.Start, nodes.StartHandle))]
    for node in human_nodes(flow_class):
        after = [edge.dst for edge in node._outgoing()]
        joined = len(after) == 1 and isinstance(after[0], nodes.Join)
        steps.append(ProcessStep(node, after[0] if joined else node))
    steps += [ProcessStep(node, node) for node in graph if isinstance(node, nodes.End)]
    return steps


def node_problems(flow_class: Any) -> list[str]:
    """What is missing on the flow's human nodes: a human task that is not a ``PolicyView``, no label, no page (or
    one that does not import as a function), no inbox type, a deadline without a due date or the reverse."""
    found = []
    for node in walk(flow_class):
        where = f"{flow_class.__name__}.{node.name}"
        if isinstance(node, nodes.View) and not isinstance(node, PolicyView):
            found.append(f"{where}: a human task must be a PolicyView (page, label, inbox type, deadline)")
            continue
        if not isinstance(node, PolicyView):
            continue
        if not str(node.label or "").strip():
            found.append(f"{where}: no label")
        if not node.page:
            found.append(f"{where}: no page")
        else:
            try:
                page = node.page_view()
            except ImportError as exc:
                found.append(f"{where}: page {node.page} does not import ({exc})")
            else:
                if not callable(page):
                    found.append(f"{where}: page {node.page} is not a view function")
        if not node.inbox_type:
            found.append(f"{where}: no inbox type")
        if (node.deadline is None) != (node._due is None):
            found.append(f"{where}: a deadline needs its due date and a due date its deadline")
    return found


def problems(flows: tuple[Any, ...] = FLOWS) -> list[str]:
    """:func:`node_problems` of every flow, and inbox types used by more than one node."""
    found = [problem for flow in flows for problem in node_problems(flow)]
    counts = Counter(node.inbox_type for flow in flows for node in human_nodes(flow))
    found += [f"inbox type {slug!r} is used by {count} nodes" for slug, count in counts.items() if count > 1]
    return found
