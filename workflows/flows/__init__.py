"""The flows of a child's case, as viewflow graphs, one module per flow. Each node's body is one call into a service.

* :mod:`workflows.flows.report` — ``ReportFlow``: a report from its receipt to the notifier's feedback.
* :mod:`workflows.flows.case` — ``CaseFlow``: a case from its opening through the assessment to the protection plan
  and its reviews.
* :mod:`workflows.flows.closure` — ``ClosureFlow``: a proposal to close the case and a supervisor's decision.
* :mod:`workflows.flows.action` — ``ActionFlow``: an action of the approved plan in its owner's inbox.

Transitions run under a row lock of the process (``SelectForUpdateLock(nowait=False)``) inside one transaction: a
failing node rolls the whole step back. Who may take and complete the human tasks is our policy
(``workflows.nodes.PolicyView``), checked by ``workflows.tasks`` before every transition.

**Stored names.** viewflow stores a flow by the dotted path of its class under the app (``Process.flow_class``,
e.g. ``workflows/flows.case.CaseFlow``) and a node by that path and the node's name (``Task.flow_task``,
``workflows/flows.case.CaseFlow.draft_plan``), and looks them up by importing the path. Before this package, the
classes lived in ``workflows/flows.py`` and rows say ``workflows/flows.CaseFlow``. Both stay readable: the classes are
re-exported here, so the old paths still import. But queries compare the stored text (``flow_task=CaseFlow.draft_plan``
is ``flow_task = 'workflows/flows.case.CaseFlow.draft_plan'``), so migration
``workflows.0006_flow_classes_moved_into_modules`` rewrites the old paths to the new ones (and back, reversed).
Moving or renaming a flow class or a node again needs such a migration too.
"""

from workflows.flows.action import (
    ActionFlow,
    action_flow_done,
    action_flows_case_closed,
    action_flows_for_plan,
    action_flows_member_left,
)
from workflows.flows.case import (
    CaseFlow,
    case_flow_close,
    case_flow_handover,
    case_flow_member_left,
    case_flow_start,
)
from workflows.flows.closure import ClosureFlow, closure_flow_start, closure_flow_withdrawn
from workflows.flows.report import ReportFlow, report_receive

#: Every flow, in the order the inbox lists their task types.
FLOWS = (ReportFlow, CaseFlow, ClosureFlow, ActionFlow)

__all__ = [
    "FLOWS",
    "ActionFlow",
    "CaseFlow",
    "ClosureFlow",
    "ReportFlow",
    "action_flow_done",
    "action_flows_case_closed",
    "action_flows_for_plan",
    "action_flows_member_left",
    "case_flow_close",
    "case_flow_handover",
    "case_flow_member_left",
    "case_flow_start",
    "closure_flow_start",
    "closure_flow_withdrawn",
    "report_receive",
]
