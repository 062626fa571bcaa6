"""The case pages, mounted at /cases/. The names are a contract: tests and the browser journey use them."""

from django.urls import path

from . import break_glass_views, case_views

urlpatterns = [
    path("", case_views.case_list, name="case_list"),
    # Break-glass (permissions.break_glass): find a case of one's authority by reference, ask for emergency access.
    path("break-glass/", break_glass_views.break_glass_find, name="break_glass_find"),
    path("<uuid:case_id>/break-glass/", break_glass_views.case_break_glass, name="case_break_glass"),
    path("open/<uuid:child_id>/", case_views.case_open, name="case_open"),
    path("<uuid:case_id>/", case_views.case_detail, name="case_detail"),
    path("<uuid:case_id>/notes/new/", case_views.case_note_add, name="case_note_add"),
    path("<uuid:case_id>/team/", case_views.case_team, name="case_team"),
    path("<uuid:case_id>/team/<uuid:membership_id>/end/", case_views.team_member_end, name="team_member_end"),
    path("<uuid:case_id>/handover/", case_views.case_handover, name="case_handover"),
    path("<uuid:case_id>/sharing/", case_views.case_sharing, name="case_sharing"),
    path("<uuid:case_id>/sharing/<uuid:share_id>/revoke/", case_views.share_revoke, name="share_revoke"),
    path("<uuid:case_id>/consents/new/", case_views.consent_add, name="consent_add"),
    path("<uuid:case_id>/consents/<uuid:consent_id>/withdraw/", case_views.consent_withdraw, name="consent_withdraw"),
    path("<uuid:case_id>/close/", case_views.case_close, name="case_close"),
    # Closure with four eyes and court petitions (casework.case_views.lifecycle).
    path("<uuid:case_id>/closure/", case_views.case_closure_request, name="case_closure_request"),
    path(
        "<uuid:case_id>/closure/<uuid:request_id>/withdraw/",
        case_views.case_closure_withdraw,
        name="case_closure_withdraw",
    ),
    path("<uuid:case_id>/petition/", case_views.case_petition, name="case_petition"),
    # § 55(2): what is kept apart from file inspection (casework.case_views.kept_apart).
    path("<uuid:case_id>/kept-apart/", case_views.case_kept_apart, name="case_kept_apart"),
    # § 55 file inspection: prepared by the lead, approved by another supervisor (casework.case_views.inspections).
    path("<uuid:case_id>/inspections/", case_views.case_inspections, name="case_inspections"),
    path("<uuid:case_id>/inspections/<uuid:inspection_id>/", case_views.case_inspection, name="case_inspection"),
    path(
        "<uuid:case_id>/inspections/<uuid:inspection_id>/decide/",
        case_views.case_inspection_decide,
        name="case_inspection_decide",
    ),
    path(
        "<uuid:case_id>/inspections/<uuid:inspection_id>/record/",
        case_views.case_inspection_record,
        name="case_inspection_record",
    ),
    path(
        "<uuid:case_id>/inspections/<uuid:inspection_id>/pdf/",
        case_views.case_inspection_pdf,
        name="case_inspection_pdf",
    ),
    # The protection plan (IPOD): the plan board, one version, its PDF (casework.case_views.plans).
    path("<uuid:case_id>/plan/", case_views.case_plan, name="case_plan"),
    path("<uuid:case_id>/plan/<uuid:plan_id>/", case_views.case_plan_version, name="case_plan_version"),
    path("<uuid:case_id>/plan/<uuid:plan_id>/pdf/", case_views.case_plan_pdf, name="case_plan_pdf"),
    path(
        "<uuid:case_id>/plan/<uuid:plan_id>/acquaintance/",
        case_views.case_plan_acquaintance,
        name="case_plan_acquaintance",
    ),
    # Case conferences, § 14 of Act No. 359/1999 Coll. (casework.case_views.conferences).
    path("<uuid:case_id>/conferences/", case_views.conference_list, name="conference_list"),
    path("<uuid:case_id>/conferences/new/", case_views.conference_schedule, name="conference_schedule"),
    path("<uuid:case_id>/conferences/<uuid:conference_id>/", case_views.conference_detail, name="conference_detail"),
    path(
        "<uuid:case_id>/conferences/<uuid:conference_id>/record/",
        case_views.conference_record,
        name="conference_record",
    ),
    path(
        "<uuid:case_id>/conferences/<uuid:conference_id>/decisions/new/",
        case_views.conference_decision_add,
        name="conference_decision_add",
    ),
    path(
        "<uuid:case_id>/conferences/<uuid:conference_id>/sign-off/",
        case_views.conference_sign_off,
        name="conference_sign_off",
    ),
    path(
        "<uuid:case_id>/conferences/<uuid:conference_id>/addenda/new/",
        case_views.conference_addendum_add,
        name="conference_addendum_add",
    ),
    path(
        "<uuid:case_id>/conferences/<uuid:conference_id>/cancel/",
        case_views.conference_cancel,
        name="conference_cancel",
    ),
    path(
        "<uuid:case_id>/conferences/<uuid:conference_id>/reschedule/",
        case_views.conference_reschedule,
        name="conference_reschedule",
    ),
]
