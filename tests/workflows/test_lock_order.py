"""One lock order (DESIGN.md invariant 10, docs/adr/0011-lock-order.md): the flow process row, then the domain rows,
then — last, for the shortest moment — the audit chain's head. Never a flow lock after an audit append.

Every name and text is fictional.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import OperationalError, connections, transaction
from viewflow.workflow.status import STATUS

from casework.models import AssessmentInput, Case, InputStatus, MembershipEndReason, TeamMembership, User
from casework.services import team_member_end
from casework.services.assessments import assessment_input_provide
from permissions import audit
from permissions.models import AuditEvent
from tests.factories.cases import add_member, open_case
from workflows import tasks
from workflows.flows import CaseFlow
from workflows.locks import LockOrderViolation

from .test_case_flow import input_task, request

TEACHER_INPUT = "Žák chodí pozdě; zkušební vstup školy 4417."


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    opened = open_case(coordinator=coordinator)
    add_member(opened, teacher, coordinator)
    return opened


# --- The rule, on any database -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_flow_lock_after_an_audit_append_in_the_same_transaction_is_refused(case: Case, coordinator: User) -> None:
    process_id = case_process_id(case)

    def write_then_lock_the_flow() -> None:
        # A bare transaction around an audited write: the write's rows are appended when its own block ends, in the
        # middle of the transaction — the shape of a flow started after an audited service in one transaction.
        with transaction.atomic():
            with audit.atomic():
                audit.record_write(coordinator, case.pk, "casework.case", case.pk, ["status"], "test lock order")
            with CaseFlow.lock(process_id):
                pass  # pragma: no cover - never reached

    with pytest.raises(LockOrderViolation):
        write_then_lock_the_flow()
    assert not AuditEvent.objects.filter(purpose="test lock order").exists()  # rolled back with the refusal


@pytest.mark.django_db(transaction=True)
def test_audit_rows_of_a_write_are_appended_when_its_transaction_ends(case: Case, coordinator: User) -> None:
    before = AuditEvent.objects.count()
    with audit.atomic():
        audit.record_write(coordinator, case.pk, "casework.case", case.pk, ["status"], "test lock order")
        # Recorded, not yet appended: the chain's head is free while the rest of the transaction runs.
        assert AuditEvent.objects.count() == before
        assert not audit.chain_head_taken()
        with CaseFlow.lock(case_process_id(case)):
            pass
    assert AuditEvent.objects.filter(purpose="test lock order").count() == 1


@pytest.mark.django_db(transaction=True)
def test_audit_rows_of_a_rolled_back_write_are_never_appended(case: Case, coordinator: User) -> None:
    class Boom(Exception):
        pass

    def failing_write() -> None:
        with audit.atomic():
            audit.record_write(coordinator, case.pk, "casework.case", case.pk, ["status"], "test rolled back")
            raise Boom

    with audit.atomic():
        with pytest.raises(Boom):
            failing_write()
        audit.record_write(coordinator, case.pk, "casework.case", case.pk, ["status"], "test kept")
    assert not AuditEvent.objects.filter(purpose="test rolled back").exists()
    assert AuditEvent.objects.filter(purpose="test kept").count() == 1


@pytest.mark.django_db(transaction=True)
def test_recording_inside_a_bare_transaction_is_a_programming_error(case: Case, coordinator: User) -> None:
    with pytest.raises(audit.AuditRecordInvalid), transaction.atomic():
        audit.record_write(coordinator, case.pk, "casework.case", case.pk, ["status"], "test bare")
    assert not AuditEvent.objects.filter(purpose="test bare").exists()


def case_process_id(case: Case) -> Any:
    from workflows.processes import CaseProcess

    return CaseProcess.objects.get(case=case).pk


# --- PostgreSQL: ending a membership while the member submits an input ----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ending_a_membership_while_the_member_submits_an_input_completes_both(
    case: Case, coordinator: User, teacher: User
) -> None:
    """Issue 16, finding 2: ``team_member_end`` appended its audit row (taking the chain's head) and then, through
    the flow's hook, waited for the case flow's lock; the member's submission held that lock and waited for the
    head. PostgreSQL broke the deadlock by failing one of them (a 500)."""
    request(case, coordinator, [teacher])
    membership = TeamMembership.objects.get(case=case, user=teacher, ended_at__isnull=True)
    task = input_task(case, teacher)
    item = CaseFlow.input_of(task)
    start = threading.Barrier(2)
    flow_locked = threading.Event()
    errors: list[BaseException] = []

    def submit() -> None:
        def work() -> None:
            flow_locked.set()
            time.sleep(0.5)  # the other side now runs up to the flow lock
            assessment_input_provide(assessment_input=item, by=teacher, text=TEACHER_INPUT)

        try:
            start.wait()
            tasks.task_complete(task=task, user=teacher, work=work, purpose="provide assessment input")
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    def end() -> None:
        try:
            start.wait()
            assert flow_locked.wait(timeout=10)
            team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.OTHER)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit), threading.Thread(target=end)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    membership.refresh_from_db()
    assert membership.ended_at is not None
    assert AssessmentInput.objects.get(pk=item.pk).status == InputStatus.PROVIDED
    task.refresh_from_db()
    assert task.status == STATUS.DONE
    purposes = set(AuditEvent.objects.filter(case_id=case.pk).values_list("purpose", flat=True))
    assert {"provide assessment input", "end membership"} <= purposes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_flow_lock_that_fails_reports_the_databases_error_without_retrying_in_the_aborted_transaction(
    case: Case,
) -> None:
    """Issue 16, finding 2: viewflow's lock retried a failed ``SELECT … FOR UPDATE`` inside the transaction the
    failure had aborted, so every retry failed with "current transaction is aborted" and the cause was lost."""
    process_id = case_process_id(case)
    held = threading.Event()
    release = threading.Event()

    def hold_the_flow() -> None:
        try:
            with transaction.atomic(), CaseFlow.lock(process_id):
                held.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    def lock_with_a_short_timeout() -> None:
        with transaction.atomic():
            with connections["default"].cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            with CaseFlow.lock(process_id):
                pass  # pragma: no cover - never reached

    holder = threading.Thread(target=hold_the_flow)
    holder.start()
    try:
        assert held.wait(timeout=10)
        started = time.monotonic()
        with pytest.raises(OperationalError) as excinfo:
            lock_with_a_short_timeout()
        assert "lock timeout" in str(excinfo.value)
        assert time.monotonic() - started < 2  # waited once, no back-off retries
    finally:
        release.set()
        holder.join()
