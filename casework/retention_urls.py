"""The shredding review (skartační řízení) for supervisors, records officers and the DPO: ``/retention/``."""

from django.urls import path

from casework import retention_views as views

urlpatterns = [
    path("", views.retention_review_list, name="retention_reviews"),
    path("<int:review_id>/", views.retention_review_detail, name="retention_review"),
]
