"""Login and logout under /accounts/ (names ``login`` and ``logout``, as Django's settings expect), the login's
second step, 2FA enrolment, the person's account page and the session's remaining time."""

from django.urls import path

from . import account_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", account_views.second_factor_verify, name="otp_verify"),
    path("two-factor/enrol/", account_views.second_factor_enrol, name="otp_enrol"),
    path("security/", account_views.account_security, name="account"),
    path("session/", account_views.session_status, name="session_status"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
