"""Login and logout under /accounts/ (names ``login`` and ``logout``, as Django's settings expect), the login's
second step, 2FA enrolment, the person's account page and the session's remaining time; the person's own password
and the account changes awaiting confirmation (issue 19)."""

from django.urls import path

from . import account_change_views, account_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", account_views.second_factor_verify, name="otp_verify"),
    path("two-factor/enrol/", account_views.second_factor_enrol, name="otp_enrol"),
    path("security/", account_views.account_security, name="account"),
    path("session/", account_views.session_status, name="session_status"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # Issue 19: the owner sets their own password (a link from an administrator, or knowing the old one); account
    # changes wait here for a supervisor's (or a second administrator's) confirmation.
    path("password/", account_change_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/set/<uidb64>/<token>/",
        account_change_views.PasswordSetView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/set/done/", account_change_views.PasswordSetDoneView.as_view(), name="password_set_done"),
    path("changes/", account_change_views.account_change_list, name="account_changes"),
    path("changes/<int:change_id>/decide/", account_change_views.account_change_decision, name="account_change_decide"),
]
