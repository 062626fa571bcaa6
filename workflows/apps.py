from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self) -> None:
        from django.core import checks

        from casework.case_file_sources import sources
        from casework.lifecycle_hooks import hooks
        from workflows import savepoints
        from workflows.checks import flow_nodes_check
        from workflows.lifecycle import FlowLifecycle
        from workflows.selectors import CaseOpenTasks

        # casework never imports workflows: its services call these hooks inside their transactions and we start
        # and adjust the case's flows there (docs/adr/0007-case-flow-assessment.md).
        hooks.register(FlowLifecycle())
        sources.register_tasks(CaseOpenTasks())
        checks.register(flow_nodes_check)
        # viewflow's per-node savepoints inside a step's transaction buy nothing (docs/adr/0026-…): left out.
        savepoints.install()
