"""The plan's actions: written in the draft (by hand, or taken over from a held conference's decisions), carried
into the next version, and reported on by their owners once the version is approved.

* :func:`plan_actions_check` — the field checks of a draft's action list, used by ``plan_save`` (which writes goals
  and actions together: an action points at one of the goals).
* :func:`plan_decisions_import` — the decisions of a held (or signed-off) conference that have an owner and a due
  date become actions of the draft, each once; the draft remembers the conference.
* :func:`action_report` — the owner (the person, or a current member from the owning organisation) reports progress,
  or that the action is done; the report is sealed in the author's sector's compartment, the case's coordinator is
  notified (kind, reference and ids only). Done closes the action's task in the owner's inbox
  (the ``plan_action_done`` hook of ``casework.lifecycle_hooks`` → ``workflows.flows.ActionFlow``).

Same contract as every service here: keyword-only, one transaction, field-level ``ValidationError`` with nothing
written, ``PermissionDenied`` after a committed denial row, writes audited by field name.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import plausibility
from casework.lifecycle_hooks import hooks
from casework.models import (
    HELD_STATUSES,
    ActionReport,
    ActionStatus,
    Case,
    Conference,
    ConferenceDecision,
    Plan,
    PlanAction,
    PlanStatus,
    TeamMembership,
    User,
)
from casework.sealing import Keyring, open_values, seal_values
from casework.services.assessments import input_compartment
from casework.services.validation import add_error, clean_text
from notifications.models import Kind as NotificationKind
from notifications.services import notify
from permissions import audit
from permissions.access import load_action_facts, refuse, require_case_lead
from permissions.policy import Subject, owns_action

ACTION_TEXT_MAX = 2_000
ACTIONS_MAX = 60
REPORT_MAX = 5_000
ACTION_OBJECT = "casework.planaction"
REPORT_OBJECT = "casework.actionreport"
#: The prefix of an action's fields in error keys: ``actions-<index>-<field>`` (the editor's formset prefix).
ACTIONS_PREFIX = "actions"


@dataclass(frozen=True)
class ActionInput:
    """One action of a draft as the editor sends it. ``goal`` is the index of one of the draft's goals (in the order
    they are saved), or ``None``; ``decision_id`` / ``carried_from_id`` keep where the action came from."""

    what: str
    owner_user_id: int | None = None
    owner_organisation_id: int | None = None
    due_on: datetime.date | None = None
    success_measure: str = ""
    goal: int | None = None
    decision_id: uuid.UUID | None = None
    carried_from_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CheckedAction:
    """An action that passed :func:`plan_actions_check`: its texts stripped."""

    source: ActionInput
    what: str
    success_measure: str


def team_owners(case: Case) -> tuple[set[int], set[int]]:
    """Who may own an action now: the ids of the current members, and of the organisations they belong to."""
    rows = TeamMembership.objects.current().filter(case=case).values_list("user_id", "user__organisation_id")
    users = {user_id for user_id, _org in rows}
    organisations = {org_id for _user, org_id in rows if org_id is not None}
    return users, organisations


def organisation_member_ids(case: Case, organisation_id: int) -> list[int]:
    """The current team members of ``case`` from the organisation: the people of an organisation's action."""
    return list(
        TeamMembership.objects.current()
        .filter(case=case, user__organisation_id=organisation_id)
        .values_list("user_id", flat=True)
    )


def _owner_gone(action: PlanAction, owners: tuple[set[int], set[int]]) -> bool:
    """Nobody on the team stands for the action's owner any more (``owners``: :func:`team_owners`): the person
    left, or every member from the organisation did."""
    users, organisations = owners
    if action.owner_user_id is not None:
        return action.owner_user_id not in users
    return action.owner_organisation_id is not None and action.owner_organisation_id not in organisations


def ownerless_actions(case: Case) -> int:
    """How many open actions of the case's current plan have an owner nobody on the team stands for any more: the
    next version gives them a new owner."""
    owners = team_owners(case)
    rows = PlanAction.objects.filter(plan__case=case, plan__status=PlanStatus.CURRENT, status=ActionStatus.OPEN).only(
        "owner_user_id", "owner_organisation_id"
    )
    return sum(1 for action in rows if _owner_gone(action, owners))


def _earliest_due(plan: Plan) -> datetime.date | None:
    """An action of a draft made from a conference cannot be due before that conference."""
    if plan.conference_id is None:
        return None
    starts_at = Conference.objects.filter(pk=plan.conference_id).values_list("starts_at", flat=True).first()
    return timezone.localtime(starts_at).date() if starts_at is not None else None


def plan_actions_check(
    errors: dict[str, list[str]], *, plan: Plan, actions: Sequence[ActionInput], goal_count: int
) -> list[CheckedAction]:
    """Check a draft's action list, adding messages to ``errors`` under ``actions-<index>-<field>`` (and ``actions``
    for the list as a whole). Every action needs what, one owner — a current member of the team or the organisation
    of one —, and a due date not before the conference the draft was made from."""
    if len(actions) > ACTIONS_MAX:
        add_error(errors, ACTIONS_PREFIX, _("At most %(limit)d actions.") % {"limit": ACTIONS_MAX})
    users, organisations = team_owners(plan.case)
    earliest = _earliest_due(plan)
    today = timezone.localdate()
    checked = []
    for index, action in enumerate(actions):
        key = f"{ACTIONS_PREFIX}-{index}-"
        what = clean_text(errors, key + "what", action.what, ACTION_TEXT_MAX)
        measure = clean_text(errors, key + "success_measure", action.success_measure, ACTION_TEXT_MAX, required=False)
        if action.owner_user_id is None and action.owner_organisation_id is None:
            add_error(errors, key + "owner", _("Choose who does it: a team member or an organisation on the team."))
        elif action.owner_user_id is not None and action.owner_organisation_id is not None:
            add_error(errors, key + "owner", _("Choose one owner: a person or an organisation."))
        elif action.owner_user_id is not None and action.owner_user_id not in users:
            add_error(errors, key + "owner", _("The owner must be a current member of the team."))
        elif action.owner_organisation_id is not None and action.owner_organisation_id not in organisations:
            add_error(errors, key + "owner", _("The organisation must be one of a current member of the team."))
        if action.due_on is None:
            add_error(errors, key + "due_on", _("An action needs a due date."))
        elif earliest is not None and action.due_on < earliest:
            add_error(errors, key + "due_on", _("The due date cannot be before the conference."))
        else:
            plausibility.check(errors, key + "due_on", plausibility.due_date_problem(action.due_on, today))
        if action.goal is not None and not 0 <= action.goal < goal_count:
            add_error(errors, key + "goal", _("Choose one of the plan's goals."))
        checked.append(CheckedAction(source=action, what=what, success_measure=measure))
    _check_origins(errors, plan=plan, actions=actions)
    return checked


def _check_origins(errors: dict[str, list[str]], *, plan: Plan, actions: Sequence[ActionInput]) -> None:
    """An action taken over from a decision points at a decision of a held conference of this case, once; an action
    carried over points at an action of the version this draft was made from, once."""
    decisions = set(
        ConferenceDecision.objects.filter(
            conference__case=plan.case,
            conference__status__in=HELD_STATUSES,
        ).values_list("pk", flat=True)
    )
    previous = (
        set(PlanAction.objects.filter(plan_id=plan.based_on_id).values_list("pk", flat=True))
        if plan.based_on_id
        else set()
    )
    for field, allowed, message in (
        ("decision_id", decisions, _("The decision is not one of a held conference of this case.")),
        ("carried_from_id", previous, _("The action is not one of the plan version this draft was made from.")),
    ):
        seen: set[uuid.UUID] = set()
        for index, action in enumerate(actions):
            origin = getattr(action, field)
            if origin is None:
                continue
            if origin not in allowed:
                add_error(errors, f"{ACTIONS_PREFIX}-{index}-{field}", message)
            elif origin in seen:
                add_error(errors, f"{ACTIONS_PREFIX}-{index}-{field}", _("Two actions come from the same one."))
            seen.add(origin)


def plan_actions_ready(plan: Plan) -> dict[str, list[str]]:
    """What stops the draft's actions from going to approval: an owner who left the team, a date already past."""
    errors: dict[str, list[str]] = {}
    owners = team_owners(plan.case)
    today = timezone.localdate()
    rows = PlanAction.objects.filter(plan=plan).order_by("position", "id")
    for number, action in enumerate(rows, start=1):
        if _owner_gone(action, owners):
            add_error(
                errors,
                ACTIONS_PREFIX,
                _("Action %(number)d: the owner is no longer on the team.") % {"number": number},
            )
        if action.status == ActionStatus.OPEN and action.due_on < today:
            add_error(
                errors,
                ACTIONS_PREFIX,
                _("Action %(number)d: the due date has passed; set a new one.") % {"number": number},
            )
    return errors


def plan_decisions_import(*, plan: Plan, by: User, conference: Conference) -> list[PlanAction]:
    """Take over the decisions of a held (or signed-off) conference of the case that have an owner and a due date as
    actions of the draft — each decision once — and remember the conference on the draft. Returns the new actions."""
    require_case_lead(by, plan.case, purpose="import conference decisions")
    errors: dict[str, list[str]] = {}
    if plan.status != PlanStatus.DRAFT:
        add_error(errors, "__all__", _("Only a draft can be changed."))
    if conference.case_id != plan.case_id:
        add_error(errors, "conference", _("Choose a conference of this case."))
    elif conference.status not in HELD_STATUSES:
        add_error(errors, "conference", _("Decisions can be taken over once the conference was held."))
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        locked = Plan.objects.select_for_update(no_key=True).get(pk=plan.pk)
        if locked.status != PlanStatus.DRAFT:
            raise ValidationError({"__all__": [_("Only a draft can be changed.")]})
        taken = set(PlanAction.objects.filter(plan=plan, decision__isnull=False).values_list("decision_id", flat=True))
        decisions = [
            d
            for d in ConferenceDecision.objects.filter(conference=conference, due_on__isnull=False).order_by(
                "created_at", "id"
            )
            if d.pk not in taken
        ]
        position = (PlanAction.objects.filter(plan=plan).aggregate(last=Max("position"))["last"] or 0) + 1
        keyring = Keyring()
        created = []
        for offset, decision in enumerate(decisions):
            action = PlanAction(
                case_id=plan.case_id,
                plan=plan,
                position=position + offset,
                owner_user_id=decision.owner_user_id,
                owner_organisation_id=decision.owner_organisation_id,
                due_on=decision.due_on,  # type: ignore[misc]  # only decisions with a due date
                decision=decision,
            )
            # A copy inside the service (the decision's text becomes the action's "what"), not a disclosure.
            seal_values(action, {"what": open_values(decision, ["text"], keyring)["text"]}, keyring)
            action.save(force_insert=True)
            created.append(action)
        plan.conference = conference
        Plan.objects.filter(pk=plan.pk).update(conference=conference)
        audit.record_write(by, plan.case_id, "casework.plan", plan.pk, ["conference", "actions"], "import decisions")
    return created


def action_report(*, action: PlanAction, by: User, text: str, completes: bool = False) -> ActionReport:
    """The owner's report on an action: progress, or (``completes``) that it is done. Sealed in the author's
    sector's compartment; the case's coordinator is notified. Done marks the action done and ends its task."""
    action = PlanAction.objects.select_related("plan", "plan__case").get(pk=action.pk)
    case = action.plan.case
    purpose = "report on plan action"
    facts = load_action_facts(by, action)
    if not owns_action(Subject.from_user(by), facts):
        raise refuse(by, case, purpose=purpose)
    errors: dict[str, list[str]] = {}
    if not facts.action_open:
        # The owner sent a second "done" (a double click, another tab): a plain answer, not a refusal.
        add_error(errors, "__all__", _("This action is no longer open."))
    text = clean_text(errors, "text", text, REPORT_MAX)
    if errors:
        raise ValidationError(errors)
    compartment = input_compartment(by)
    with audit.atomic():
        locked = PlanAction.objects.select_for_update(no_key=True).get(pk=action.pk)
        if locked.status != ActionStatus.OPEN:
            raise ValidationError({"__all__": [_("This action is no longer open.")]})
        report = ActionReport(
            case_id=case.pk,
            action=locked,
            compartment=compartment,
            completes=completes,
            author=by,
            author_organisation_id=by.organisation_id,
        )
        seal_values(report, {"text": text})
        report.save(force_insert=True)
        audit.record_write(by, case.pk, REPORT_OBJECT, report.pk, ["text", "completes"], purpose)
        if completes:
            locked.status = ActionStatus.DONE
            locked.done_at = timezone.now()
            locked.save(update_fields=["status", "done_at"])
            audit.record_write(by, case.pk, ACTION_OBJECT, locked.pk, ["status"], "complete plan action")
        if case.coordinator_id is not None and case.coordinator_id != by.pk:
            notify(
                recipient_id=case.coordinator_id,
                kind=NotificationKind.ACTION_REPORTED,
                case_id=case.pk,
                case_reference=case.reference,
                object_type=ACTION_OBJECT,
                object_id=locked.pk,
                actor_id=by.pk,
            )
        if completes:
            hooks.plan_action_done(action=locked, by=by)
    return report
