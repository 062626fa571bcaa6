"""What the report pages share: the filer's view of its status and the § 10(4) answer. The report's header and
content are its read model's (``casework.selectors.report_file``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.models import Report, ReportStatus

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
