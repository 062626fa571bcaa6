"""The workflows' pages, mounted by ``config.urls`` at /inbox/, /reports/ and (the case's process) /cases/.
The names are a contract: tests use them.

No URL carries protected text: a report's content travels in POST bodies only; URLs name tasks and reports by id.
"""

from django.urls import path

from workflows import views
from workflows.views import competence

inbox_urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("tasks/<int:task_id>/", views.task_detail, name="task_detail"),
    path("tasks/<int:task_id>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<int:task_id>/unassign/", views.task_unassign, name="task_unassign"),
]

report_urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("new/", views.report_create, name="report_create"),
    path("<uuid:report_id>/", views.report_detail, name="report_detail"),
    path("<uuid:report_id>/filed/", views.report_filed, name="report_filed"),
    path("<uuid:report_id>/cover-letter/", competence.report_cover_letter, name="report_cover_letter"),
    path("<uuid:report_id>/ask-known-child/", competence.known_child_ask, name="known_child_ask"),
]

#: Included at /cases/ before casework's case pages (casework never imports workflows).
case_urlpatterns = [
    path("<uuid:case_id>/process/", views.case_process, name="case_process"),
    path("<uuid:case_id>/transfer/", competence.transfer_propose, name="transfer_propose"),
]

#: Included at /competence/: the duty roster, transfers between ORPs and known-child requests.
competence_urlpatterns = [
    path("", competence.competence, name="competence"),
    path("duty/<int:shift_id>/remove/", competence.duty_shift_delete, name="duty_shift_delete"),
    path("known-child/<int:request_id>/answer/", competence.known_child_answer, name="known_child_answer"),
    path("transfers/<int:transfer_id>/decide/", competence.transfer_decide, name="transfer_decide"),
]
