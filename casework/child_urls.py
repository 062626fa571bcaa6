from django.urls import path

from . import child_views

urlpatterns = [
    path("", child_views.child_search, name="child_search"),
    path("new/", child_views.child_register, name="child_register"),
    path("<uuid:child_id>/", child_views.child_detail, name="child_detail"),
    path("<uuid:child_id>/birth-number/", child_views.child_add_birth_number_view, name="child_add_birth_number"),
    path("<uuid:child_id>/merge/", child_views.child_merge_propose_view, name="child_merge_propose"),
    path("merges/<int:merge_id>/", child_views.child_merge_decide_view, name="child_merge_decide"),
]
