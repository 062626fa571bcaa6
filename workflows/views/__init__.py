"""The pages of the workflows: filing a report (intake), the inbox with its team queue, and the task pages.

Thin views. Task pages start with ``workflows.tasks.access_task_by_id`` (the same 404 for a task that does not exist
and one the viewer may not work on, refusals audited); report pages with ``permissions.access.access_report_by_id``.
Protected values reach the templates only as plain values the gate disclosed; protected text travels in POST bodies
only — never in URLs, messages, redirects or success pages. None of viewflow's stock views is used.

``intake`` holds filing and the filer's list; ``inbox`` the inbox; ``tasks`` claiming, giving back and the task pages
(triage, feedback) and the report page for its handlers; ``process`` the case's process page for its leads.
"""

from workflows.views.inbox import inbox
from workflows.views.intake import report_create, report_filed, report_list
from workflows.views.process import case_process
from workflows.views.tasks import report_detail, task_claim, task_detail, task_unassign

__all__ = [
    "case_process",
    "inbox",
    "report_create",
    "report_detail",
    "report_filed",
    "report_list",
    "task_claim",
    "task_detail",
    "task_unassign",
]
