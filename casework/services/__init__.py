"""Services write: keyword-only functions, one transaction each, field-level ValidationErrors."""

from .cases import (
    case_close,
    case_note_add,
    case_open,
    coordinator_handover,
    team_member_add,
    team_member_end,
    team_roles_ensure_defaults,
)
from .children import RepresentativeInput, child_create, child_crypto_shred
from .conferences import (
    ParticipantInput,
    conference_addendum_add,
    conference_cancel,
    conference_decision_add,
    conference_record,
    conference_schedule,
    conference_sign_off,
)
from .lifecycle import (
    closure_approve,
    closure_request,
    closure_return,
    closure_withdraw,
    court_petition_record,
)
from .reports import (
    ChildIdentity,
    ReportDetails,
    report_case_open,
    report_feedback_owner,
    report_feedback_record,
    report_file,
    report_triage,
    report_triage_release,
    report_triage_take,
)

__all__ = [
    "ChildIdentity",
    "ParticipantInput",
    "ReportDetails",
    "RepresentativeInput",
    "case_close",
    "case_note_add",
    "case_open",
    "child_create",
    "child_crypto_shred",
    "closure_approve",
    "closure_request",
    "closure_return",
    "closure_withdraw",
    "conference_addendum_add",
    "conference_cancel",
    "conference_decision_add",
    "conference_record",
    "conference_schedule",
    "conference_sign_off",
    "coordinator_handover",
    "court_petition_record",
    "report_case_open",
    "report_feedback_owner",
    "report_feedback_record",
    "report_file",
    "report_triage",
    "report_triage_release",
    "report_triage_take",
    "team_member_add",
    "team_member_end",
    "team_roles_ensure_defaults",
]
