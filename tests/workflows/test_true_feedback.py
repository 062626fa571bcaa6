"""The § 10(4) feedback tells a mandated notifier exactly whether the child was found to be a § 6 child: every close
reason of a report is enumerated with the answer it gives — a forwarded report says it was forwarded (no finding
here), a duplicate carries the answer of the open case it joined — and the database refuses a false combination."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from casework.models import CLOSE_RULES, FeedbackAnswer, Report, ReportCloseReason, ReportStatus, User
from tests.factories.cases import open_case
from workflows.views.common import answer_text

from .conftest import BIRTH_NUMBER, BORN, client_for, feedback_task, file_report, html, triage

pytestmark = pytest.mark.django_db

#: Every close reason and what its feedback must say. A new reason fails the first test until it is added here.
EXPECTED: dict[str, tuple[FeedbackAnswer, bool | None, str]] = {
    ReportCloseReason.NOT_AT_RISK: (FeedbackAnswer.NOT_AT_RISK, False, "did not find the child"),
    ReportCloseReason.OTHER_AUTHORITY: (FeedbackAnswer.FORWARDED, None, "forwarded the report to the competent"),
    ReportCloseReason.DUPLICATE: (FeedbackAnswer.AT_RISK, True, "found the child to be a child at risk"),
    ReportCloseReason.OTHER: (FeedbackAnswer.NOT_AT_RISK, False, "did not find the child"),
}
FORWARDED_TO = "OSPOD Prostějov"


def test_every_close_reason_has_a_rule_and_an_expected_answer() -> None:
    assert set(EXPECTED) == set(ReportCloseReason.values) == set(CLOSE_RULES)


def _close(report: Report, supervisor: User, reason: str, coordinator: User) -> Any:
    extra: dict[str, Any] = {}
    if reason == ReportCloseReason.DUPLICATE:
        extra["duplicate_of"] = open_case(coordinator=coordinator, born=BORN, birth_number=BIRTH_NUMBER).reference
    if reason == ReportCloseReason.OTHER_AUTHORITY:
        extra["forwarded_to"] = FORWARDED_TO
    return triage(report, supervisor, at_risk=False, close_reason=reason, child=None, **extra)


@pytest.mark.parametrize("reason", sorted(ReportCloseReason.values))
def test_each_close_reason_gives_its_true_answer_on_the_feedback_page(
    teacher: User, supervisor: User, coordinator: User, reason: str
) -> None:
    answer, at_risk, fragment = EXPECTED[reason]
    report = file_report(teacher, feedback_requested=True)
    _close(report, supervisor, reason, coordinator)

    assert (report.status, report.close_reason, report.at_risk) == (ReportStatus.CLOSED, reason, at_risk)
    assert report.feedback_answer == answer
    with translation.override("en"):
        text = answer_text(report)
    assert text is not None
    assert fragment in text
    if answer == FeedbackAnswer.FORWARDED:
        assert FORWARDED_TO in text
        assert "did not find" not in text
    # Who answers: the coordinator of the case a duplicate joined; otherwise the supervisor who triaged.
    owner = coordinator if reason == ReportCloseReason.DUPLICATE else supervisor
    task = feedback_task(report)
    assert task.owner == owner
    client = client_for(owner)
    client.cookies.load({"django_language": "en"})
    page = html(client.get(reverse("task_detail", kwargs={"task_id": task.pk})))
    assert fragment in page


def test_a_duplicate_joins_the_open_case_and_its_coordinator_is_told(
    teacher: User, supervisor: User, coordinator: User
) -> None:
    report = file_report(teacher, feedback_requested=True)
    _close(report, supervisor, ReportCloseReason.DUPLICATE, coordinator)
    assert report.case is not None
    assert report.child_id == report.case.child_id
    assert report.case.reports.filter(pk=report.pk).exists()
    assert report.case.is_open  # nothing was opened or closed by the duplicate


@pytest.mark.parametrize(
    ("reason", "extra", "field"),
    [
        (ReportCloseReason.OTHER_AUTHORITY, {}, "forwarded_to"),
        (ReportCloseReason.DUPLICATE, {}, "duplicate_of"),
        (ReportCloseReason.DUPLICATE, {"duplicate_of": "OM 2026/9999"}, "duplicate_of"),
    ],
)
def test_a_close_without_what_its_answer_needs_is_a_field_error_and_nothing_changes(
    teacher: User, supervisor: User, reason: str, extra: dict[str, str], field: str
) -> None:
    report = file_report(teacher, feedback_requested=True)
    with pytest.raises(ValidationError) as caught:
        triage(report, supervisor, at_risk=False, close_reason=reason, child=None, **extra)
    assert field in caught.value.message_dict
    report.refresh_from_db()
    assert (report.status, report.at_risk, report.close_reason, report.case_id) == (
        ReportStatus.IN_TRIAGE,
        None,
        "",
        None,
    )


@pytest.mark.parametrize(
    ("reason", "false_values"),
    [
        (ReportCloseReason.OTHER_AUTHORITY, {"at_risk": False}),  # "not at risk" for a forwarded report
        (ReportCloseReason.OTHER_AUTHORITY, {"forwarded_to": ""}),  # forwarded to nobody
        (ReportCloseReason.DUPLICATE, {"at_risk": False}),  # "not at risk" while a case deals with the child
        (ReportCloseReason.DUPLICATE, {"case": None, "child": None}),  # a duplicate of nothing
        (ReportCloseReason.NOT_AT_RISK, {"at_risk": None}),
        (ReportCloseReason.NOT_AT_RISK, {"at_risk": True}),
        (ReportCloseReason.OTHER, {"at_risk": True}),
    ],
)
def test_the_database_refuses_a_false_feedback_combination(
    teacher: User, supervisor: User, coordinator: User, reason: str, false_values: dict[str, Any]
) -> None:
    report = file_report(teacher, feedback_requested=True)
    _close(report, supervisor, reason, coordinator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.filter(pk=report.pk).update(**false_values)


def test_the_triage_page_closes_a_forwarded_report_naming_the_authority(teacher: User, supervisor: User) -> None:
    from workflows import tasks

    from .conftest import triage_task

    report = file_report(teacher, feedback_requested=True)
    task = triage_task(report)
    tasks.task_claim(task=task, user=supervisor)
    client = client_for(supervisor)
    response = client.post(
        reverse("task_detail", kwargs={"task_id": task.pk}),
        {"urgent": "standard", "at_risk": "no", "close_reason": "other_authority", "forwarded_to": FORWARDED_TO},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.at_risk, report.forwarded_to) == (ReportStatus.CLOSED, None, FORWARDED_TO)
