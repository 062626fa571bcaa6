from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from casework import views as casework_views
from workflows import urls as workflows_urls

urlpatterns = [
    path("healthz", casework_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("casework.auth_urls")),
    # One login for everyone, with its second step and lockout: the admin's own login form would skip both.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("children/", include("casework.child_urls")),
    # The case's process page lives in workflows: before casework's case pages, on the same /cases/ prefix.
    path("cases/", include(workflows_urls.case_urlpatterns)),
    path("cases/", include("casework.case_urls")),
    path("forms/", include("casework.form_urls")),
    path("notifications/", include("notifications.urls")),
    path("inbox/", include(workflows_urls.inbox_urlpatterns)),
    path("reports/", include(workflows_urls.report_urlpatterns)),
    path("competence/", include(workflows_urls.competence_urlpatterns)),
    path("oversight/", include("casework.oversight_urls")),
    path("retention/", include("casework.retention_urls")),
    path("cover/", include("casework.cover_urls")),
    path("statistics/", include("figures.urls")),
    path("", include("casework.urls")),
]
