from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from oauth2_provider import views as oauth2_views

from api import urls as api_urls
from casework import views as casework_views
from workflows import urls as workflows_urls

urlpatterns = [
    path("healthz", casework_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The REST API (issue 23): /api/v1/, its schema and docs; OAuth2 client credentials' token endpoint; the
    # person's own API tokens beside their account page.
    path("api/", include(api_urls.urlpatterns)),
    path("api/oauth/token/", oauth2_views.TokenView.as_view(), name="oauth2_token"),
    path("api/oauth/revoke/", oauth2_views.RevokeTokenView.as_view(), name="oauth2_revoke"),
    path("accounts/api-tokens/", include(api_urls.account_urlpatterns)),
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
    path("services/", include("services.urls")),
    path("referrals/", include("services.referrals.urls")),
    path("statistics/", include("figures.urls")),
    path("", include("casework.urls")),
]
