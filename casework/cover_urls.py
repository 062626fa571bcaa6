"""Supervisor cover (*Zastupování*): ``/cover/``."""

from django.urls import path

from casework import cover_views as views

urlpatterns = [
    path("", views.supervisor_cover, name="supervisor_cover"),
    path("<int:cover_id>/end/", views.supervisor_cover_end_view, name="supervisor_cover_end"),
]
