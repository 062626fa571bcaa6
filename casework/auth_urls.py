"""Login and logout under /accounts/ (names ``login`` and ``logout``, as Django's settings expect)."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
