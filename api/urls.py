"""The API, mounted by ``config.urls`` at /api/. Version 1 under /api/v1/; the schema at /api/schema/ and its
Swagger UI and Redoc pages at /api/docs/ (logged-in people only, like every page).

Path parameters never carry protected text: ids only. (The names avoid ``case_id`` on purpose: the pages' access
matrix walks every ``case_id`` route with a session; the API has its own matrix, tests/api/test_api_access_matrix.py.)
"""

from django.urls import path

from api import account_views, docs, views

v1 = [
    path("me/", views.MeView.as_view(), name="api_me"),
    path("tasks/mine/", views.MyTasksView.as_view(), name="api_tasks_mine"),
    path("tasks/queue/", views.TeamQueueView.as_view(), name="api_tasks_queue"),
    path("tasks/<int:task_id>/claim/", views.TaskClaimView.as_view(), name="api_task_claim"),
    path("tasks/<int:task_id>/action-reports/", views.ActionReportView.as_view(), name="api_action_report"),
    path("cases/", views.CaseListView.as_view(), name="api_cases"),
    path("cases/<uuid:case_pk>/", views.CaseDetailView.as_view(), name="api_case"),
    path("cases/<uuid:case_pk>/memberships/", views.CaseMembershipsView.as_view(), name="api_case_memberships"),
    path("cases/<uuid:case_pk>/plans/", views.CasePlanVersionsView.as_view(), name="api_case_plans"),
    path("reports/", views.ReportCreateView.as_view(), name="api_reports"),
    path("reports/<uuid:report_id>/", views.ReportStatusView.as_view(), name="api_report"),
    path("notifications/", views.NotificationListView.as_view(), name="api_notifications"),
    path("notifications/read-all/", views.NotificationReadAllView.as_view(), name="api_notifications_read_all"),
    path(
        "notifications/<int:notification_id>/read/", views.NotificationReadView.as_view(), name="api_notification_read"
    ),
    path("services/", views.ServiceListView.as_view(), name="api_services"),
    path("services/<int:service_id>/", views.ServiceDetailView.as_view(), name="api_service"),
    path("service-types/", views.ServiceTypeListView.as_view(), name="api_service_types"),
]

urlpatterns = [
    *[path("v1/" + str(p.pattern), p.callback, name=p.name) for p in v1],
    path("schema/", docs.SchemaView.as_view(), name="api_schema"),
    path("docs/", docs.SwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("docs/redoc/", docs.RedocView.as_view(url_name="api_schema"), name="api_redoc"),
]

#: The token pages of the person's own account, mounted at /accounts/api-tokens/.
account_urlpatterns = [
    path("", account_views.token_list, name="api_tokens"),
    path("<int:token_id>/revoke/", account_views.token_revoke_view, name="api_token_revoke"),
]
