"""The report's read model (``casework.selectors.report_file``): its handler reads what the notifier wrote through
the gate, in a fixed number of queries, and is told whether the report's case may be opened."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from casework.models import User
from casework.selectors.report_file import report_disclosed
from permissions.access import access_report_by_id
from permissions.models import AuditEvent
from tests.workflows.conftest import CHILD_GIVEN, FACTS, file_report

pytestmark = pytest.mark.django_db

#: One gate read of the report's sealed fields (one committed audit batch and the report's key); the case link is
#: decided without a query while the report has no case.
REPORT_QUERIES_HANDLER = 6


def test_the_supervisor_reads_the_report_in_a_fixed_number_of_queries(
    teacher: User, supervisor: User, django_assert_num_queries: Callable[..., object]
) -> None:
    accessed = access_report_by_id(supervisor, file_report(teacher).pk, purpose="report page")
    report = accessed.report
    with django_assert_num_queries(REPORT_QUERIES_HANDLER):  # type: ignore[attr-defined]
        view = report_disclosed(user=supervisor, report=accessed, purpose="report page")
    assert view.content.facts == FACTS
    assert view.content.child_given_name == CHILD_GIVEN
    assert view.header.reference == report.reference
    assert view.case_visible is False
    assert AuditEvent.objects.filter(object_id=str(report.pk), action="read", purpose="report page").exists()
