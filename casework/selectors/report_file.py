"""The report's read model (DESIGN invariant 11): a report (oznámení) as the gate lets its handler read it.

:class:`ReportHeader` holds the report's columns in clear (nothing sealed: the task pages show it to whoever works on
the report); :class:`ReportContent` what the notifier wrote, read through the gate (audited); ``report_disclosed``
puts them together with whether the viewer may follow the link to the report's case. The triage page uses the parts
(its form is prefilled from the content). This module imports ``permissions``, so it is imported from its own path,
never from ``casework.selectors``.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from casework.models import Report, UrgencyHint, User
from casework.services.reports import REPORT_SEALED_FIELDS
from permissions import gate
from permissions.access import AccessedReport, load_case_access


@dataclass(frozen=True)
class ReportHeader:
    """The report's columns in clear: number, dates, channel, notifier kind, hints, decision. No sealed value."""

    id: uuid.UUID
    reference: str
    received_at: datetime.datetime
    channel: str
    notifier_kind: str
    mandated: bool
    hints: tuple[str, ...]
    urgent_suggested: bool
    feedback_requested: bool
    feedback_sent_at: datetime.datetime | None
    status: str
    urgent: bool | None
    at_risk: bool | None
    decided_at: datetime.datetime | None
    decided_by: str
    close_reason: str
    forwarded_to: str
    case_id: uuid.UUID | None
    case_reference: str


def report_header(report: Report) -> ReportHeader:
    return ReportHeader(
        id=report.pk,
        reference=report.reference,
        received_at=report.received_at,
        channel=report.get_channel_display(),
        notifier_kind=report.get_notifier_kind_display(),
        mandated=report.notifier_is_mandated,
        hints=tuple(str(UrgencyHint(h).label) for h in report.urgency_hints if h in UrgencyHint.values),
        urgent_suggested=report.urgent_suggested,
        feedback_requested=report.feedback_requested,
        feedback_sent_at=report.feedback_sent_at,
        status=report.get_status_display(),
        urgent=report.urgent,
        at_risk=report.at_risk,
        decided_at=report.decided_at,
        decided_by=report.decided_by.display_name() if report.decided_by is not None else "",
        close_reason=report.get_close_reason_display() if report.close_reason else "",
        forwarded_to=report.forwarded_to,
        case_id=report.case_id,
        case_reference=report.case.reference if report.case_id is not None and report.case else "",
    )


@dataclass(frozen=True)
class ReportContent:
    """What the notifier wrote, as far as the gate disclosed it (a withheld field is empty and named)."""

    notifier_name: str
    notifier_contact: str
    facts: str
    child_given_name: str
    child_family_name: str
    child_date_of_birth: datetime.date | None
    child_birth_number: str
    child_address: str
    withheld: tuple[str, ...]


def _birth_number(value: str | None) -> str:
    return f"{value[:6]}/{value[6:]}" if value else ""


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def report_content(user: User, report: AccessedReport | Report, *, purpose: str) -> ReportContent:
    """The report's sealed fields through the gate (one audited read): what the notifier wrote, as plain values."""
    disclosure = gate.read(user, report, REPORT_SEALED_FIELDS, purpose=purpose)
    values = disclosure.values
    return ReportContent(
        notifier_name=values.get("notifier_name") or "",
        notifier_contact=values.get("notifier_contact") or "",
        facts=values.get("facts") or "",
        child_given_name=values.get("child_given_name") or "",
        child_family_name=values.get("child_family_name") or "",
        child_date_of_birth=_date(values.get("child_date_of_birth")),
        child_birth_number=_birth_number(values.get("child_birth_number")),
        child_address=values.get("child_address") or "",
        withheld=disclosure.withheld,
    )


@dataclass(frozen=True)
class ReportView:
    header: ReportHeader
    content: ReportContent
    #: The viewer may open the report's case (the link is shown only then).
    case_visible: bool


def report_disclosed(*, user: User, report: AccessedReport, purpose: str) -> ReportView:
    """The report page's content. ``report`` is what ``permissions.access.access_report_by_id`` returned."""
    row = report.report
    header = report_header(row)
    case_visible = row.case is not None and load_case_access(user, row.case).visible
    return ReportView(header=header, content=report_content(user, report, purpose=purpose), case_visible=case_visible)
