"""One case from the report to the approved plan, step by step as the pages drive it, and what it costs.

Two measures for ``make bench`` (issue 20), both returning plain dicts:

* :func:`measure_case_statements` — the SQL statements of one case, report → approved plan (``case_statements``),
  with the SAVEPOINT/RELEASE share, how often the case and report rows are read, and the count per step.
* :func:`measure_audit_lock_hold` — how long the audit chain's head row is held (from the statement that locks it to
  the end of the COMMIT that releases it) as a share of the steps' time (``audit_lock_hold_share``).

Each step is what a page's POST runs after its reads: the service call inside ``workflows.tasks`` (claim, complete)
or the service itself, with the same arguments the forms pass. Call them with Django set up and a migrated database
(the bench's throw-away database, or a transactional test); they make their own cast of fictional people, under
unique names, so several calls can share one database.
"""

from __future__ import annotations

import datetime
import itertools
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: The steps of one case, in order, as the pages drive them.
STEPS = (
    "file_report",
    "take_triage",
    "triage",
    "add_member",
    "request_inputs",
    "provide_input",
    "write_assessment",
    "save_plan",
    "submit_plan",
    "take_approval",
    "approve_plan",
)

#: The product's side of the five core steps of ``bench.baselines.BareFlow`` (start, triage, split, input, join,
#: assessment): filing starts the flow; the triage is taken from the queue and completed (the bare flow assigns in
#: the same transaction); asking for inputs is the split; the input closes the join; the assessment.
CORE_STEPS = ("file_report", "take_triage", "triage", "request_inputs", "provide_input", "write_assessment")

_birth_serials = itertools.count(201)


@dataclass(frozen=True)
class Cast:
    """The people of one authority: a supervisor who triages and approves, a coordinator, a teacher who reports."""

    supervisor: Any
    coordinator: Any
    teacher: Any


def make_cast(tag: str | None = None) -> Cast:
    """A fictional authority with its staff and a school, under names no other cast uses."""
    from casework.models import Municipality, Organisation, Role, Sector, User

    tag = tag or uuid.uuid4().hex[:8]
    municipality = Municipality.objects.get_or_create(code="OM", defaults={"name": "Olomouc"})[0]
    ospod = Organisation.objects.create(name=f"OSPOD {tag}", sector=Sector.OSPOD, municipality=municipality)
    school = Organisation.objects.create(name=f"ZŠ {tag}", sector=Sector.SCHOOL, municipality=municipality)

    def person(name: str, role: str, organisation: Any) -> Any:
        return User.objects.create(
            username=f"{name}-{tag}", first_name="Alena", last_name="Zkušební", role=role, organisation=organisation
        )

    return Cast(
        supervisor=person("vedouci", Role.SUPERVISOR, ospod),
        coordinator=person("koord", Role.OSPOD_WORKER, ospod),
        teacher=person("ucitelka", Role.PARTNER, school),
    )


def _open_task(node: Any, **where: Any) -> Any:
    from viewflow.workflow.models import Task

    from workflows.tasks import OPEN_STATUSES

    return Task.objects.get(flow_task=node, status__in=OPEN_STATUSES, **where)


def case_steps(cast: Cast) -> Iterator[tuple[str, Callable[[], object]]]:
    """The steps of one case as (name, call) pairs, in order; each call reads what the previous ones wrote."""
    from casework.models import Case, Report, TeamRole
    from casework.services import (
        ChildIdentity,
        ReportDetails,
        report_triage,
        team_member_add,
        team_roles_ensure_defaults,
    )
    from casework.services.assessments import (
        InputRequest,
        assessment_input_provide,
        assessment_inputs_request,
        assessment_write,
    )
    from casework.services.plans import plan_approve, plan_in_work, plan_save, plan_submit
    from tests.factories.children import synthetic_birth_number
    from workflows import tasks
    from workflows.flows import CaseFlow, ReportFlow, report_receive

    born = datetime.date(2015, 5, 5)
    while True:
        try:
            birth_number = synthetic_birth_number(born, serial=next(_birth_serials) % 1000)
            break
        except ValueError:  # this serial needs the pre-1986 check-digit exception: take the next
            continue
    given, family, address = "Vít", "Zkušebný", "Lipová 12, 779 00 Olomouc"
    supervisor, coordinator, teacher = cast.supervisor, cast.coordinator, cast.teacher
    state: dict[str, Any] = {}

    def file_report() -> None:
        state["report"] = report_receive(
            filed_by=teacher,
            details=ReportDetails(
                facts="Vít chodí do školy hladový; zkušební oznámení.",
                child_given_name=given,
                child_family_name=family,
                child_date_of_birth=born,
                child_birth_number=birth_number,
                child_address=address,
            ),
        )

    def report_task(node: Any) -> Any:
        return _open_task(node, process__reportprocess__report=state["report"])

    def case_task(node: Any, **where: Any) -> Any:
        return _open_task(node, process__caseprocess__case=state["case"], **where)

    def take_triage() -> None:
        tasks.task_claim(task=report_task(ReportFlow.triage), user=supervisor)

    def triage() -> None:
        report = state["report"]
        tasks.task_complete(
            task=report_task(ReportFlow.triage),
            user=supervisor,
            work=lambda: report_triage(
                report=report,
                decided_by=supervisor,
                urgent=False,
                at_risk=True,
                coordinator=coordinator,
                child=ChildIdentity(
                    given_name=given,
                    family_name=family,
                    date_of_birth=born,
                    birth_number=birth_number,
                    address=address,
                ),
            ),
            purpose="triage report",
        )
        # The case the triage opened (one query; the page redirects instead of reading it).
        state["case"] = Case.objects.get(pk=Report.objects.filter(pk=report.pk).values("case_id")[:1])

    def add_member() -> None:
        role = TeamRole.objects.filter(name_cs="třídní učitel/ka").first()
        if role is None:
            team_roles_ensure_defaults()
            role = TeamRole.objects.get(name_cs="třídní učitel/ka")
        team_member_add(
            case=state["case"], user=teacher, team_role=role, valid_from=None, valid_until=None, added_by=coordinator
        )

    def request_inputs() -> None:
        task = case_task(CaseFlow.request_inputs)
        case = CaseFlow.case_of(task)  # as the page: the task's case (its authority with it), read once for both
        due = datetime.date.today() + datetime.timedelta(days=14)
        tasks.task_complete(
            task=task,
            user=coordinator,
            work=lambda: assessment_inputs_request(
                case=case, by=coordinator, requests=[InputRequest(member=teacher, due_on=due)]
            ),
            purpose="request assessment inputs",
        )

    def provide_input() -> None:
        task = case_task(CaseFlow.provide_input, owner=teacher)
        tasks.task_complete(
            task=task,
            user=teacher,
            work=lambda: assessment_input_provide(
                assessment_input=CaseFlow.input_of(task), by=teacher, text="Žák chodí pozdě; zkušební vstup."
            ),
            purpose="provide assessment input",
        )

    def write_assessment() -> None:
        task = case_task(CaseFlow.write_assessment)
        case = CaseFlow.case_of(task)  # as the page
        tasks.task_complete(
            task=task,
            user=coordinator,
            work=lambda: assessment_write(
                case=case,
                by=coordinator,
                child_needs="Pravidelná strava.",
                parenting_capacity="Matka se snaží.",
                family_environment="Malý byt.",
                child_views="Chce zůstat doma.",
            ),
            purpose="write assessment",
        )

    def save_plan() -> None:
        plan = plan_in_work(state["case"])
        assert plan is not None
        state["plan"] = plan
        plan_save(
            plan=plan,
            by=coordinator,
            goals=["Vít chodí do školy každý den.", "Rodina spolupracuje se SAS."],
            support_offered="SAS dvakrát týdně",
            child_views="Chce bydlet doma.",
            parents_views="Matka souhlasí.",
            next_review_on=None,
        )

    def submit_plan() -> None:
        plan = state["plan"]
        tasks.task_complete(
            task=case_task(CaseFlow.draft_plan),
            user=coordinator,
            work=lambda: plan_submit(plan=plan, by=coordinator),
            purpose="submit plan",
        )

    def take_approval() -> None:
        tasks.task_claim(task=case_task(CaseFlow.approve_plan), user=supervisor)

    def approve_plan() -> None:
        plan = plan_in_work(state["case"])
        assert plan is not None
        review_on = datetime.date.today() + datetime.timedelta(days=180)
        tasks.task_complete(
            task=case_task(CaseFlow.approve_plan),
            user=supervisor,
            work=lambda: plan_approve(plan=plan, by=supervisor, next_review_on=review_on),
            purpose="decide plan",
        )

    steps = {
        "file_report": file_report,
        "take_triage": take_triage,
        "triage": triage,
        "add_member": add_member,
        "request_inputs": request_inputs,
        "provide_input": provide_input,
        "write_assessment": write_assessment,
        "save_plan": save_plan,
        "submit_plan": submit_plan,
        "take_approval": take_approval,
        "approve_plan": approve_plan,
    }
    for name in STEPS:
        yield name, steps[name]


# --- Statements ---------------------------------------------------------------------------------------------------

_SAVEPOINT = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.I)
_FROM = re.compile(r'\bFROM\s+"?(\w+)"?', re.I)


def _case_statements(cast: Cast) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    per_step: dict[str, int] = {}
    statements: list[str] = []
    for name, step in case_steps(cast):
        with CaptureQueriesContext(connection) as captured:
            step()
        per_step[name] = len(captured.captured_queries)
        statements.extend(query["sql"] for query in captured.captured_queries)
    reads = Counter(
        match.group(1)
        for sql in statements
        if sql.lstrip().upper().startswith("SELECT")
        for match in [_FROM.search(sql)]
        if match
    )
    return {
        "case_statements": len(statements),
        "case_savepoint_statements": sum(1 for sql in statements if _SAVEPOINT.match(sql)),
        "case_row_reads": reads.get("casework_case", 0),
        "report_row_reads": reads.get("casework_report", 0),
        "case_statements_by_step": per_step,
        "core_step_statements": sum(per_step[name] for name in CORE_STEPS),
    }


def measure_case_statements(cast: Cast | None = None) -> dict[str, Any]:
    """Statements of one case from the report to the approved plan (``case_statements``, goal ≤ 250) and their parts.

    Counted as Django sees them (``CaptureQueriesContext``): every SELECT/INSERT/UPDATE and SAVEPOINT/RELEASE; the
    BEGIN and COMMIT of each transaction are not statements Django sends as SQL and are not counted. A first case
    warms the caches (content types, team roles) and is not counted.
    """
    from django.db import connection

    cast = cast or make_cast()
    for _name, step in case_steps(cast):  # warm-up case
        step()
    result = _case_statements(cast)
    result["database"] = connection.vendor
    return result


# --- The audit head's lock ----------------------------------------------------------------------------------------


class _HeadWatch:
    """Times how long this connection holds the audit chain's head row: from the first statement of a transaction
    that touches ``permissions_auditchainhead`` (the lock) to the end of that transaction's COMMIT or ROLLBACK.

    The append's statements are, in order: the deferred constraint checks (PostgreSQL's ``SET CONSTRAINTS ALL
    IMMEDIATE``, which names no table and is not counted: it runs before the lock), the head's ``SELECT … FOR UPDATE``
    (the hold starts as it is sent), the rows' INSERT with the head's UPDATE (one statement), then COMMIT (the hold
    ends when it returns). So the figure is the real hold plus half a round trip, never the checks before it."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.taken_at: float | None = None
        self.held = 0.0
        self.holds = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.taken_at is None and "permissions_auditchainhead" in sql:
            self.taken_at = time.perf_counter()
        return execute(sql, params, many, context)

    def _released(self) -> None:
        if self.taken_at is not None:
            self.held += time.perf_counter() - self.taken_at
            self.holds += 1
            self.taken_at = None

    @contextmanager
    def watching(self) -> Iterator[_HeadWatch]:
        connection = self.connection
        commit, rollback = connection.commit, connection.rollback

        def timed_commit() -> None:
            try:
                commit()
            finally:
                self._released()

        def timed_rollback() -> None:
            try:
                rollback()
            finally:
                self._released()

        connection.commit, connection.rollback = timed_commit, timed_rollback
        try:
            with connection.execute_wrapper(self):
                yield self
        finally:
            del connection.commit, connection.rollback


def measure_audit_lock_hold(cases: int = 3, cast: Cast | None = None) -> dict[str, Any]:
    """The share of the steps' time during which the audit chain's head row is held (``audit_lock_hold_share``,
    goal ≤ 0.10), over ``cases`` cases from the report to the approved plan (one warm-up case first).

    Held = from the statement that locks the head to the end of the COMMIT that frees it, per transaction; step time
    = the wall time of each step as its page would run it. Meaningful on PostgreSQL (row locks); on SQLite every
    write transaction holds the whole database anyway and the figure only shows where the append sits.
    """
    from django.db import connection

    cast = cast or make_cast()
    for _name, step in case_steps(cast):  # warm-up case
        step()
    watch = _HeadWatch(connection)
    step_seconds = 0.0
    per_step_held: dict[str, float] = dict.fromkeys(STEPS, 0.0)
    per_step_time: dict[str, float] = dict.fromkeys(STEPS, 0.0)
    with watch.watching():
        for _case in range(cases):
            for name, step in case_steps(cast):
                held_before = watch.held
                start = time.perf_counter()
                step()
                elapsed = time.perf_counter() - start
                step_seconds += elapsed
                per_step_time[name] += elapsed
                per_step_held[name] += watch.held - held_before
    return {
        "audit_lock_hold_share": round(watch.held / step_seconds, 4) if step_seconds else 0.0,
        "audit_lock_hold_ms_per_case": round(watch.held * 1000 / cases, 3),
        "case_ms": round(step_seconds * 1000 / cases, 3),
        "audit_head_holds_per_case": watch.holds / cases,
        "audit_lock_hold_share_by_step": {
            name: round(per_step_held[name] / per_step_time[name], 4) for name in STEPS if per_step_time[name]
        },
        "database": connection.vendor,
    }
