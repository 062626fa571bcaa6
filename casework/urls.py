"""The shell's top-level pages. Later features add their own URL modules beside this one (cases: ``case_urls``; the
inbox and reports: ``workflows.urls``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),
]
