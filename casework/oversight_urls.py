"""Access oversight (*Kontrola přístupů*) for supervisors and the DPO: ``/oversight/``."""

from django.urls import path

from casework import break_glass_views
from casework import oversight_views as views

urlpatterns = [
    path("", views.oversight_index, name="oversight"),
    path("export/", views.oversight_export, name="oversight_export"),
    path("verify/", views.oversight_verify, name="oversight_verify"),
    path("cases/<uuid:case_id>/", views.oversight_case, name="oversight_case"),
    path("cases/<uuid:case_id>/export/", views.oversight_case_export, name="oversight_case_export"),
    path("users/<int:user_id>/", views.oversight_person, name="oversight_person"),
    path("users/<int:user_id>/export/", views.oversight_person_export, name="oversight_person_export"),
    # The record of processing activities (GDPR Art. 30), from the configuration: HTML and PDF.
    path("processing-record/", views.processing_record_page, name="processing_record"),
    path("processing-record/pdf/", views.processing_record_pdf, name="processing_record_pdf"),
    path("anomalies/", views.anomaly_list, name="oversight_anomalies"),
    path("anomalies/<int:anomaly_id>/review/", views.anomaly_review_view, name="oversight_anomaly_review"),
    # The break-glass review queue and one grant's review page.
    path("break-glass/", break_glass_views.break_glass_queue, name="oversight_break_glass"),
    path("break-glass/<int:grant_id>/", break_glass_views.break_glass_review, name="oversight_break_glass_review"),
]
