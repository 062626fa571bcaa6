"""The case pages: the list, opening a case, the case page, notes, the team, handover, sharing, consents, closing.

Thin views. Every page that names a case starts with ``access_case_by_id`` (or ``access_case_object`` for an object
of a case), which answers the same 404 for a case that does not exist and one that is not the viewer's. What the
viewer may do is asked of the ``CaseAccess`` decision (``permissions.policy``); a page the viewer sees the case for
but may not use answers 403 after an audited refusal. Protected values reach the templates only as plain values the
gate disclosed; protected text travels in POST bodies only, never in URLs, messages or redirects.

``common`` holds what the pages share; ``pages`` the list, opening a case, the case page and notes; ``team`` the team,
handover and the old closing address; ``sharing`` shares and consents; ``lifecycle`` proposing closure (four eyes)
and court petitions. The views are re-exported here for ``casework.case_urls``.
"""

from casework.case_views.conferences import (
    conference_addendum_add,
    conference_cancel,
    conference_decision_add,
    conference_detail,
    conference_list,
    conference_record,
    conference_reschedule,
    conference_schedule,
    conference_sign_off,
)
from casework.case_views.inspections import (
    case_inspection,
    case_inspection_decide,
    case_inspection_pdf,
    case_inspection_record,
    case_inspections,
)
from casework.case_views.kept_apart import case_kept_apart
from casework.case_views.lifecycle import case_closure_request, case_closure_withdraw, case_petition
from casework.case_views.pages import case_detail, case_list, case_note_add, case_open
from casework.case_views.plans import case_plan, case_plan_acquaintance, case_plan_pdf, case_plan_version
from casework.case_views.sharing import case_sharing, consent_add, consent_withdraw, share_revoke
from casework.case_views.team import case_close, case_handover, case_team, team_member_end

__all__ = [
    "case_close",
    "case_closure_request",
    "case_closure_withdraw",
    "case_detail",
    "case_handover",
    "case_inspection",
    "case_inspection_decide",
    "case_inspection_pdf",
    "case_inspection_record",
    "case_inspections",
    "case_kept_apart",
    "case_list",
    "case_note_add",
    "case_open",
    "case_petition",
    "case_plan",
    "case_plan_acquaintance",
    "case_plan_pdf",
    "case_plan_version",
    "case_sharing",
    "case_team",
    "conference_addendum_add",
    "conference_cancel",
    "conference_decision_add",
    "conference_detail",
    "conference_list",
    "conference_record",
    "conference_reschedule",
    "conference_schedule",
    "conference_sign_off",
    "consent_add",
    "consent_withdraw",
    "share_revoke",
    "team_member_end",
]
