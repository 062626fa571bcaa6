"""``workflows``' listener to a case's life (``casework.lifecycle_hooks``): each event starts, adjusts or cancels the
flows of the case, in the casework service's transaction (an exception rolls the whole service call back).
Registered by ``WorkflowsConfig.ready``."""

from __future__ import annotations

from casework.lifecycle_hooks import CaseLifecycleListener
from casework.models import Case, ClosureRequest, Plan, PlanAction, TeamMembership, User
from workflows.flows import (
    action_flow_done,
    action_flows_case_closed,
    action_flows_for_plan,
    action_flows_member_left,
    case_flow_close,
    case_flow_handover,
    case_flow_member_left,
    case_flow_start,
    closure_flow_start,
    closure_flow_withdrawn,
)


class FlowLifecycle(CaseLifecycleListener):
    """Keeps the flows in step with the case: ``CaseFlow``, ``ClosureFlow`` and ``ActionFlow`` (``workflows.flows``)."""

    def case_opened(self, *, case: Case) -> None:
        case_flow_start(case)

    def team_membership_ended(self, *, membership: TeamMembership) -> None:
        case_flow_member_left(membership)
        action_flows_member_left(membership)

    def case_closed(self, *, case: Case) -> None:
        case_flow_close(case)
        action_flows_case_closed(case)

    def case_handed_over(self, *, case: Case, previous_coordinator_id: int | None, by: User) -> None:
        case_flow_handover(case, previous_coordinator_id, by)

    def closure_requested(self, *, request: ClosureRequest) -> None:
        closure_flow_start(request)

    def closure_withdrawn(self, *, request: ClosureRequest) -> None:
        closure_flow_withdrawn(request)

    def plan_approved(self, *, plan: Plan, by: User) -> None:
        action_flows_for_plan(plan)

    def plan_action_done(self, *, action: PlanAction, by: User) -> None:
        action_flow_done(action, by)
