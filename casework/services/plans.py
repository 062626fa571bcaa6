"""The protection plan (IPOD, § 10(3)(d) of Act No. 359/1999 Coll., § 2 of Decree No. 473/2012 Coll.): drafting a
version, submitting it, and the supervisor's approval with four eyes.

Same contract as every service here: keyword-only, one transaction, field-level ``ValidationError`` with nothing
written, ``PermissionDenied`` after a committed denial row, writes audited by field name. The case flow
(``workflows.flows.CaseFlow``) calls these from its steps: the draft task submits, the approval task approves or
returns, inside the step's transaction.

Four eyes: whoever submits a version is its drafter (``Plan.drafted_by``); a supervisor of the case's authority who is
not the drafter approves or returns it. The database refuses an approved version whose approver is its drafter.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import cast

from django.core.exceptions import ValidationError
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.lifecycle_hooks import hooks
from casework.models import (
    APPROVED_STATUSES,
    AcquaintancePerson,
    AcquaintanceWay,
    ActionStatus,
    Case,
    Plan,
    PlanAcquaintance,
    PlanAction,
    PlanGoal,
    PlanStatus,
    User,
)
from casework.sealing import Keyring, open_values, seal_values
from casework.services.cases import lock_case_row
from casework.services.plan_actions import ActionInput, CheckedAction, plan_actions_check, plan_actions_ready
from casework.services.validation import add_error, clean_text
from notifications.models import Kind as NotificationKind
from notifications.services import notify
from permissions import audit
from permissions.access import refuse, require_case_lead
from permissions.policy import Subject, may_approve_plan
from permissions.transactions import (
    forget_in_transaction,
    once_per_transaction,
    peek_in_transaction,
    remember_in_transaction,
)

PLAN_TEXT_MAX = 20_000
GOAL_MAX = 1_000
GOALS_MAX = 30
PLAN_OBJECT = "casework.plan"
#: The texts a new version takes over from the current one (not the supervisor's return comment).
PLAN_TEXT_FIELDS = ("support_offered", "child_views", "parents_views")
#: The texts of an action a new version takes over.
ACTION_TEXT_FIELDS = ("what", "success_measure")


def _in_work_key(case_id: object) -> tuple[str, str]:
    return ("plan in work", str(case_id))


def plan_in_work(case: Case) -> Plan | None:
    """The version being drafted or awaiting approval, if any (at most one: a database constraint).

    Read once per transaction (``permissions.transactions.once_per_transaction``): an approval step asks it in its
    permission checks, its service and the gateway after it. Every write here that changes which version is in work
    or its state drops it (:func:`_plan_changed`, and saving a ``Plan`` row)."""

    def load() -> Plan | None:
        plan = Plan.objects.filter(case=case, status__in=[PlanStatus.DRAFT, PlanStatus.SUBMITTED]).first()
        if plan is not None:
            Plan.case.field.set_cached_value(plan, case)  # the caller's case: ``plan.case`` asks no query
        return plan

    return once_per_transaction(_in_work_key(case.pk), load)


def _plan_changed(case_id: object, *, in_work: Plan | object | None = ...) -> None:
    """A version of the case changed state (or a new one started): the next ``plan_in_work`` reads it again, or
    returns ``in_work`` when the write says which version is in work now (``None``: none)."""
    forget_in_transaction(_approved_key(case_id))
    if in_work is ...:
        forget_in_transaction(_in_work_key(case_id))
    else:
        remember_in_transaction(_in_work_key(case_id), in_work)


def _plan_saved(sender: type, instance: Plan, **kwargs: object) -> None:
    _plan_changed(instance.case_id)


post_save.connect(_plan_saved, sender=Plan, dispatch_uid="casework.plans.in_work")


def plan_current(case: Case) -> Plan | None:
    return Plan.objects.filter(case=case, status=PlanStatus.CURRENT).first()


def plan_draft_start(*, case: Case, by: User) -> Plan:
    """The draft of the case's next plan version: the one in work if there is one, otherwise a new version starting
    from the current one — its texts and goals copied (the first version starts empty). Only the case's lead, on an
    open case."""
    require_case_lead(by, case, purpose="start plan draft")
    with audit.atomic(savepoint=False):
        lock_case_row(case.pk)
        cached = peek_in_transaction(_in_work_key(case.pk))
        if cached is not None:
            return cast("Plan", cached)
        # Every version of the case in one read (a case has a handful): the one in work, the current one and the
        # last number, instead of three queries (docs/adr/0026-lean-steps-second-pass.md, third pass).
        versions = list(Plan.objects.filter(case=case).order_by("version"))
        existing = next((p for p in versions if p.status in (PlanStatus.DRAFT, PlanStatus.SUBMITTED)), None)
        if existing is not None:
            Plan.case.field.set_cached_value(existing, case)
            _plan_changed(case.pk, in_work=existing)
            return existing
        _plan_changed(case.pk)
        current = next((p for p in versions if p.status == PlanStatus.CURRENT), None)
        version = (versions[-1].version if versions else 0) + 1
        plan = Plan(case=case, version=version, based_on=current, drafted_by=by)
        if current is not None:
            _carry_over(current, plan)
        else:
            plan.save()
        audit.record_write(by, case.pk, PLAN_OBJECT, plan.pk, ["version", "status"], "start plan draft")
        # Known from the versions just read: the new draft's due date asks it next (``plan_approved_exists``).
        remember_in_transaction(_approved_key(case.pk), any(p.status in APPROVED_STATUSES for p in versions))
    return plan


def _approved_key(case_id: object) -> tuple[str, object]:
    return ("plan approved exists", case_id)


def plan_approved_exists(case: Case) -> bool:
    """Whether the case has an approved version (current or superseded), once per transaction; every state change
    of a version forgets it (:func:`_plan_changed`)."""
    return once_per_transaction(
        _approved_key(case.pk), lambda: Plan.objects.filter(case=case, status__in=APPROVED_STATUSES).exists()
    )


def _carry_over(current: Plan, draft: Plan) -> None:
    """Start ``draft`` from the current version: its texts, goals and open actions (``carried_from`` the current
    version's), re-sealed for the new rows (an envelope is bound to its row). A copy inside the service, not a
    disclosure: nothing reaches a user, so the gate is not involved."""
    keyring = Keyring()
    seal_values(draft, open_values(current, PLAN_TEXT_FIELDS, keyring), keyring)
    draft.save()
    goals = list(PlanGoal.objects.filter(plan=current).order_by("position", "id"))
    copies = [PlanGoal(case_id=draft.case_id, plan=draft, position=goal.position) for goal in goals]
    for goal, copy in zip(goals, copies, strict=True):
        seal_values(copy, open_values(goal, ["text"], keyring), keyring)
    PlanGoal.objects.bulk_create(copies)
    goal_copy = {goal.pk: copy for goal, copy in zip(goals, copies, strict=True)}
    actions = list(PlanAction.objects.filter(plan=current, status=ActionStatus.OPEN).order_by("position", "id"))
    action_copies = [
        PlanAction(
            case_id=draft.case_id,
            plan=draft,
            goal=goal_copy.get(action.goal_id) if action.goal_id is not None else None,
            position=action.position,
            owner_user_id=action.owner_user_id,
            owner_organisation_id=action.owner_organisation_id,
            due_on=action.due_on,
            decision_id=action.decision_id,
            carried_from=action,
        )
        for action in actions
    ]
    for action, action_copy in zip(actions, action_copies, strict=True):
        seal_values(action_copy, open_values(action, ACTION_TEXT_FIELDS, keyring), keyring)
    PlanAction.objects.bulk_create(action_copies)


def plan_save(
    *,
    plan: Plan,
    by: User,
    goals: Sequence[str],
    support_offered: str,
    child_views: str,
    parents_views: str,
    next_review_on: datetime.date | None,
    actions: Sequence[ActionInput] | None = None,
) -> Plan:
    """Save the draft: the goals (replacing the earlier list, in order), the support offered, the child's and the
    parents' views, the proposed date of the next review (today or later; the approval fills the authority's
    default when it is empty) and, when ``actions`` is given, the actions (replacing the earlier list; each may point
    at one of the goals by its index). ``actions=None`` keeps the draft's actions, each with the goal at the same
    place in the new list."""
    require_case_lead(by, plan.case, purpose="edit plan draft")
    errors: dict[str, list[str]] = {}
    if plan.status != PlanStatus.DRAFT:
        add_error(errors, "__all__", _("Only a draft can be changed."))
    cleaned_goals = [g.strip() for g in goals if g and g.strip()]
    if len(cleaned_goals) > GOALS_MAX:
        add_error(errors, "goals", _("At most %(limit)d goals.") % {"limit": GOALS_MAX})
    for goal in cleaned_goals:
        if len(goal) > GOAL_MAX:
            add_error(errors, "goals", _("A goal has at most %(limit)d characters.") % {"limit": GOAL_MAX})
            break
    values = {
        "support_offered": clean_text(errors, "support_offered", support_offered, PLAN_TEXT_MAX, required=False),
        "child_views": clean_text(errors, "child_views", child_views, PLAN_TEXT_MAX, required=False),
        "parents_views": clean_text(errors, "parents_views", parents_views, PLAN_TEXT_MAX, required=False),
    }
    if next_review_on is not None and next_review_on < timezone.localdate():
        add_error(errors, "next_review_on", _("The next review cannot be in the past."))
    checked = (
        plan_actions_check(errors, plan=plan, actions=actions, goal_count=len(cleaned_goals))
        if actions is not None
        else None
    )
    if errors:
        raise ValidationError(errors)
    with audit.atomic(savepoint=False):
        locked = Plan.objects.select_for_update(no_key=True).get(pk=plan.pk)
        if locked.status != PlanStatus.DRAFT:
            raise ValidationError({"__all__": [_("Only a draft can be changed.")]})
        seal_values(plan, {name: value or None for name, value in values.items()})
        plan.next_review_on = next_review_on
        plan.save(update_fields=[*values, "next_review_on"])
        kept_goal_places = dict(
            PlanAction.objects.filter(plan=plan, goal__isnull=False).values_list("pk", "goal__position")
        )
        PlanAction.objects.filter(plan=plan).update(goal=None)
        PlanGoal.objects.filter(plan=plan).delete()
        rows = [PlanGoal(case_id=plan.case_id, plan=plan, position=index) for index in range(len(cleaned_goals))]
        for row, text in zip(rows, cleaned_goals, strict=True):
            seal_values(row, {"text": text})
        PlanGoal.objects.bulk_create(rows)
        written = [*values, "goals", "next_review_on"]
        if checked is None:
            _relink_goals(kept_goal_places, rows)
        else:
            _replace_actions(plan, checked, rows)
            written.append("actions")
        audit.record_write(by, plan.case_id, PLAN_OBJECT, plan.pk, written, "edit plan")
    return plan


def _relink_goals(places: dict[uuid.UUID, int], goals: Sequence[PlanGoal]) -> None:
    """Point each kept action at the goal now at the place its goal had (none when the list got shorter)."""
    by_place = {goal.position: goal for goal in goals}
    relinked = [PlanAction(pk=pk, goal=by_place[place]) for pk, place in places.items() if place in by_place]
    PlanAction.objects.bulk_update(relinked, ["goal"])


def _replace_actions(plan: Plan, checked: Sequence[CheckedAction], goals: Sequence[PlanGoal]) -> None:
    """The draft's actions are the editor's list from now on (a draft's actions have no reports and no tasks)."""
    PlanAction.objects.filter(plan=plan).delete()
    rows = []
    for index, item in enumerate(checked):
        source = item.source
        row = PlanAction(
            case_id=plan.case_id,
            plan=plan,
            position=index,
            goal=goals[source.goal] if source.goal is not None else None,
            owner_user_id=source.owner_user_id,
            owner_organisation_id=source.owner_organisation_id,
            due_on=source.due_on,  # type: ignore[misc]  # checked: never None here
            decision_id=source.decision_id,
            carried_from_id=source.carried_from_id,
        )
        seal_values(row, {"what": item.what, "success_measure": item.success_measure or None})
        rows.append(row)
    PlanAction.objects.bulk_create(rows)


def plan_submit(*, plan: Plan, by: User) -> Plan:
    """Put the draft forward for the supervisor's approval; whoever submits is its drafter. An empty plan (no goal,
    or without the child's views) is refused."""
    require_case_lead(by, plan.case, purpose="submit plan")
    errors: dict[str, list[str]] = {}
    if plan.status != PlanStatus.DRAFT:
        add_error(errors, "__all__", _("Only a draft can be submitted."))
    if not PlanGoal.objects.filter(plan=plan).exists():
        add_error(errors, "goals", _("The plan has no goal yet: an empty plan cannot be approved."))
    if not plan.child_views:
        add_error(
            errors, "child_views", _("Write the child's views (or why the child could not be heard) before submitting.")
        )
    for field, messages in plan_actions_ready(plan).items():
        for message in messages:
            add_error(errors, field, message)
    if errors:
        raise ValidationError(errors)
    with audit.atomic(savepoint=False):
        submitted_at = timezone.now()
        updated = Plan.objects.filter(pk=plan.pk, status=PlanStatus.DRAFT).update(
            status=PlanStatus.SUBMITTED, drafted_by=by, submitted_at=submitted_at
        )
        if not updated:
            raise ValidationError({"__all__": [_("Only a draft can be submitted.")]})
        # What the UPDATE wrote (under the flow's lock nothing else writes the row): not read back.
        plan.status, plan.drafted_by, plan.submitted_at = PlanStatus.SUBMITTED, by, submitted_at
        _plan_changed(plan.case_id, in_work=plan)
        audit.record_write(by, plan.case_id, PLAN_OBJECT, plan.pk, ["status"], "submit plan")
    return plan


def _deciding(plan: Plan, by: User, purpose: str) -> None:
    if not may_approve_plan(
        Subject.from_user(by), municipality_id=plan.case.municipality_id, drafted_by_id=plan.drafted_by_id
    ):
        raise refuse(by, plan.case, purpose=purpose)
    if plan.status != PlanStatus.SUBMITTED:
        raise ValidationError({"__all__": [_("This version is not awaiting approval.")]})


def plan_approve(*, plan: Plan, by: User, next_review_on: datetime.date) -> Plan:
    """Approve the submitted version: it becomes current, the previous current version is superseded (and kept
    readable, unchanged). ``next_review_on`` is used when the draft proposed no date."""
    _deciding(plan, by, "approve plan")
    if not plan.case.is_open:
        raise refuse(by, plan.case, purpose="approve plan")
    now = timezone.now()
    with audit.atomic(savepoint=False):
        Plan.objects.filter(case_id=plan.case_id, status=PlanStatus.CURRENT).update(status=PlanStatus.SUPERSEDED)
        review_on = plan.next_review_on or next_review_on
        updated = Plan.objects.filter(pk=plan.pk, status=PlanStatus.SUBMITTED).update(
            status=PlanStatus.CURRENT,
            approved_by=by,
            approved_at=now,
            next_review_on=review_on,
        )
        if not updated:
            raise ValidationError({"__all__": [_("This version is not awaiting approval.")]})
        # What the UPDATE wrote (under the flow's lock nothing else writes the row): not read back.
        plan.status, plan.approved_by, plan.approved_at, plan.next_review_on = PlanStatus.CURRENT, by, now, review_on
        _plan_changed(plan.case_id, in_work=None)  # at most one version is in work: this one, approved now
        audit.record_write(by, plan.case_id, PLAN_OBJECT, plan.pk, ["status"], "approve plan")
        hooks.plan_approved(plan=plan, by=by)
        notify(
            recipient_id=plan.drafted_by_id,
            kind=NotificationKind.PLAN_APPROVED,
            case_id=plan.case_id,
            case_reference=plan.case.reference,
            object_type=PLAN_OBJECT,
            object_id=plan.pk,
            actor_id=by.pk,
        )
    return plan


def plan_return(*, plan: Plan, by: User, comment: str) -> Plan:
    """Send the submitted version back to its drafter with a comment; it is a draft again."""
    _deciding(plan, by, "return plan")
    errors: dict[str, list[str]] = {}
    comment = clean_text(errors, "comment", comment, PLAN_TEXT_MAX)
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        seal_values(plan, {"return_comment": comment})
        updated = Plan.objects.filter(pk=plan.pk, status=PlanStatus.SUBMITTED).update(
            status=PlanStatus.DRAFT, return_comment=plan.return_comment, returned_at=timezone.now()
        )
        if not updated:
            raise ValidationError({"__all__": [_("This version is not awaiting approval.")]})
        _plan_changed(plan.case_id)
        plan.refresh_from_db()
        audit.record_write(by, plan.case_id, PLAN_OBJECT, plan.pk, ["status", "return_comment"], "return plan")
        notify(
            recipient_id=plan.drafted_by_id,
            kind=NotificationKind.PLAN_RETURNED,
            case_id=plan.case_id,
            case_reference=plan.case.reference,
            object_type=PLAN_OBJECT,
            object_id=plan.pk,
            actor_id=by.pk,
        )
    return plan


# --- Acquaintance with a version (Decree No. 473/2012 Coll., § 2: made together with the parents and the child) ----


def plan_acquaintance_record(
    *, plan: Plan, by: User, person: str, on: datetime.date | None, way: str
) -> PlanAcquaintance:
    """Record that a parent or the child was acquainted with (or took part in) this version: who (their relation),
    when (not in the future, not before the version existed), how. By the case's lead on an open case; a version
    discarded in drafting takes none. Audited by field name."""
    case = plan.case
    require_case_lead(by, case, purpose="record plan acquaintance")
    errors: dict[str, list[str]] = {}
    if person not in AcquaintancePerson.values:
        add_error(errors, "person", _("Choose who."))
    if way not in AcquaintanceWay.values:
        add_error(errors, "way", _("Choose how."))
    if on is None:
        add_error(errors, "on", _("This field is required."))
    elif on > timezone.localdate():
        add_error(errors, "on", _("The day cannot be in the future."))
    elif on < timezone.localdate(plan.created_at):
        add_error(errors, "on", _("The day cannot be before this version was started."))
    if plan.status == PlanStatus.DISCARDED:
        add_error(errors, "__all__", _("This version was discarded."))
    if errors:
        raise ValidationError(errors)
    assert on is not None
    with audit.atomic():
        row = PlanAcquaintance.objects.create(plan=plan, person=person, on=on, way=way, recorded_by=by)
        audit.record_write(
            by, case.pk, "casework.planacquaintance", row.pk, ["person", "on", "way"], "record plan acquaintance"
        )
    return row
