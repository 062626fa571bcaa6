"""The urgency triage of a report (quality standard 8) and what follows: taking it from the team queue, the decision,
the child's register entry, the case (opened or attached), closing without a case, and the notifier's feedback within
30 days — with our policy in front of every transition and a failing step rolled back whole."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.models import Case, Child, Organisation, Report, ReportStatus, User
from casework.services import report_triage
from notifications.models import Kind, Notification
from permissions import gate
from permissions.models import AuditEvent
from tests.factories import add_member, ospod_staff, school_partner
from tests.factories.cases import open_case
from tests.factories.children import register_child
from workflows import selectors, tasks
from workflows.flows import ReportFlow
from workflows.models import Deadline, DeadlineKind

from .conftest import (
    BIRTH_NUMBER,
    BORN,
    CHILD_FAMILY,
    CHILD_GIVEN,
    FACTS,
    NEIGHBOUR,
    child_identity,
    client_for,
    feedback_task,
    file_report,
    html,
    triage,
    triage_task,
)

pytestmark = pytest.mark.django_db

PRAGUE = ZoneInfo("Europe/Prague")


def _flow_tasks(report: Report) -> list[tuple[str, str]]:
    rows = Task.objects.filter(process__reportprocess__report=report).order_by("id")
    return [(t.flow_task.name, t.status) for t in rows]


def _triage_post(coordinator: User | None = None, **overrides: str) -> dict[str, str]:
    data = {
        "urgent": "standard",
        "at_risk": "yes",
        "coordinator": str(coordinator.pk) if coordinator else "",
        "close_reason": "",
        "given_name": CHILD_GIVEN,
        "family_name": CHILD_FAMILY,
        "date_of_birth": BORN.isoformat(),
        "birth_number": BIRTH_NUMBER,
        "address": "Lipová 12, 779 00 Olomouc",
    }
    data.update(overrides)
    return data


# --- The team queue: taking and giving back ------------------------------------------------------------------------


def test_a_supervisor_takes_the_triage_and_gives_it_back(teacher: User, supervisor: User) -> None:
    report = file_report(teacher)
    task = triage_task(report)
    client = client_for(supervisor)

    response = client.post(reverse("task_claim", kwargs={"task_id": task.pk}))
    assert response.status_code == 302
    assert response["Location"] == reverse("task_detail", kwargs={"task_id": task.pk})
    task.refresh_from_db()
    report.refresh_from_db()
    assert (task.owner, task.status) == (supervisor, STATUS.ASSIGNED)
    assert report.status == ReportStatus.IN_TRIAGE
    assert Deadline.objects.get(task=task).owner == supervisor
    assert [r.task_id for r in selectors.my_tasks(user=supervisor).rows] == [task.pk]
    assert selectors.team_queue(user=supervisor).rows == []

    client.post(reverse("task_unassign", kwargs={"task_id": task.pk}))
    task.refresh_from_db()
    report.refresh_from_db()
    assert (task.owner, task.status) == (None, STATUS.NEW)
    assert report.status == ReportStatus.RECEIVED
    assert Deadline.objects.get(task=task).owner is None
    assert [r.task_id for r in selectors.team_queue(user=supervisor).rows] == [task.pk]


def test_a_task_taken_a_moment_earlier_is_not_taken_twice(
    teacher: User, supervisor: User, second_supervisor: User
) -> None:
    task = triage_task(file_report(teacher))
    tasks.task_claim(task=task, user=supervisor)
    stale = triage_task(Report.objects.get())
    stale.owner_id = None  # what the second supervisor's page still showed
    with pytest.raises(ValidationError):
        tasks.task_claim(task=stale, user=second_supervisor)
    task.refresh_from_db()
    assert task.owner == supervisor


@pytest.mark.parametrize("who", ["coordinator", "teacher", "foreign_supervisor", "dpo"])
def test_who_is_not_a_supervisor_of_the_authority_cannot_take_or_complete_the_triage(
    request: pytest.FixtureRequest, teacher: User, supervisor: User, coordinator: User, who: str
) -> None:
    intruder: User = request.getfixturevalue(who)
    report = file_report(teacher)
    task = triage_task(report)
    client = client_for(intruder)
    claim = client.post(reverse("task_claim", kwargs={"task_id": task.pk}))
    page = client.get(reverse("task_detail", kwargs={"task_id": task.pk}))
    complete = client.post(reverse("task_detail", kwargs={"task_id": task.pk}), _triage_post(coordinator))
    assert (claim.status_code, page.status_code, complete.status_code) == (404, 404, 404)
    assert FACTS not in html(page)
    # Called from code, the transitions refuse too: our check, not viewflow's.
    with pytest.raises(PermissionDenied):
        tasks.task_claim(task=task, user=intruder)
    with pytest.raises(PermissionDenied):
        tasks.task_complete(task=task, user=intruder, work=lambda: None, purpose="triage report")
    denials = AuditEvent.objects.filter(
        actor=intruder, action="deny", object_type="viewflow.task", object_id=str(task.pk)
    )
    assert denials.count() == 5
    task.refresh_from_db()
    report.refresh_from_db()
    assert (task.owner, task.status, report.status) == (None, STATUS.NEW, ReportStatus.RECEIVED)


def test_a_supervisor_cannot_complete_a_triage_a_colleague_holds(
    teacher: User, supervisor: User, second_supervisor: User, coordinator: User
) -> None:
    report = file_report(teacher)
    task = triage_task(report)
    tasks.task_claim(task=task, user=supervisor)
    client = client_for(second_supervisor)
    page = client.get(reverse("task_detail", kwargs={"task_id": task.pk}))
    assert page.status_code == 200  # they may read it (they supervise the authority) …
    assert "Zaznamenat posouzení" not in html(page)  # … but the decision form is the holder's
    response = client.post(reverse("task_detail", kwargs={"task_id": task.pk}), _triage_post(coordinator))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor=second_supervisor, action="deny", object_type="viewflow.task").exists()
    report.refresh_from_db()
    assert report.status == ReportStatus.IN_TRIAGE
    assert report.case is None


# --- The triage page -----------------------------------------------------------------------------------------------


def test_the_triage_page_reads_the_report_through_the_gate(teacher: User, supervisor: User) -> None:
    report = file_report(teacher)
    task = triage_task(report)
    page = html(client_for(supervisor).get(reverse("task_detail", kwargs={"task_id": task.pk})))
    assert FACTS in page
    assert teacher.display_name() in page
    assert "Převzít posouzení" in page
    read = AuditEvent.objects.get(actor=supervisor, action="read", object_type="casework.report")
    assert read.purpose == "triage"
    assert {"facts", "notifier_name", "child_birth_number"} <= set(read.field_names)


def test_triage_at_risk_without_a_coordinator_is_a_field_error_and_nothing_changes(
    teacher: User, supervisor: User
) -> None:
    report = file_report(teacher)
    task = triage_task(report)
    client = client_for(supervisor)
    client.post(reverse("task_claim", kwargs={"task_id": task.pk}))
    response = client.post(reverse("task_detail", kwargs={"task_id": task.pk}), _triage_post(None))
    assert response.status_code == 200
    assert "coordinator" in response.context["form"].errors
    report.refresh_from_db()
    task.refresh_from_db()
    assert (report.status, report.decided_at, report.child, report.case) == (ReportStatus.IN_TRIAGE, None, None, None)
    assert task.status == STATUS.ASSIGNED
    assert Child.objects.count() == 0
    assert Case.objects.count() == 0


def test_triage_needs_the_urgency_and_the_risk_decision(teacher: User, supervisor: User, coordinator: User) -> None:
    report = file_report(teacher)
    task = triage_task(report)
    client = client_for(supervisor)
    client.post(reverse("task_claim", kwargs={"task_id": task.pk}))
    response = client.post(
        reverse("task_detail", kwargs={"task_id": task.pk}), _triage_post(coordinator, urgent="", at_risk="")
    )
    assert {"urgent", "at_risk"} <= set(response.context["form"].errors)
    closing = client.post(reverse("task_detail", kwargs={"task_id": task.pk}), _triage_post(None, at_risk="no"))
    assert "close_reason" in closing.context["form"].errors
    assert Report.objects.get().status == ReportStatus.IN_TRIAGE


# --- Outcome: a case -----------------------------------------------------------------------------------------------


def test_at_risk_opens_the_case_with_the_chosen_coordinator_and_registers_the_child(
    teacher: User, supervisor: User, coordinator: User
) -> None:
    report = file_report(teacher)
    task = triage_task(report)
    client = client_for(supervisor)
    client.post(reverse("task_claim", kwargs={"task_id": task.pk}))
    response = client.post(reverse("task_detail", kwargs={"task_id": task.pk}), _triage_post(coordinator))

    report.refresh_from_db()
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", kwargs={"case_id": case.pk})
    assert (report.status, report.case, report.at_risk, report.urgent) == (ReportStatus.CASE_OPENED, case, True, False)
    assert report.decided_by == supervisor
    assert case.coordinator == coordinator
    assert case.open_reason == "report"
    assert case.child == report.child
    identity = gate.read(coordinator, case.child, ["given_name", "family_name"], purpose="test")
    assert (identity.get("given_name"), identity.get("family_name")) == (CHILD_GIVEN, CHILD_FAMILY)
    assert Notification.objects.filter(recipient=coordinator, kind=Kind.CASE_ASSIGNED, case_id=case.pk).exists()
    assert _flow_tasks(report) == [
        ("start", STATUS.DONE),
        ("triage", STATUS.DONE),
        ("child_at_risk", STATUS.DONE),
        ("open_case", STATUS.DONE),
        ("feedback_asked", STATUS.DONE),
        ("end", STATUS.DONE),
    ]
    assert Deadline.objects.get(task=task).done_at is not None


def test_a_retried_triage_post_goes_to_the_case_without_a_denial(
    teacher: User, supervisor: User, coordinator: User
) -> None:
    """Issue 16, finding 11: the triage committed but its response was lost, so the browser posts it again."""
    report = file_report(teacher)
    task = triage_task(report)
    client = client_for(supervisor)
    client.post(reverse("task_claim", kwargs={"task_id": task.pk}))
    client.post(reverse("task_detail", kwargs={"task_id": task.pk}), _triage_post(coordinator))
    case = Case.objects.get()

    retry = client.post(reverse("task_detail", kwargs={"task_id": task.pk}), _triage_post(coordinator), follow=True)

    assert retry.redirect_chain[0] == (reverse("case_detail", kwargs={"case_id": case.pk}), 302)
    with translation.override("cs"):  # the page's language; English until the catalogue has it
        assert gettext("You have already completed this task.") in html(retry)
    assert not AuditEvent.objects.filter(actor=supervisor, outcome="denied").exists()
    assert Case.objects.count() == 1
    reopened = client.get(reverse("task_detail", kwargs={"task_id": task.pk}))
    assert reopened["Location"] == reverse("case_detail", kwargs={"case_id": case.pk})
    assert not AuditEvent.objects.filter(actor=supervisor, outcome="denied").exists()


def test_a_completed_triage_is_a_404_and_an_audited_refusal_for_anyone_else(
    teacher: User, supervisor: User, second_supervisor: User, coordinator: User
) -> None:
    report = file_report(teacher)
    task = triage(report, supervisor, coordinator=coordinator)
    for method in ("get", "post"):
        response = getattr(client_for(second_supervisor), method)(
            reverse("task_detail", kwargs={"task_id": task.pk}), _triage_post(coordinator)
        )
        assert response.status_code == 404
    denials = AuditEvent.objects.filter(
        actor=second_supervisor, outcome="denied", object_type="viewflow.task", object_id=str(task.pk)
    )
    assert denials.count() == 2
    assert Case.objects.count() == 1


def test_the_child_is_matched_by_birth_number_when_registered(
    teacher: User, supervisor: User, coordinator: User
) -> None:
    registered = register_child(by=coordinator, born=BORN, birth_number=BIRTH_NUMBER, given_name="Vítek")
    report = file_report(teacher)
    triage(report, supervisor, coordinator=coordinator, child=child_identity(given_name="Překlep", address=""))
    assert report.child == registered
    assert Child.objects.count() == 1
    assert report.case is not None
    assert report.case.child == registered


def test_a_child_with_an_open_case_gets_the_report_attached(
    teacher: User, supervisor: User, coordinator: User, ospod: Organisation
) -> None:
    child = register_child(by=coordinator, born=BORN, birth_number=BIRTH_NUMBER)
    existing = open_case(coordinator=coordinator, child=child)
    other = ospod_staff(ospod)
    report = file_report(teacher)
    triage(report, supervisor, coordinator=other)
    assert (report.status, report.case) == (ReportStatus.ATTACHED, existing)
    assert Case.objects.count() == 1
    existing.refresh_from_db()
    assert existing.coordinator == coordinator  # attaching hands nothing over
    told = Notification.objects.get(recipient=coordinator, kind=Kind.REPORT_RECEIVED)
    assert told.case_reference == existing.reference


def test_the_notifiers_identity_never_reaches_a_partners_case_page(
    supervisor: User, coordinator: User, olomouc: object
) -> None:
    report = file_report(
        coordinator, channel="phone", notifier_kind="other_person", notifier_name=NEIGHBOUR, notifier_contact="777"
    )
    triage(report, supervisor, coordinator=coordinator)
    case = report.case
    assert case is not None
    member = school_partner(municipality=olomouc)
    add_member(case, member, coordinator)
    page = html(client_for(member).get(reverse("case_detail", kwargs={"case_id": case.pk})))
    assert CHILD_GIVEN in page  # the case basics …
    assert NEIGHBOUR not in page  # … never the notifier
    assert FACTS not in page
    coordinator_page = html(client_for(coordinator).get(reverse("case_detail", kwargs={"case_id": case.pk})))
    assert NEIGHBOUR not in coordinator_page  # the report stays apart from the file; its own page has it
    report_page = client_for(coordinator).get(reverse("report_detail", kwargs={"report_id": report.pk}))
    assert NEIGHBOUR in html(report_page)
    assert client_for(member).get(reverse("report_detail", kwargs={"report_id": report.pk})).status_code == 404


# --- Outcome: closed without a case; the feedback --------------------------------------------------------------


def test_not_at_risk_closes_with_a_reason_and_the_feedback_goes_to_the_triaging_supervisor(
    teacher: User, supervisor: User
) -> None:
    report = file_report(teacher, feedback_requested=True)
    triage(report, supervisor, at_risk=False, close_reason="not_at_risk")
    assert (report.status, report.close_reason, report.case, report.child) == (
        ReportStatus.CLOSED,
        "not_at_risk",
        None,
        None,
    )
    assert Child.objects.count() == 0
    task = feedback_task(report)
    assert (task.owner, task.status) == (supervisor, STATUS.ASSIGNED)
    assert [r.task_id for r in selectors.my_tasks(user=supervisor).rows] == [task.pk]
    deadline = Deadline.objects.get(task=task)
    assert (deadline.kind, deadline.owner, deadline.case) == (DeadlineKind.FEEDBACK, supervisor, None)


def test_no_feedback_task_when_none_was_asked_for(teacher: User, supervisor: User) -> None:
    report = file_report(teacher)
    triage(report, supervisor, at_risk=False, close_reason="not_at_risk")
    assert not Task.objects.filter(flow_task=ReportFlow.send_feedback).exists()
    assert _flow_tasks(report)[-1] == ("end", STATUS.DONE)


def test_feedback_is_due_30_days_after_receipt(teacher: User, supervisor: User, coordinator: User) -> None:
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PRAGUE), tick=False):
        report = file_report(teacher, feedback_requested=True)
    with time_machine.travel(datetime.datetime(2026, 3, 4, 9, 0, tzinfo=PRAGUE), tick=False):
        triage(report, supervisor, coordinator=coordinator)
    task = feedback_task(report)
    assert task.owner == coordinator  # the coordinator of the case it led to
    deadline = Deadline.objects.get(task=task)
    # 30 days after 2 March is Wednesday 1 April: a working day, due at its end.
    assert deadline.due_at == datetime.datetime(2026, 4, 1, 23, 59, 59, 999999, tzinfo=PRAGUE)
    assert deadline.case == report.case
    assert Notification.objects.filter(recipient=coordinator, kind=Kind.TASK_ASSIGNED).exists()


def test_the_coordinator_sends_the_feedback_and_the_partner_learns_only_the_answer(
    teacher: User, supervisor: User, coordinator: User
) -> None:
    report = file_report(teacher, feedback_requested=True)
    triage(report, supervisor, coordinator=coordinator)
    task = feedback_task(report)
    client = client_for(coordinator)
    page = html(client.get(reverse("task_detail", kwargs={"task_id": task.pk})))
    assert teacher.display_name() in page  # where to send it
    assert FACTS not in page  # nothing more than the feedback needs
    assert "OSPOD vyhodnotil dítě jako dítě" in page
    assert client.post(reverse("task_detail", kwargs={"task_id": task.pk}), {}).status_code == 200  # not confirmed
    response = client.post(reverse("task_detail", kwargs={"task_id": task.pk}), {"confirm": "on"})
    assert response.status_code == 302
    report.refresh_from_db()
    task.refresh_from_db()
    assert (report.feedback_sent_by, task.status) == (coordinator, STATUS.DONE)
    assert report.feedback_sent_at is not None
    assert Deadline.objects.get(task=task).done_at is not None
    assert _flow_tasks(report)[-1] == ("end", STATUS.DONE)
    listing = html(client_for(teacher).get(reverse("report_list")))
    assert "OSPOD vyhodnotil dítě jako dítě" in listing
    assert CHILD_GIVEN not in listing
    assert report.case is not None
    assert report.case.reference not in listing


def test_a_retried_feedback_post_goes_to_the_inbox_and_is_recorded_once(
    teacher: User, supervisor: User, coordinator: User
) -> None:
    report = file_report(teacher, feedback_requested=True)
    triage(report, supervisor, coordinator=coordinator)
    task = feedback_task(report)
    client = client_for(coordinator)
    assert client.post(reverse("task_detail", kwargs={"task_id": task.pk}), {"confirm": "on"}).status_code == 302
    report.refresh_from_db()
    sent_at = report.feedback_sent_at

    retry = client.post(reverse("task_detail", kwargs={"task_id": task.pk}), {"confirm": "on"})

    assert (retry.status_code, retry["Location"]) == (302, reverse("inbox"))
    assert not AuditEvent.objects.filter(actor=coordinator, outcome="denied").exists()
    report.refresh_from_db()
    assert report.feedback_sent_at == sent_at


def test_only_the_holder_records_the_feedback(teacher: User, supervisor: User, coordinator: User) -> None:
    report = file_report(teacher, feedback_requested=True)
    triage(report, supervisor, coordinator=coordinator)
    task = feedback_task(report)
    refused = client_for(supervisor).post(reverse("task_detail", kwargs={"task_id": task.pk}), {"confirm": "on"})
    assert refused.status_code == 403
    assert client_for(teacher).get(reverse("task_detail", kwargs={"task_id": task.pk})).status_code == 404
    report.refresh_from_db()
    assert report.feedback_sent_at is None


# --- A failing step rolls back whole --------------------------------------------------------------------------------


def test_a_failing_case_step_leaves_report_child_case_and_task_unchanged(
    teacher: User, supervisor: User, coordinator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = file_report(teacher, feedback_requested=True)
    task = triage_task(report)
    tasks.task_claim(task=task, user=supervisor)
    task.refresh_from_db()
    audit_rows = AuditEvent.objects.count()
    notifications = Notification.objects.count()

    def broken(**kwargs: object) -> Case:
        raise RuntimeError("the case could not be opened")

    monkeypatch.setattr("casework.services.reports.case_open", broken)
    with pytest.raises(RuntimeError):
        tasks.task_complete(
            task=task,
            user=supervisor,
            work=lambda: report_triage(
                report=report,
                decided_by=supervisor,
                urgent=True,
                at_risk=True,
                coordinator=coordinator,
                child=child_identity(),
            ),
            purpose="triage report",
        )
    report.refresh_from_db()
    task.refresh_from_db()
    assert (report.status, report.urgent, report.at_risk, report.decided_at, report.child, report.case) == (
        ReportStatus.IN_TRIAGE,
        None,
        None,
        None,
        None,
        None,
    )
    assert Child.objects.count() == 0
    assert Case.objects.count() == 0
    assert (task.status, task.owner, task.finished) == (STATUS.ASSIGNED, supervisor, None)
    assert _flow_tasks(report) == [("start", STATUS.DONE), ("triage", STATUS.ASSIGNED)]
    assert Deadline.objects.get(task=task).done_at is None
    assert AuditEvent.objects.count() == audit_rows  # the triage's write rows went with it
    assert Notification.objects.count() == notifications

    monkeypatch.undo()
    triage(report, supervisor, coordinator=coordinator)  # the same task completes once the fault is gone
    assert report.status == ReportStatus.CASE_OPENED
