"""The inbox's lists, filtered in SQL with one query each whatever their length (DESIGN invariant 8).

viewflow's ``Task`` table with ours: the process's report (its reference, urgency and case) or, for the case
flow, the process's case — looked up by the process's key per row shown — and the task's ``Deadline`` (a task
without a due date sorts after those with one). Both lists page by key (``casework.paging``, 50 rows); the team
queue is read from its open, unowned deadlines (docs/adr/0023-flat-queries-and-keyset-pages.md). viewflow's own
``user_queue`` and inbox are not used: they load generic permission rows and know nothing of authorities, cases or
reports (STACK.md).

* **My tasks** — open tasks assigned to the user (a team member's only while the membership is valid now).
* **Team queue** — unassigned tasks the user may take: for supervisors, the triage of their authority's reports (the
  rule of ``permissions.access.triageable_reports``, the same as ``ReportAccess.may_triage``) and the approvals of
  plans and closures; for a member of a case's team, the plan actions owned by their organisation on that case.

Rows carry ids, titles, references and dates; the child's name and age beside the case reference are added by
:func:`with_child_labels`, read through the gate (``casework.selectors.child_labels``) for the viewers whose policy
allows the case basics — never a notifier's name.
"""

from __future__ import annotations

import datetime
import operator
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import reduce
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    UUIDField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.functional import Promise
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from casework import paging
from casework.case_file_sources import OpenTaskRow, OpenTasks
from casework.models import (
    ActionStatus,
    CaseStatus,
    ClosureRequest,
    ClosureStatus,
    Plan,
    PlanStatus,
    Report,
    TeamMembership,
    User,
)
from casework.selectors.child_labels import ChildLabel, child_labels
from permissions.access import is_on_duty, triageable_reports
from permissions.policy import TEAM_ROLES, Subject
from workflows.flows import ActionFlow, CaseFlow, ClosureFlow, ReportFlow
from workflows.graph import queue_task_types, task_type_of, task_types
from workflows.models import Deadline, DeadlineKind
from workflows.processes import ActionProcess, CaseProcess, ClosureProcess, ReportProcess

#: Task types the inbox filters by: a slug in the URL → the flow node, as each human node declares it.
TASK_TYPES = task_types()
_QUEUE_TYPES = queue_task_types()
_REPORT = "process__reportprocess__report"
_CASE = "process__caseprocess__case"
_CLOSURE_CASE = "process__closureprocess__request__case"
_ACTION = "process__actionprocess__action"
_ACTION_CASE = f"{_ACTION}__plan__case"


@dataclass(frozen=True)
class InboxRow:
    task_id: int
    task_type: str
    title: str | Promise
    created: datetime.datetime
    status: str
    due_at: datetime.datetime | None
    overdue: bool
    #: The report's number; the case's reference when the report led to one.
    report_reference: str | None
    case_id: uuid.UUID | None
    case_reference: str | None
    urgent: bool
    #: The child's name and age (``with_child_labels``); None when the viewer may not read the case basics.
    child: ChildLabel | None = None


@dataclass(frozen=True)
class InboxList:
    """One page of a task list (``PAGE_SIZE`` rows, paged by key: ``casework.paging``)."""

    rows: list[InboxRow]
    #: More rows exist after these: the next page starts after the cursor ``next_after``.
    truncated: bool
    next_after: str | None = None


#: "My tasks"' cursor: (due, created, id) — the dated tasks are ordered by (due, id) (``created`` rides along unused),
#: the undated ones, after them, by (created, id) with ``n`` for the missing due date.
_CURSOR_KINDS = (datetime.datetime, datetime.datetime, int)
_CURSOR_NULLABLE = (True, False, False)


def _of_process(process: type[Process], path: str) -> Subquery:
    """``path`` of the task's process of type ``process`` (NULL for a task of another flow): a look-up by the
    process's key. Correlated look-ups instead of one LEFT JOIN per flow keep the statement small to plan — the
    thirteen-table join of every flow's rows cost more to plan than to run."""
    return Subquery(process.objects.filter(pk=OuterRef("process_id")).order_by().values(path)[:1])


def _process_is(process: type[Process], rule: Q, *, excluding: Q | None = None) -> IsNull:
    """The task's process is a ``process`` whose own rows satisfy ``rule`` (and not ``excluding``).

    A scalar look-up (``(SELECT id … LIMIT 1) IS NOT NULL``), not ``EXISTS``: under the queue's ``OR`` PostgreSQL
    may turn an ``EXISTS`` into a hashed subplan that lists every report or case of the authority first, which is
    the growth this selector avoids. A scalar subquery runs for the few rows the deadlines lead to."""
    rows = process.objects.filter(rule, pk=OuterRef("process_id"))
    if excluding is not None:
        rows = rows.exclude(excluding)
    return IsNull(Subquery(rows.order_by().values("pk")[:1]), False)


#: The team queue's order: its deadline's due date, then the task's id — the columns of the partial indexes it is
#: read from (``deadline_queue_*``, ending in ``task_id``), so the index's order IS the list's order and the database
#: stops after a page. A cursor of the older three-part shape does not parse here: it starts at the first page.
_QUEUE_CURSOR_KINDS = (datetime.datetime, int)
_QUEUE_ORDER = (("due", False), ("id", False))


_ROW_VALUES = (
    "id",
    "flow_task",
    "created",
    "status",
    "due",
    "report_reference",
    "report_urgent",
    "report_urgent_suggested",
    "report_case_id",
    "report_case_reference",
)


def _shown(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """What a row shows beside the task's own columns (looked up by the process's key, per row shown)."""
    return queryset.annotate(
        report_reference=_of_process(ReportProcess, "report__reference"),
        report_urgent=_of_process(ReportProcess, "report__urgent"),
        report_urgent_suggested=_of_process(ReportProcess, "report__urgent_suggested"),
        report_case_id=Coalesce(
            _of_process(CaseProcess, "case_id"),
            _of_process(ClosureProcess, "request__case_id"),
            _of_process(ActionProcess, "action__plan__case_id"),
            _of_process(ReportProcess, "report__case_id"),
            output_field=UUIDField(),  # converted from SQLite's text like the case's own key
        ),
        report_case_reference=Coalesce(
            _of_process(CaseProcess, "case__reference"),
            _of_process(ClosureProcess, "request__case__reference"),
            _of_process(ActionProcess, "action__plan__case__reference"),
            _of_process(ReportProcess, "report__case__reference"),
        ),
    )


def _page(values: list[dict[str, Any]], limit: int, *, cursor: Callable[[InboxRow], str]) -> InboxList:
    """``limit`` of the ``limit + 1`` fetched rows (in the list's order) as a page; the extra one says there is more."""
    now = timezone.now()
    rows = [
        InboxRow(
            task_id=v["id"],
            task_type=task_type_of(v["flow_task"]),
            title=v["flow_task"].task_title if v["flow_task"] is not None else "",
            created=v["created"],
            status=v["status"],
            due_at=v["due"],
            overdue=v["due"] is not None and v["due"] < now,
            report_reference=v["report_reference"],
            case_id=v["report_case_id"],
            case_reference=v["report_case_reference"],
            urgent=bool(v["report_urgent"] if v["report_urgent"] is not None else v["report_urgent_suggested"]),
        )
        for v in values[:limit]
    ]
    more = len(values) > limit and bool(rows)
    return InboxList(rows=rows, truncated=more, next_after=cursor(rows[-1]) if more else None)


def _rows(queryset: QuerySet[Any], limit: int, *, due: Expression | F | Subquery, after: str = "") -> InboxList:
    """A page of the team queue's tasks: ``limit`` rows after the cursor ``after``, with what a row shows. One query.

    ``due``: the column of the deadline the queue is read from (every row has one). Ordered by (due, task id) only —
    the queue's index order (``_QUEUE_ORDER``)."""
    queryset = queryset.annotate(due=due)
    queue_key = paging.parse_cursor(after, _QUEUE_CURSOR_KINDS)
    if queue_key is not None:
        queryset = queryset.filter(paging.after(_QUEUE_ORDER, queue_key))
    values = list(_shown(queryset).order_by("due", "id").values(*_ROW_VALUES)[: limit + 1])
    return _page(values, limit, cursor=lambda last: paging.cursor_for((last.due_at, last.task_id)))


def with_child_labels(*, user: User, lists: Sequence[InboxList], purpose: str) -> list[InboxList]:
    """``lists`` with the child's label on each row of a case whose basics ``user`` may read: one batched gate read
    for all of them (``child_labels``), so the page's query count does not grow with its rows."""
    labels = child_labels(user=user, case_ids=(row.case_id for found in lists for row in found.rows), purpose=purpose)
    return [
        InboxList(
            rows=[replace(row, child=labels.get(row.case_id)) if row.case_id in labels else row for row in found.rows],
            truncated=found.truncated,
            next_after=found.next_after,
        )
        for found in lists
    ]


def _of_type(queryset: QuerySet[Any], task_type: str) -> QuerySet[Any]:
    node = TASK_TYPES.get(task_type)
    return queryset.filter(flow_task=node) if node is not None else queryset


def _held_as_member_on_team(user: User) -> Q:
    """Excludes the member tasks of cases where ``user``'s membership is no longer valid now (DESIGN invariant 5):
    nothing happens when a last day passes, so the list's own query asks — a subquery, not another query. Tasks a
    user holds as a member of a case's team: an input to the assessment, an action of the plan."""
    on_team = TeamMembership.objects.current().filter(user=user).values("case_id")
    return (
        ~Q(flow_task__in=[CaseFlow.provide_input, ActionFlow.do_action])
        | (Q(flow_task=CaseFlow.provide_input) & Q(_process_is(CaseProcess, Q(case_id__in=on_team))))
        | (Q(flow_task=ActionFlow.do_action) & Q(_process_is(ActionProcess, Q(action__plan__case_id__in=on_team))))
    )


#: A task's open due date, looked up by the task's id (the deadline's unique ``task_id``) among its holder's open
#: deadlines (a deadline follows its task's owner: ``workflows.services.deadlines.deadline_follow_task``): a task
#: without one has none. Used where the database cannot read the two halves of the list in one statement (SQLite).
_OPEN_DUE = Subquery(
    Deadline.objects.filter(task=OuterRef("pk"), owner=OuterRef("owner_id"), done_at__isnull=True).values("due_at")[:1]
)


def my_tasks(*, user: User, task_type: str = "", limit: int = paging.PAGE_SIZE, after: str = "") -> InboxList:
    """Open tasks assigned to ``user``, soonest due first, then those without a due date (oldest first); a team
    member's tasks only while their membership is valid now. One query, one page (``after``: the previous page's
    cursor, (due, created, id) — ``created`` only for the tasks without a due date).

    Two halves in one statement: the tasks with an open deadline of theirs, read from ``deadline_open_owner`` in its
    order (due, task id) — a page of 60 000 is a walk of 51 index entries, not a sort — then, only if that half ends
    on this page (the database runs a ``UNION ALL``'s parts in turn and stops at the ``LIMIT``), the undated ones,
    from the user's open tasks in ``task_open_owner`` (owner, created, id; workflows migration 0010) — never from
    every task the user has ever done."""
    rows = _of_type(
        Task.objects.filter(_held_as_member_on_team(user), owner=user, status__in=[STATUS.ASSIGNED, STATUS.STARTED]),
        task_type,
    )
    key = paging.parse_cursor(after, _CURSOR_KINDS, nullable=_CURSOR_NULLABLE)
    due, created, task_id = key if key is not None else (None, None, None)

    def cursor(last: InboxRow) -> str:
        return paging.cursor_for((last.due_at, last.created, last.task_id))

    if not connection.features.supports_slicing_ordering_in_compound:
        # SQLite: one statement in the same order (the undated by creation, the dated by task id).
        ordered = rows.annotate(due=_OPEN_DUE)
        if key is not None:
            ordered = ordered.filter(
                Q(due__isnull=True) & (Q(created__gt=created) | Q(created=created, id__gt=task_id))
                if due is None
                else Q(due__isnull=True) | paging.after(_QUEUE_ORDER, (due, task_id))
            )
        order = (F("due").asc(nulls_last=True), Case(When(due__isnull=True, then=F("created"))), "id")
        values = list(_shown(ordered).order_by(*order).values(*_ROW_VALUES)[: limit + 1])
        return _page(values, limit, cursor=cursor)
    dated = rows.filter(deadline__owner=user, deadline__done_at__isnull=True).annotate(due=F("deadline__due_at"))
    undated = rows.exclude(
        Exists(Deadline.objects.filter(task=OuterRef("pk"), owner=user, done_at__isnull=True))
    ).annotate(due=Value(None, output_field=DateTimeField()))
    if key is not None:
        if due is None:
            dated = dated.none()
            undated = undated.filter(Q(created__gt=created) | Q(created=created, id__gt=task_id))
        else:
            dated = dated.filter(paging.after(_QUEUE_ORDER, (due, task_id)))
    first = _shown(dated).order_by("due", "id").values(*_ROW_VALUES)[: limit + 1]
    then = _shown(undated).order_by("created", "id").values(*_ROW_VALUES)[: limit + 1]
    values = list(first.union(then, all=True)[: limit + 1])
    # The parts come in turn; sorted again here so that the page's order never rests on that.
    values.sort(key=lambda v: (0, v["due"], v["id"]) if v["due"] is not None else (1, v["created"], v["id"]))
    return _page(values, limit, cursor=cursor)


def has_team_queue(user: User) -> bool:
    """Whether ``user`` takes work from a shared queue at all: supervisors of an authority, and the partners' people
    (an organisation's plan actions wait in a queue for its members on the case's team). The authority's own
    caseworkers have tasks of their own, not a queue — except while on the duty roster, when the urgent reports'
    triage waits in theirs (one query for them, none for anyone else)."""
    subject = Subject.from_user(user)
    if subject.is_supervisor or (subject.organisation_id is not None and not subject.is_authority_staff):
        return True
    return (
        subject.is_authority_staff
        and subject.municipality_id is not None
        and is_on_duty(subject.user_id, subject.municipality_id)
    )


def queue_authorities(user: User) -> list[int] | None:
    """The authorities whose shared queue (triage, approvals) ``user`` takes as a supervisor — their own, and those
    whose absent supervisor they stand in for (``permissions.access.supervised_authorities``) — as values (one
    statement, for the covers in force); ``None`` for anyone without that queue. The one place that says so for the
    team queue. Values, not a subquery: with "= own authority" the database walks ``deadline_queue_authority`` in due
    order and stops after a page; "IN (subquery)" made it read and sort the authority's whole queue (20 000 open
    deadlines, 800 ms at 100 000 cases)."""
    subject = Subject.from_user(user)
    if not subject.is_supervisor or subject.municipality_id is None:
        return None
    return subject.supervised_ids()


def _report_triageable_by(user: User) -> Q:
    """The triage of a report ``user`` may triage (``permissions.access.triageable_reports``): a look-up of the
    task's own report, not a list of every report of the authority."""
    triageable = Exists(Report.objects.filter(triageable_reports(user), pk=OuterRef("report_id")))
    return Q(flow_task=ReportFlow.triage) & Q(_process_is(ReportProcess, Q(triageable)))


def team_queue(*, user: User, task_type: str = "", limit: int = paging.PAGE_SIZE, after: str = "") -> InboxList:
    """Unassigned tasks ``user`` may take, soonest due first. One query (none for a user without a queue), one page.

    For a supervisor: the triage of their authority's reports, and the approvals of its open cases' plans and
    closures — except those they drafted or proposed themselves (four eyes; the same rule as the flows' policy).
    For anyone on a case's team: the plan actions owned by their organisation on the open cases they are on (the
    rule of ``permissions.policy.may_report_on_action``).

    Read from the queue's open, unowned deadlines (the partial indexes ``deadline_queue_authority`` and
    ``deadline_queue_organisation``), in due order; the rules above are filters on those few rows. The
    authority's reports and open cases are no longer listed in subqueries: how large the authority is does not
    change what one page costs.
    """
    subject = Subject.from_user(user)
    if not has_team_queue(user) or (task_type and task_type not in _QUEUE_TYPES):
        return InboxList(rows=[], truncated=False)
    queues: list[Q] = []
    authorities = queue_authorities(user)
    if subject.is_authority_staff and authorities is None and subject.municipality_id is not None:
        # The worker on duty: urgent reports still waiting for triage (the roster is checked in the same query).
        queues.append(
            Q(deadline__municipality_id=subject.municipality_id, deadline__kind=DeadlineKind.TRIAGE)
            & _report_triageable_by(user)
        )
    if authorities is not None:
        own_drafts = Plan.objects.filter(status=PlanStatus.SUBMITTED, drafted_by=user).values("case_id")
        own_proposals = ClosureRequest.objects.filter(status=ClosureStatus.PENDING, requested_by=user).values("pk")
        open_case = {"municipality_id__in": authorities, "status": CaseStatus.OPEN}
        # Every queue node declares its deadline (``workflows.flows``: set when viewflow creates the task, owned like
        # the task, done when it ends — ``tests/workflows/test_inbox.py``), so the task types below already say which
        # kinds these are. Not ``deadline__kind__in=(triage, plan approval, closure approval)``: with it the database
        # read the authority's every waiting item from ``deadline_queue_authority_kind`` (three kinds, so
        # not in due order) and sorted them (240 ms at 100 000 cases) instead of walking ``deadline_queue_authority``
        # in due order and stopping after a page (2 ms).
        queues.append(
            Q(deadline__municipality_id__in=authorities)
            & (
                _report_triageable_by(user)
                | (
                    Q(flow_task=CaseFlow.approve_plan)
                    & Q(
                        _process_is(
                            CaseProcess,
                            Q(**{f"case__{lookup}": value for lookup, value in open_case.items()}),
                            excluding=Q(case_id__in=own_drafts),
                        )
                    )
                )
                | (
                    Q(flow_task=ClosureFlow.approve_closure)
                    & Q(
                        _process_is(
                            ClosureProcess,
                            Q(**{f"request__case__{lookup}": value for lookup, value in open_case.items()}),
                            excluding=Q(request_id__in=own_proposals),
                        )
                    )
                )
            )
        )
    if subject.organisation_id is not None and subject.role in TEAM_ROLES:
        # Only the roles that can be on a team (``permissions.policy.may_join_team``): for a supervisor this branch
        # could hold nothing, and leaving it out lets the database walk the authority's deadlines in due order.
        my_cases = TeamMembership.objects.current().filter(user=user, case__status=CaseStatus.OPEN).values("case_id")
        queues.append(
            Q(deadline__owner_organisation_id=subject.organisation_id, deadline__kind=DeadlineKind.PLAN_ACTION)
            & Q(flow_task=ActionFlow.do_action)
            & Q(
                _process_is(
                    ActionProcess,
                    Q(
                        action__owner_organisation_id=subject.organisation_id,
                        action__status=ActionStatus.OPEN,
                        action__plan__status=PlanStatus.CURRENT,
                        action__plan__case_id__in=my_cases,
                    ),
                )
            )
        )
    if not queues:
        return InboxList(rows=[], truncated=False)
    # The deadlines alone first (an OR of the two partial indexes' conditions), so that the database starts from the
    # queue's few open, unowned deadlines and not from every unclaimed task of the installation.
    waiting: list[Q] = []
    if authorities is not None:
        waiting.append(Q(deadline__municipality_id__in=authorities))
    elif subject.is_authority_staff and subject.municipality_id is not None:
        waiting.append(Q(deadline__municipality_id=subject.municipality_id))
    if subject.organisation_id is not None and subject.role in TEAM_ROLES:
        waiting.append(Q(deadline__owner_organisation_id=subject.organisation_id))
    if task_type:
        # One type: only its deadlines (``deadline_queue_authority_kind``), not the whole queue filtered by task.
        waiting = [q & Q(deadline__kind=str(TASK_TYPES[task_type].deadline)) for q in waiting]
    rows = Task.objects.filter(
        reduce(operator.or_, waiting),
        reduce(operator.or_, queues),
        deadline__done_at__isnull=True,
        deadline__owner__isnull=True,
        status=STATUS.NEW,
        owner__isnull=True,
    )
    return _rows(_of_type(rows, task_type), limit, due=F("deadline__due_at"), after=after)


class CaseOpenTasks:
    """The case file's open tasks (``casework.case_file_sources.OpenTasksSource``): every human task of the case's
    flows — the case flow, its closure, its plan actions, and a report's follow-up once the report joined the case —
    that is not finished, with its holder and due date. One query."""

    def open_tasks(self, *, case_id: uuid.UUID, owner: User | None, limit: int | None) -> OpenTasks:
        # The case's processes first (each flow's by its own indexed key to the case), then their tasks by
        # ``process_id``: an OR across the four flows' joins made the database join every open task of the
        # installation to every flow's rows before filtering (1.2 s at 100 000 cases).
        processes = (
            CaseProcess.objects.filter(case_id=case_id)
            .order_by()
            .values("pk")
            .union(
                ClosureProcess.objects.filter(request__case_id=case_id).order_by().values("pk"),
                ActionProcess.objects.filter(action__plan__case_id=case_id).order_by().values("pk"),
                ReportProcess.objects.filter(report__case_id=case_id).order_by().values("pk"),
                all=True,
            )
        )
        rows = Task.objects.filter(
            process_id__in=processes,
            flow_task__in=list(TASK_TYPES.values()),
            status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
        )
        if owner is not None:
            rows = rows.filter(owner=owner)
        ordered = (
            rows.annotate(due=Case(When(deadline__done_at__isnull=True, then=F("deadline__due_at"))))
            .select_related("owner")
            .order_by(F("due").asc(nulls_last=True), "created", "id")
        )
        loaded = list(ordered[: limit + 1] if limit is not None else ordered)
        shown = loaded[:limit] if limit is not None else loaded
        now = timezone.now()
        return OpenTasks(
            rows=tuple(
                OpenTaskRow(
                    task_id=task.pk,
                    title=task.flow_task.task_title if task.flow_task is not None else "",
                    owner=task.owner.display_name() if task.owner is not None else "",
                    owner_id=task.owner_id,
                    created=task.created,
                    due_at=task.due,
                    overdue=task.due is not None and task.due < now,
                )
                for task in shown
            ),
            more=limit is not None and len(loaded) > limit,
        )
