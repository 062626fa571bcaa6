from django.urls import path

from casework import form_views

urlpatterns = [
    path("keep/", form_views.keep_work, name="keep_work"),
    path("kept/", form_views.kept_work_restore, name="kept_work_restore"),
    path("drafts/<uuid:case_id>/assessment/", form_views.draft_assessment, name="draft_assessment"),
    path(
        "drafts/<uuid:case_id>/minutes/<uuid:conference_id>/",
        form_views.draft_minutes,
        name="draft_minutes",
    ),
    path("drafts/<uuid:case_id>/plan/<uuid:plan_id>/", form_views.draft_plan, name="draft_plan_version"),
]
