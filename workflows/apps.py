from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _case_opened(sender: Any, *, case: Any, **kwargs: Any) -> None:
    from workflows.flows import case_flow_start

    case_flow_start(case)


def _membership_ended(sender: Any, *, membership: Any, **kwargs: Any) -> None:
    from workflows.flows import action_flows_member_left, case_flow_member_left

    case_flow_member_left(membership)
    action_flows_member_left(membership)


def _case_closed(sender: Any, *, case: Any, **kwargs: Any) -> None:
    from workflows.flows import action_flows_case_closed, case_flow_close

    case_flow_close(case)
    action_flows_case_closed(case)


def _case_handed_over(sender: Any, *, case: Any, previous_coordinator_id: Any, by: Any, **kwargs: Any) -> None:
    from workflows.flows import case_flow_handover

    case_flow_handover(case, previous_coordinator_id, by)


def _closure_requested(sender: Any, *, request: Any, **kwargs: Any) -> None:
    from workflows.flows import closure_flow_start

    closure_flow_start(request)


def _closure_withdrawn(sender: Any, *, request: Any, **kwargs: Any) -> None:
    from workflows.flows import closure_flow_withdrawn

    closure_flow_withdrawn(request)


def _plan_approved(sender: Any, *, plan: Any, **kwargs: Any) -> None:
    from workflows.flows import action_flows_for_plan

    action_flows_for_plan(plan)


def _plan_action_done(sender: Any, *, action: Any, by: Any, **kwargs: Any) -> None:
    from workflows.flows import action_flow_done

    action_flow_done(action, by)


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self) -> None:
        from django.core import checks

        from workflows.checks import flow_nodes_check

        checks.register(flow_nodes_check)
        # casework never imports workflows: it sends these hooks inside its services' transactions and we start
        # and adjust the case's flow there (docs/adr/0007-case-flow-assessment.md).
        from casework.signals import (
            case_closed,
            case_handed_over,
            case_opened,
            closure_requested,
            closure_withdrawn,
            plan_action_done,
            plan_approved,
            team_membership_ended,
        )

        case_opened.connect(_case_opened, dispatch_uid="workflows.case_flow_start")
        team_membership_ended.connect(_membership_ended, dispatch_uid="workflows.case_flow_member_left")
        case_closed.connect(_case_closed, dispatch_uid="workflows.case_flow_close")
        case_handed_over.connect(_case_handed_over, dispatch_uid="workflows.case_flow_handover")
        closure_requested.connect(_closure_requested, dispatch_uid="workflows.closure_flow_start")
        closure_withdrawn.connect(_closure_withdrawn, dispatch_uid="workflows.closure_flow_withdrawn")
        plan_approved.connect(_plan_approved, dispatch_uid="workflows.action_flows_for_plan")
        plan_action_done.connect(_plan_action_done, dispatch_uid="workflows.action_flow_done")
