"""What the report pages share: the filer's view of its status and the § 10(4) answer. The report's header and
content are its read model's (``casework.selectors.report_file``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.models import FeedbackAnswer, Report, ReportStatus

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


def report_answer(report: Report) -> str | None:
    """The § 10(4) answer — whether the child was found to be a § 6 child, nothing more — once it has been sent."""
    if report.feedback_sent_at is None:
        return None
    return answer_text(report)


def answer_text(report: Report) -> str | None:
    """The answer the report's triage gives (``Report.feedback_answer``): at risk, not at risk — or, for a report
    forwarded to the competent authority, that it was forwarded there (no finding here; that authority answers)."""
    answer = report.feedback_answer
    if answer is None:
        return None
    if answer == FeedbackAnswer.FORWARDED:
        return str(
            _(
                "OSPOD forwarded the report to the competent authority, %(authority)s, which assesses whether the "
                "child is a child at risk under § 6 of Act No. 359/1999 Coll.; ask it for the answer."
            )
            % {"authority": report.forwarded_to}
        )
    if answer == FeedbackAnswer.AT_RISK:
        return str(_("OSPOD found the child to be a child at risk under § 6 of Act No. 359/1999 Coll."))
    return str(_("OSPOD did not find the child to be a child at risk under § 6 of Act No. 359/1999 Coll."))
