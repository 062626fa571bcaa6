"""Supervisor cover (zastupování): naming a deputy supervisor for a period, and ending a cover early.

While a cover is in force the deputy is one of the covered authority's acting supervisors
(``casework.selectors.accounts.supervisor_ids``): triage, approvals and escalations reach them, and they supervise
the authority's cases and reports (``permissions.policy.Subject.supervises``). Both writes are audited and notified
(ids only: no case, no name, no note). docs/adr/0019-supervisor-cover.md says why it works this way.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import SupervisorCover, User
from casework.services.validation import add_error as _add
from casework.services.validation import clean_text
from notifications.models import Kind as NotificationKind
from notifications.services import notify_many
from permissions import audit
from permissions.access import record_denial
from permissions.policy import Subject, may_be_deputy, may_end_cover, may_name_cover

OBJECT_TYPE = "casework.supervisorcover"
#: The longest cover one record may name: a longer absence is named again (and so looked at again).
MAX_COVER = datetime.timedelta(days=366)
NOTE_LIMIT = 200
_FIELDS = ["supervisor", "deputy", "municipality", "starts_at", "ends_at", "note"]


def _authority_of(user: User | None) -> int | None:
    return user.organisation.municipality_id if user is not None and user.organisation is not None else None


def supervisor_cover_add(
    *,
    supervisor: User | None,
    deputy: User | None,
    starts_at: datetime.datetime | None,
    ends_at: datetime.datetime | None,
    note: str = "",
    by: User,
) -> SupervisorCover:
    """Name ``deputy`` to stand in for ``supervisor`` from ``starts_at`` until ``ends_at`` (a start earlier today
    counts from now: nothing is routed retroactively).

    Refused with field-level errors: no or the same person, a deputy who is not an active supervisor, an end not
    after the start or already past, a period over a year, and — checked under a lock of both users' rows, so two
    requests at once cannot both pass — a supervisor who already has a deputy for part of the period, a deputy who is
    away themselves then, or a supervisor who stands in for someone else then. ``by`` must be the supervisor or
    another supervisor of the same authority (``may_name_cover``); anyone else gets an audited PermissionDenied.
    """
    municipality_id = _authority_of(supervisor) if supervisor is not None else _authority_of(by)
    by_subject = Subject.from_user(by)
    if not may_name_cover(by_subject, supervisor_municipality_id=municipality_id):
        record_denial(by, OBJECT_TYPE, "-", "name supervisor cover")
        raise PermissionDenied
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    if supervisor is None:
        _add(errors, "supervisor", _("Choose the supervisor who will be away."))
    elif not Subject.from_user(supervisor).is_supervisor:
        _add(errors, "supervisor", _("Only an active supervisor of this authority can be covered."))
    if deputy is None:
        _add(errors, "deputy", _("Choose the deputy."))
    elif supervisor is not None and deputy.pk == supervisor.pk:
        _add(errors, "deputy", _("A supervisor cannot stand in for themselves: choose another supervisor."))
    elif not may_be_deputy(Subject.from_user(deputy), supervisor_id=supervisor.pk if supervisor else None):
        _add(errors, "deputy", _("The deputy must be an active supervisor (head of an OSPOD department)."))
    if starts_at is None:
        _add(errors, "starts_at", _("Enter the first day of the cover."))
    if ends_at is None:
        _add(errors, "ends_at", _("Enter the last day of the cover."))
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            _add(errors, "ends_at", _("The cover must end after it starts."))
        elif ends_at <= now:
            _add(errors, "ends_at", _("This period is already over: a cover can only be named for the future."))
        elif ends_at - starts_at > MAX_COVER:
            _add(errors, "ends_at", _("A cover can last at most a year; name a new one when it ends."))
    note = clean_text(errors, "note", note, NOTE_LIMIT, required=False)
    if errors:
        raise ValidationError(errors)
    assert supervisor is not None
    assert deputy is not None
    assert starts_at is not None
    assert ends_at is not None
    assert municipality_id is not None
    starts_at = max(starts_at, now)
    with audit.atomic():
        # Both people's rows, in id order: two covers named at once for either of them wait for each other.
        list(User.objects.select_for_update(no_key=True).filter(pk__in=[supervisor.pk, deputy.pk]).order_by("pk"))
        taken = SupervisorCover.objects.overlapping(starts_at, ends_at)
        if taken.filter(supervisor=supervisor).exists():
            errors["starts_at"] = [_("This supervisor already has a deputy for part of this period.")]
        elif taken.filter(deputy=supervisor).exists():
            errors["supervisor"] = [
                _("This supervisor stands in for another supervisor during part of this period; end that cover first.")
            ]
        if taken.filter(supervisor=deputy).exists():
            errors["deputy"] = [_("The deputy is away themselves for part of this period (they have a deputy).")]
        if errors:
            raise ValidationError(errors)
        cover = SupervisorCover.objects.create(
            supervisor=supervisor,
            deputy=deputy,
            municipality_id=municipality_id,
            starts_at=starts_at,
            ends_at=ends_at,
            note=note,
            created_by=by,
        )
        notify_many(
            recipient_ids=[deputy.pk, supervisor.pk],
            kind=NotificationKind.COVER_NAMED,
            object_type=OBJECT_TYPE,
            object_id=cover.pk,
            actor_id=by.pk,
        )
        audit.record_write(by, None, OBJECT_TYPE, cover.pk, _FIELDS, "name supervisor cover")
    return cover


def supervisor_cover_end(*, cover_id: int, by: User) -> SupervisorCover:
    """End a cover now (one not started yet is cancelled: it ends where it would have begun). For a supervisor of
    the covered authority or the deputy (``may_end_cover``); anyone else gets an audited PermissionDenied, and a
    cover already over a field-less ValidationError. The deputy, the supervisor and whoever named it are told."""
    found = SupervisorCover.objects.filter(pk=cover_id).first()
    if found is None:
        raise SupervisorCover.DoesNotExist
    if not may_end_cover(Subject.from_user(by), municipality_id=found.municipality_id, deputy_id=found.deputy_id):
        record_denial(by, OBJECT_TYPE, found.pk, "end supervisor cover")
        raise PermissionDenied
    with audit.atomic():
        cover = SupervisorCover.objects.select_for_update(no_key=True).get(pk=cover_id)
        now = timezone.now()
        if cover.ends_at <= now or cover.ended_early_at is not None:
            raise ValidationError(_("This cover has already ended."))
        cover.ends_at = max(now, cover.starts_at)
        cover.ended_early_at = now
        cover.ended_by = by
        cover.save(update_fields=["ends_at", "ended_early_at", "ended_by"])
        notify_many(
            recipient_ids=[cover.deputy_id, cover.supervisor_id, cover.created_by_id],
            kind=NotificationKind.COVER_ENDED,
            object_type=OBJECT_TYPE,
            object_id=cover.pk,
            actor_id=by.pk,
        )
        audit.record_write(by, None, OBJECT_TYPE, cover.pk, ["ends_at", "ended_early_at"], "end supervisor cover")
    return cover
