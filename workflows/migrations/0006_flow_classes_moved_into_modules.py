"""The flow classes moved from ``workflows/flows.py`` into one module each (``workflows/flows/report.py``, …).

viewflow stores a flow by its class's dotted path under the app (``viewflow_process.flow_class``:
``workflows/flows.CaseFlow``) and a node by that path and the node's name (``viewflow_task.flow_task``:
``workflows/flows.CaseFlow.draft_plan``). The old paths still import (``workflows.flows`` re-exports the classes), but
every query compares the stored text with the new path, so old rows would drop out of the inbox, the process page and
the flows' own look-ups. This rewrites the stored paths; reversed, it writes the old ones back.

Written against the table columns only (no flow class is imported): it keeps working whatever the flows become.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat, Substr

#: Class name → the module it moved to (under ``workflows/flows.``).
MOVED = {
    "ReportFlow": "report",
    "CaseFlow": "case",
    "ClosureFlow": "closure",
    "ActionFlow": "action",
}
APP = "workflows/flows."


def _rewrite(apps: Any, pairs: list[tuple[str, str]]) -> None:
    Process = apps.get_model("viewflow", "Process")
    Task = apps.get_model("viewflow", "Task")
    for old, new in pairs:
        Process.objects.filter(flow_class=old).update(flow_class=new)
        # A node's reference is the flow's path, a dot and the node's name: keep the name, change the path.
        Task.objects.filter(flow_task__startswith=f"{old}.").update(
            flow_task=Concat(Value(f"{new}."), Substr(F("flow_task"), len(old) + 2), output_field=CharField())
        )


def forwards(apps: Any, schema_editor: Any) -> None:
    _rewrite(apps, [(f"{APP}{name}", f"{APP}{module}.{name}") for name, module in MOVED.items()])


def backwards(apps: Any, schema_editor: Any) -> None:
    _rewrite(apps, [(f"{APP}{module}.{name}", f"{APP}{name}") for name, module in MOVED.items()])


class Migration(migrations.Migration):
    dependencies = [
        ("viewflow", "0015_task_scheduled"),
        ("workflows", "0005_deadline_owner_organisation"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
