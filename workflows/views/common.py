"""What the report pages share: the report's columns in clear, the filer's view of its status, the § 10(4) answer,
and the disclosure of its sealed fields as plain values."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.models import Report, ReportStatus, UrgencyHint
from casework.services.reports import REPORT_SEALED_FIELDS
from permissions import gate
from permissions.access import AccessedReport

#: What a filer is told about their report: that it arrived, is being assessed, or was assessed. Not the outcome:
#: that is the § 10(4) answer, for a mandated notifier who asked, once it is sent.
FILER_STATUS: dict[str, Promise] = {
    ReportStatus.RECEIVED: _("received"),
    ReportStatus.IN_TRIAGE: _("being assessed"),
    ReportStatus.CASE_OPENED: _("assessed"),
    ReportStatus.ATTACHED: _("assessed"),
    ReportStatus.CLOSED: _("assessed"),
}


def filer_status(report: Report) -> Promise:
    return FILER_STATUS[report.status]


def report_answer(report: Report) -> Promise | None:
    """The § 10(4) answer — whether the child was found to be a § 6 child, nothing more — once it has been sent."""
    if report.feedback_sent_at is None or report.at_risk is None:
        return None
    return answer_text(report.at_risk)


def answer_text(at_risk: bool) -> Promise:
    if at_risk:
        return _("OSPOD found the child to be a child at risk under § 6 of Act No. 359/1999 Coll.")
    return _("OSPOD did not find the child to be a child at risk under § 6 of Act No. 359/1999 Coll.")


def report_header(report: Report) -> dict[str, Any]:
    """The report's columns in clear: number, dates, channel, notifier kind, hints, decision. No sealed value."""
    return {
        "id": report.pk,
        "reference": report.reference,
        "received_at": report.received_at,
        "channel": report.get_channel_display(),
        "notifier_kind": report.get_notifier_kind_display(),
        "mandated": report.notifier_is_mandated,
        "hints": [UrgencyHint(h).label for h in report.urgency_hints if h in UrgencyHint.values],
        "urgent_suggested": report.urgent_suggested,
        "feedback_requested": report.feedback_requested,
        "feedback_sent_at": report.feedback_sent_at,
        "status": report.get_status_display(),
        "urgent": report.urgent,
        "at_risk": report.at_risk,
        "decided_at": report.decided_at,
        "decided_by": report.decided_by.display_name() if report.decided_by is not None else "",
        "close_reason": report.get_close_reason_display() if report.close_reason else "",
        "case_id": report.case_id,
        "case_reference": report.case.reference if report.case_id is not None and report.case else "",
    }


def _birth_number(value: str | None) -> str:
    return f"{value[:6]}/{value[6:]}" if value else ""


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def report_content(user: Any, report: AccessedReport | Report, *, purpose: str) -> dict[str, Any]:
    """The report's sealed fields through the gate (audited): what the notifier wrote, as plain values. ``report`` is
    what ``access_report_by_id`` returned, or a task's report (decided afresh by the gate)."""
    disclosure = gate.read(user, report, REPORT_SEALED_FIELDS, purpose=purpose)
    values = dict(disclosure.values)
    return {
        "notifier_name": values.get("notifier_name") or "",
        "notifier_contact": values.get("notifier_contact") or "",
        "facts": values.get("facts") or "",
        "child_given_name": values.get("child_given_name") or "",
        "child_family_name": values.get("child_family_name") or "",
        "child_date_of_birth": _date(values.get("child_date_of_birth")),
        "child_birth_number": _birth_number(values.get("child_birth_number")),
        "child_address": values.get("child_address") or "",
        "withheld": disclosure.withheld,
    }
