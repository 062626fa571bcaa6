from django.urls import path

from . import child_views

urlpatterns = [
    path("", child_views.child_search, name="child_search"),
    path("new/", child_views.child_register, name="child_register"),
    path("<uuid:child_id>/", child_views.child_detail, name="child_detail"),
]
