"""The notifications pages, mounted at /notifications/. The names are a contract: the socket's payloads, the
templates and the tests use them."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.notification_list, name="notification_list"),
    path("read-all/", views.notification_read_all, name="notification_read_all"),
    path("preferences/", views.notification_preferences, name="notification_preferences"),
    path("<int:notification_id>/read/", views.notification_read, name="notification_read"),
    path("<int:notification_id>/open/", views.notification_open, name="notification_open"),
    path("<int:notification_id>/child/", views.notification_child, name="notification_child"),
]
