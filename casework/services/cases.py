"""Opening and closing cases, handing them over, the team, and case notes.

Every service here: keyword-only, one transaction, field-level ``ValidationError`` for bad input with nothing
written, ``PermissionDenied`` (after a committed denial audit row) when the acting user may not do it. Changes to
the coordinator or the team rewrite the case's object permissions inside the same transaction
(``permissions.object_perms``). Writes are audited by field name in the same transaction.
"""

from __future__ import annotations

import datetime
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import plausibility
from casework.lifecycle_hooks import hooks
from casework.models import (
    DEFAULT_TEAM_ROLES,
    Case,
    CaseNote,
    CaseStatus,
    CaseTransfer,
    Child,
    CloseReason,
    CoordinatorAssignment,
    HandoverReason,
    KeptApartItem,
    KeyOwnerType,
    MembershipEndReason,
    Municipality,
    OpenReason,
    TeamMembership,
    TeamRole,
    TransferStatus,
    User,
)
from casework.sealing import Keyring, seal_values
from casework.selectors.cases import open_case_of_child
from casework.services.kept_apart import kept_apart_check, kept_apart_on_write
from casework.services.validation import add_error as _add
from notifications.models import Kind as NotificationKind
from notifications.services import notify, notify_many, revoke_case
from permissions import audit
from permissions.access import load_case_access, record_denial, refuse, require_case_lead
from permissions.object_perms import sync_case_permissions
from permissions.policy import may_coordinate, may_join_team, may_open_case
from permissions.transactions import peek_in_transaction, remember_in_transaction

NOTE_MAX = 10_000


def team_roles_ensure_defaults() -> int:
    """Create any missing role of ``DEFAULT_TEAM_ROLES`` (existing ones, edited by an administrator, stay as they are).
    Returns how many were created."""
    created = 0
    for position, (name_cs, name_en, sector) in enumerate(DEFAULT_TEAM_ROLES):
        _, made = TeamRole.objects.get_or_create(
            name_cs=name_cs, defaults={"name_en": name_en, "sector": sector, "position": position * 10}
        )
        created += made
    return created


def _errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _next_number(municipality: Municipality, year: int) -> int:
    # The ORP's row lock serialises numbering on PostgreSQL; SQLite's IMMEDIATE transactions serialise anyway. The
    # unique constraint on (authority, year, number) is the last word.
    Municipality.objects.select_for_update(no_key=True).filter(pk=municipality.pk).first()
    return registry_last_number(municipality.pk, year) + 1


def _case_locked_key(case_id: object) -> tuple[str, object]:
    return ("case row locked", case_id)


def case_row_locked(case_id: object) -> None:
    """The caller has just taken the case row's lock (``SELECT … FOR NO KEY UPDATE``) in this transaction, with the
    statement that loaded it: :func:`lock_case_row` does not take it again (a row lock is held to commit)."""
    remember_in_transaction(_case_locked_key(case_id), True)


def lock_case_row(case_id: uuid.UUID | str) -> None:
    """Lock the case row (FOR NO KEY UPDATE) for the rest of the transaction, once per transaction."""
    if peek_in_transaction(_case_locked_key(case_id)):
        return
    Case.objects.select_for_update(no_key=True).filter(pk=case_id).first()
    case_row_locked(case_id)


def registry_last_number(municipality_id: int, year: int) -> int:
    """The last number the authority's registry gave in ``year``: its cases' numbers, and the numbers of files that
    moved to another ORP (a registry never gives a number twice). Call under the authority's row lock."""
    # One statement (two scalar subqueries), asked after the lock was taken: a new snapshot on PostgreSQL.
    numbers = (
        Case.objects.filter(municipality_id=OuterRef("pk"), year=year)
        .order_by()
        .values("municipality_id")
        .annotate(last=Max("number"))
        .values("last")
    )
    moved = (
        CaseTransfer.objects.filter(from_municipality_id=OuterRef("pk"), old_year=year, status=TransferStatus.ACCEPTED)
        .order_by()
        .values("from_municipality_id")
        .annotate(last=Max("old_number"))
        .values("last")
    )
    last, moved_last = (
        Municipality.objects.filter(pk=municipality_id)
        .order_by()
        .annotate(last_case=Subquery(numbers), last_moved=Subquery(moved))
        .values_list("last_case", "last_moved")
        .get()
    )
    return max(last or 0, moved_last or 0)


def case_open(
    *,
    child: Child,
    coordinator: User,
    opened_by: User,
    reason: str,
    purpose: str = "open case",
    notify_coordinator: bool = True,
    no_open_case_found: bool = False,
) -> Case:
    """Open the child's case file (spis Om) in the child's authority with ``coordinator``; "case opened" starts the
    IPOD clock. At most one open case per child (a database constraint). ``purpose`` names the write in the audit log;
    the register import passes "import" and ``notify_coordinator=False`` (a migration is not a thousand new
    assignments: the coordinator gets one summary from the operator instead). ``no_open_case_found``: the caller has
    just looked for the child's open case in this transaction and found none (the friendly check is not asked again;
    the constraint still refuses a second open case)."""
    if not may_open_case(opened_by, child):
        record_denial(opened_by, "casework.child", child.pk, "open case")
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if reason not in OpenReason.values:
        _add(errors, "reason", _("Choose why the case is opened."))
    if not may_coordinate(coordinator, child.municipality_id):
        _add(errors, "coordinator", _("The coordinator must be an active OSPOD worker of this authority."))
    existing = None if no_open_case_found else open_case_of_child(child=child)
    if existing is not None:
        _add(errors, "child", _("This child already has an open case: %(reference)s.") % {"reference": existing})
    if child.shredded_at is not None:
        _add(errors, "child", _("This register entry was shredded."))
    _errors(errors)
    municipality = child.municipality
    now = timezone.now()
    year = timezone.localdate(now).year
    try:
        with audit.atomic(savepoint=False):
            number = _next_number(municipality, year)
            case = Case.objects.create(
                municipality=municipality,
                year=year,
                number=number,
                reference=municipality.case_reference(year, number),
                child=child,
                coordinator=coordinator,
                opened_at=now,
                opened_by=opened_by,
                open_reason=reason,
            )
            CoordinatorAssignment.objects.create(
                case=case,
                coordinator=coordinator,
                assigned_at=now,
                assigned_by=opened_by,
                reason=HandoverReason.ASSIGNED,
            )
            sync_case_permissions(case, created=True)  # inserted just above: no member or permission row yet
            # The case's first data key with the case (one INSERT: nothing else can have made one for a new id),
            # so its first sealed value (an input, the assessment) only reads it.
            Keyring().active_key(KeyOwnerType.CASE, case.pk, new_owner=True)
            audit.record_write(
                opened_by, case.pk, "casework.case", case.pk, ["coordinator", "open_reason", "status"], purpose
            )
            if notify_coordinator:
                notify(
                    recipient_id=coordinator.pk,
                    kind=NotificationKind.CASE_ASSIGNED,
                    case_id=case.pk,
                    case_reference=case.reference,
                    actor_id=opened_by.pk,
                )
            hooks.case_opened(case=case)
    except IntegrityError as exc:
        # Two workers opening a case for the same child at the same moment: the constraint decides.
        raise ValidationError({"child": [_("This child already has an open case.")]}) from exc
    return case


def case_close(*, case: Case, closed_by: User, reason: str) -> Case:
    """Close the case: every team membership ends (team access ends); coordinator and supervisors keep read-only."""
    require_case_lead(closed_by, case, purpose="close case", closing=True)
    if reason not in CloseReason.values:
        raise ValidationError({"reason": [_("Choose why the case is closed.")]})
    now = timezone.now()
    with audit.atomic():
        updated = Case.objects.filter(pk=case.pk, status=CaseStatus.OPEN).update(
            status=CaseStatus.CLOSED, closed_at=now, closed_by=closed_by, close_reason=reason
        )
        if not updated:
            raise ValidationError({"reason": [_("The case is already closed.")]})
        ending = TeamMembership.objects.filter(case=case, ended_at__isnull=True)
        ended_members = list(ending.values_list("user_id", flat=True))
        ending.update(ended_at=now, ended_by=closed_by, end_reason=MembershipEndReason.CASE_CLOSED)
        case.refresh_from_db()
        sync_case_permissions(case)
        audit.record_write(closed_by, case.pk, "casework.case", case.pk, ["close_reason", "status"], "close case")
        notify_many(
            recipient_ids=ended_members,
            kind=NotificationKind.MEMBERSHIP_ENDED,
            case_id=case.pk,
            case_reference=case.reference,
            actor_id=closed_by.pk,
        )
        for member_id in ended_members:
            revoke_case(member_id, case.pk)
        hooks.case_closed(case=case)
    return case


def coordinator_handover(*, case: Case, to: User, by: User, reason: str) -> Case:
    """Hand the case to another OSPOD worker of its authority; the history keeps who, when and why."""
    require_case_lead(by, case, purpose="hand over case")
    errors: dict[str, list[str]] = {}
    if not may_coordinate(to, case.municipality_id):
        _add(errors, "coordinator", _("The new coordinator must be an active OSPOD worker of this authority."))
    elif to.pk == case.coordinator_id:
        _add(errors, "coordinator", _("This person already coordinates the case."))
    if reason not in HandoverReason.values or reason == HandoverReason.ASSIGNED:
        _add(errors, "reason", _("Choose why the case is handed over."))
    _errors(errors)
    now = timezone.now()
    with audit.atomic():
        locked = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
        if not locked.is_open:
            raise ValidationError({"coordinator": [_("A closed case cannot be handed over.")]})
        previous_coordinator_id = locked.coordinator_id
        CoordinatorAssignment.objects.filter(case=locked, ended_at__isnull=True).update(ended_at=now)
        CoordinatorAssignment.objects.create(
            case=locked, coordinator=to, assigned_at=now, assigned_by=by, reason=reason
        )
        locked.coordinator = to
        locked.save(update_fields=["coordinator"])
        # The new coordinator no longer needs a membership; keeping it would survive a later handover unnoticed.
        TeamMembership.objects.filter(case=locked, user=to, ended_at__isnull=True).update(
            ended_at=now, ended_by=by, end_reason=MembershipEndReason.OTHER
        )
        sync_case_permissions(locked)
        # workflows moves the previous coordinator's open flow tasks here; a failure there rolls the handover back.
        hooks.case_handed_over(case=locked, previous_coordinator_id=previous_coordinator_id, by=by)
        audit.record_write(by, locked.pk, "casework.case", locked.pk, ["coordinator"], "hand over case")
        notify(
            recipient_id=to.pk,
            kind=NotificationKind.CASE_ASSIGNED,
            case_id=locked.pk,
            case_reference=locked.reference,
            actor_id=by.pk,
        )
        revoke_case(case.coordinator_id, locked.pk)  # the previous coordinator's sockets check their access again
    case.refresh_from_db()
    return case


def team_member_add(
    *,
    case: Case,
    user: User | None,
    team_role: TeamRole | None,
    valid_from: datetime.date | None,
    valid_until: datetime.date | None,
    added_by: User,
) -> TeamMembership:
    """Put ``user`` on the case's team with a role, from a day until a day (inclusive; open-ended if None)."""
    require_case_lead(added_by, case, purpose="add team member")
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    valid_from = valid_from or today
    if user is None:
        _add(errors, "user", _("Choose a person."))
    elif not may_join_team(user, case.municipality_id):
        _add(errors, "user", _("This person cannot be a member of a case team."))
    elif user.pk == case.coordinator_id:
        _add(errors, "user", _("This person coordinates the case already."))
    elif TeamMembership.objects.filter(case=case, user=user, ended_at__isnull=True).exists():
        _add(errors, "user", _("This person is already on the team."))
    if team_role is None or not team_role.is_active:
        _add(errors, "team_role", _("Choose the role on the case."))
    plausibility.check(
        errors, "valid_from", plausibility.case_day_problem(valid_from, plausibility.case_opened_on(case.opened_at))
    )
    if valid_until is not None and valid_until < valid_from:
        _add(errors, "valid_until", _("The last day cannot be before the first day."))
    elif valid_until is not None and valid_until < today:
        _add(errors, "valid_until", _("The last day cannot be in the past."))
    _errors(errors)
    assert user is not None
    assert team_role is not None
    try:
        with audit.atomic(savepoint=False):
            membership = TeamMembership.objects.create(
                case=case,
                user=user,
                team_role=team_role,
                valid_from=valid_from,
                valid_until=valid_until,
                added_by=added_by,
            )
            sync_case_permissions(case)
            audit.record_write(
                added_by,
                case.pk,
                "casework.teammembership",
                membership.pk,
                ["team_role", "user", "valid_from", "valid_until"],
                "add team member",
            )
            notify(
                recipient_id=user.pk,
                kind=NotificationKind.MEMBERSHIP_ADDED,
                case_id=case.pk,
                case_reference=case.reference,
                object_type="casework.teammembership",
                object_id=membership.pk,
                actor_id=added_by.pk,
            )
    except IntegrityError as exc:
        raise ValidationError({"user": [_("This person is already on the team.")]}) from exc
    return membership


def team_member_end(*, membership: TeamMembership, ended_by: User, reason: str) -> TeamMembership:
    """End a membership now: the member's access ends with their next request."""
    case = membership.case
    require_case_lead(ended_by, case, purpose="end team membership")
    if reason not in MembershipEndReason.values or reason == MembershipEndReason.CASE_CLOSED:
        raise ValidationError({"reason": [_("Choose why the membership ends.")]})
    now = timezone.now()
    with audit.atomic():
        updated = TeamMembership.objects.filter(pk=membership.pk, ended_at__isnull=True).update(
            ended_at=now, ended_by=ended_by, end_reason=reason
        )
        if not updated:
            raise ValidationError({"reason": [_("This membership has already ended.")]})
        sync_case_permissions(case)
        audit.record_write(
            ended_by, case.pk, "casework.teammembership", membership.pk, ["ended_at", "end_reason"], "end membership"
        )
        notify(
            recipient_id=membership.user_id,
            kind=NotificationKind.MEMBERSHIP_ENDED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type="casework.teammembership",
            object_id=membership.pk,
            actor_id=ended_by.pk,
        )
        revoke_case(membership.user_id, case.pk)
        membership.refresh_from_db()
        hooks.team_membership_ended(membership=membership)
    return membership


def case_note_add(*, case: Case, author: User, compartment: str, text: str, kept_apart: str = "") -> CaseNote:
    """Write a note in a compartment: partners in their own sector's, OSPOD in any; sealed with the case's key.
    ``kept_apart``: a § 55(2) reason (``KeptApartReason``) when the note is kept apart from what parents inspect,
    e.g. what the child said without the legal representative present; "" for none."""
    access = load_case_access(author, case)
    allowed = access.note_compartments()
    if not allowed:
        raise refuse(author, case, purpose="write case note")
    errors: dict[str, list[str]] = {}
    if compartment not in allowed:
        _add(errors, "compartment", _("You cannot write in this part of the file."))
    text = (text or "").strip()
    if not text:
        _add(errors, "text", _("This field is required."))
    elif len(text) > NOTE_MAX:
        _add(
            errors,
            "text",
            _("At most %(limit)d characters (it has %(count)d).") % {"limit": NOTE_MAX, "count": len(text)},
        )
    kept_apart = kept_apart_check(errors, kept_apart)
    _errors(errors)
    with audit.atomic():
        note = CaseNote(
            case=case,
            compartment=compartment,
            author=author,
            author_organisation=author.organisation,
        )
        seal_values(note, {"text": text})
        note.save(force_insert=True)
        audit.record_write(author, case.pk, "casework.casenote", note.pk, ["text"], "write case note")
        kept_apart_on_write(case=case, item_type=KeptApartItem.NOTE, item_id=note.pk, reason=kept_apart, by=author)
    return note
