from django.urls import path

from casework import form_views

urlpatterns = [
    path("keep/", form_views.keep_work, name="keep_work"),
    path("kept/", form_views.kept_work_restore, name="kept_work_restore"),
    path(
        "drafts/<uuid:case_id>/<str:kind>/<str:object_id>/",
        form_views.draft_autosave,
        name="draft_autosave",
    ),
]
