"""``manage.py check`` (and every server start) refuses a flow whose human nodes miss a page, a label or an inbox
type (``workflows.graph.problems``): a node added without them would otherwise surface as a 404 on its task page."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error


def flow_nodes_check(app_configs: Any, flows: tuple[Any, ...] | None = None, **kwargs: Any) -> list[Error]:
    from workflows import graph  # imports the flows and, to check them, the task pages: only once apps are ready

    found = graph.problems() if flows is None else graph.problems(flows)
    return [Error(problem, id="workflows.E001") for problem in found]
