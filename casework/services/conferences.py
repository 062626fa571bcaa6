"""Case conferences (případová konference, § 14 of Act No. 359/1999 Coll.): scheduling, the record, decisions,
sign-off, addenda, cancelling.

The case's lead (coordinator, or a supervisor covering) on an open case does all of it. The logistics (when, where,
the online link) are in clear: they travel in the invitations. The names and e-mail addresses of participants without
an account are sealed (identity); the minutes, decisions and addenda are sealed (social). A signed-off record never
changes: every edit is refused with a field error and nothing written; corrections are addenda.

Same contract as every service here: keyword-only, one transaction, field-level ``ValidationError`` with nothing
written, ``PermissionDenied`` after a committed denial row, writes audited by field name, notifications (kind, case
reference and ids only) inside the transaction. Invitees get e-mails with an iCalendar file after the commit
(``casework.services.invitations``): on scheduling, rescheduling (SEQUENCE grows) and cancelling.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import plausibility
from casework.models import (
    Attendance,
    Case,
    ChildParticipation,
    Conference,
    ConferenceAddendum,
    ConferenceDecision,
    ConferenceInvitee,
    ConferenceStatus,
    KeptApartItem,
    Organisation,
    ParticipantRelation,
    TeamMembership,
    User,
)
from casework.sealing import seal_values
from casework.services import invitations
from casework.services.kept_apart import kept_apart_check, kept_apart_on_write
from casework.services.validation import add_error, clean_text
from notifications.services import notify_many
from permissions import audit
from permissions.access import require_case_lead

DURATION_MIN = 15
DURATION_MAX = 480
PLACE_MAX = 200
LINK_MAX = 500
NAME_MAX = 200
EMAIL_MAX = 254
MINUTES_MAX = 50_000
DECISION_MAX = 5_000
ADDENDUM_MAX = 10_000


@dataclass(frozen=True)
class ParticipantInput:
    """A participant without an account: a parent, the child, a relative, another professional."""

    name: str
    relation: str
    email: str = ""


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _current_members(case: Case) -> dict[int, TeamMembership]:
    return {
        m.user_id: m
        for m in TeamMembership.objects.current().filter(case=case).select_related("user", "user__organisation")
    }


def _refuse_signed_off(conference: Conference) -> None:
    if conference.status == ConferenceStatus.SIGNED_OFF:
        raise ValidationError(
            {"status": [_("The record of this conference is signed off and cannot change; add an addendum instead.")]}
        )


def _locked(conference: Conference) -> Conference:
    return Conference.objects.select_for_update(no_key=True).get(pk=conference.pk)


def _invited_user_ids(conference: Conference, case: Case) -> list[int]:
    told = invitations.invitees_to_tell(conference, coordinator_id=case.coordinator_id)
    return [uid for uid in told.values_list("user_id", flat=True) if uid is not None]


def _tell_invitees(conference: Conference, case: Case, by: User, notice: invitations.Notice) -> None:
    """The invited users get a notification of the news (kind, reference and ids only) and every invitee with an
    address an e-mail with the calendar invitation, update or cancellation, after the commit."""
    notify_many(
        recipient_ids=_invited_user_ids(conference, case),
        kind=notice.kind,
        case_id=case.pk,
        case_reference=case.reference,
        object_type="casework.conference",
        object_id=conference.pk,
        actor_id=by.pk,
    )
    invitations.send_after_commit(conference, by=by, notice=notice)


def _clean_logistics(
    errors: dict[str, list[str]],
    starts_at: datetime.datetime | None,
    duration_minutes: int,
    place: str,
    online_link: str,
) -> tuple[str, str]:
    """When, how long, where: in the future, 15 to 480 minutes, a place or an online link; returns the cleaned place
    and link."""
    if starts_at is None or starts_at <= timezone.now():
        add_error(errors, "starts_at", _("A conference can only be scheduled in the future."))
    if not isinstance(duration_minutes, int) or not DURATION_MIN <= duration_minutes <= DURATION_MAX:
        add_error(
            errors,
            "duration_minutes",
            _("The duration must be between %(low)d and %(high)d minutes.")
            % {"low": DURATION_MIN, "high": DURATION_MAX},
        )
    place = clean_text(errors, "place", place, PLACE_MAX, required=False)
    online_link = clean_text(errors, "online_link", online_link, LINK_MAX, required=False)
    if not place and not online_link:
        add_error(errors, "place", _("Give a place or an online link."))
    return place, online_link


def conference_schedule(
    *,
    case: Case,
    by: User,
    starts_at: datetime.datetime,
    duration_minutes: int,
    place: str,
    online_link: str,
    members: Sequence[User],
    participants: Sequence[ParticipantInput],
) -> Conference:
    """Schedule a conference (in the future, with a place or an online link, 15 to 480 minutes), inviting current team
    members (each notified: kind and case reference only) and participants without an account (sealed)."""
    require_case_lead(by, case, purpose="schedule case conference")
    errors: dict[str, list[str]] = {}
    place, online_link = _clean_logistics(errors, starts_at, duration_minutes, place, online_link)
    current = _current_members(case)
    seen: set[int] = set()
    for member in members:
        if member.pk not in current:
            message = _("%(name)s is not a current member of the team.") % {"name": member.display_name()}
            add_error(errors, "members", message)
        if member.pk in seen:
            add_error(errors, "members", _("Each member can be invited once."))
        seen.add(member.pk)
    cleaned: list[tuple[str, str, str]] = []
    for participant in participants:
        name = clean_text(errors, "participants", participant.name, NAME_MAX)
        if participant.relation not in ParticipantRelation.values:
            add_error(errors, "participants", _("Choose how each participant is related to the child."))
        email = (participant.email or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                add_error(errors, "participants", _("Enter a valid e-mail address or leave it empty."))
            if len(email) > EMAIL_MAX:
                add_error(errors, "participants", _("The e-mail address is too long."))
        cleaned.append((name, participant.relation, email))
    _raise(errors)
    purpose = "schedule case conference"
    with audit.atomic():
        conference = Conference(
            case=case,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            place=place,
            online_link=online_link,
            organised_by=by,
        )
        seal_values(conference, {"minutes": None})
        conference.save(force_insert=True)
        audit.record_write(
            by,
            case.pk,
            "casework.conference",
            conference.pk,
            ["starts_at", "duration_minutes", "place", "online_link"],
            purpose,
        )
        for member in members:
            invitee = ConferenceInvitee(case=case, conference=conference, user=member)
            seal_values(invitee, {"name": None, "email": None})
            invitee.save(force_insert=True)
            audit.record_write(by, case.pk, "casework.conferenceinvitee", invitee.pk, ["user"], purpose)
        for name, relation, email in cleaned:
            invitee = ConferenceInvitee(case=case, conference=conference, relation=relation)
            seal_values(invitee, {"name": name, "email": email or None})
            invitee.save(force_insert=True)
            audit.record_write(
                by, case.pk, "casework.conferenceinvitee", invitee.pk, ["relation", "name", "email"], purpose
            )
        _tell_invitees(conference, case, by, invitations.Notice.INVITATION)
    return conference


def conference_record(
    *,
    conference: Conference,
    by: User,
    attendance: Mapping[str, str],
    child_participation: str,
    minutes: str,
    kept_apart: str = "",
) -> Conference:
    """Write the record: attendance per invitee, how the child took part, the minutes (sealed). From the start time
    on; the conference becomes HELD. Allowed again while held (edits), refused once signed off or cancelled.
    ``kept_apart``: a § 55(2) reason for the minutes ("" for none); an edit with none keeps the minutes' mark."""
    case = conference.case
    purpose = "record case conference"
    require_case_lead(by, case, purpose=purpose)
    errors: dict[str, list[str]] = {}
    _refuse_signed_off(conference)
    if conference.status == ConferenceStatus.CANCELLED:
        add_error(errors, "status", _("This conference was cancelled."))
    elif conference.starts_at > timezone.now():
        add_error(errors, "status", _("The record can be written once the conference has started."))
    invitees = {str(i.pk): i for i in ConferenceInvitee.objects.filter(conference=conference)}
    for key, value in attendance.items():
        if str(key) not in invitees:
            add_error(errors, "attendance", _("Unknown invitee."))
        elif value not in Attendance.values:
            add_error(errors, "attendance", _("Choose the attendance of each invitee."))
    if child_participation not in ChildParticipation.values:
        add_error(errors, "child_participation", _("Say how the child took part."))
    text = clean_text(errors, "minutes", minutes, MINUTES_MAX)
    kept_apart = kept_apart_check(errors, kept_apart)
    _raise(errors)
    with audit.atomic():
        locked = _locked(conference)
        _refuse_signed_off(locked)
        if locked.status not in (ConferenceStatus.SCHEDULED, ConferenceStatus.HELD):
            raise ValidationError({"status": [_("This conference was cancelled.")]})
        seal_values(locked, {"minutes": text})
        locked.child_participation = child_participation
        if locked.status == ConferenceStatus.SCHEDULED:
            locked.status = ConferenceStatus.HELD
            locked.held_at = timezone.now()
        locked.save(update_fields=["minutes", "child_participation", "status", "held_at"])
        audit.record_write(
            by, case.pk, "casework.conference", locked.pk, ["status", "child_participation", "minutes"], purpose
        )
        kept_apart_on_write(case=case, item_type=KeptApartItem.MINUTES, item_id=locked.pk, reason=kept_apart, by=by)
        for key, value in attendance.items():
            invitee = invitees[str(key)]
            if invitee.attendance != value:
                ConferenceInvitee.objects.filter(pk=invitee.pk).update(attendance=value)
                audit.record_write(by, case.pk, "casework.conferenceinvitee", invitee.pk, ["attendance"], purpose)
    conference.refresh_from_db()
    return conference


def conference_decision_add(
    *,
    conference: Conference,
    by: User,
    text: str,
    owner_user: User | None = None,
    owner_organisation: Organisation | None = None,
    due_on: datetime.date | None = None,
) -> ConferenceDecision:
    """A decision of a held conference (sealed); with an owner (a current member, or the organisation of one) and a
    due date (not before the conference) it becomes an action of the next plan draft."""
    case = conference.case
    purpose = "add case conference decision"
    require_case_lead(by, case, purpose=purpose)
    _refuse_signed_off(conference)
    errors: dict[str, list[str]] = {}
    if conference.status != ConferenceStatus.HELD:
        add_error(errors, "status", _("Decisions can be recorded once the conference was held."))
    text = clean_text(errors, "text", text, DECISION_MAX)
    has_owner = owner_user is not None or owner_organisation is not None
    if owner_user is not None and owner_organisation is not None:
        add_error(errors, "owner", _("Choose one owner: a person or an organisation."))
    if has_owner and due_on is None:
        add_error(errors, "due_on", _("An action with an owner needs a due date."))
    if due_on is not None and not has_owner:
        add_error(errors, "owner", _("An action with a due date needs an owner."))
    current = _current_members(case)
    if owner_user is not None and owner_user.pk not in current:
        add_error(errors, "owner", _("The owner must be a current member of the team."))
    if owner_organisation is not None and owner_organisation.pk not in {
        m.user.organisation_id for m in current.values() if m.user.organisation_id is not None
    }:
        add_error(errors, "owner", _("The organisation must be one of a current member of the team."))
    if due_on is not None and due_on < timezone.localtime(conference.starts_at).date():
        add_error(errors, "due_on", _("The due date cannot be before the conference."))
    elif due_on is not None:
        plausibility.check(errors, "due_on", plausibility.due_date_problem(due_on))
    _raise(errors)
    with audit.atomic():
        locked = _locked(conference)
        _refuse_signed_off(locked)
        decision = ConferenceDecision(
            case=case,
            conference=locked,
            owner_user=owner_user,
            owner_organisation=owner_organisation,
            due_on=due_on,
            created_by=by,
        )
        seal_values(decision, {"text": text})
        decision.save(force_insert=True)
        audit.record_write(
            by,
            case.pk,
            "casework.conferencedecision",
            decision.pk,
            ["text", "owner_user", "owner_organisation", "due_on"],
            purpose,
        )
    return decision


def conference_sign_off(*, conference: Conference, by: User) -> Conference:
    """HELD → SIGNED_OFF (who and when); the minutes must be written. The record never changes afterwards."""
    case = conference.case
    purpose = "sign off case conference"
    require_case_lead(by, case, purpose=purpose)
    _refuse_signed_off(conference)
    if conference.status != ConferenceStatus.HELD:
        raise ValidationError({"status": [_("Only a held conference can be signed off.")]})
    if conference.minutes is None:
        raise ValidationError({"minutes": [_("Write the minutes before signing off.")]})
    with audit.atomic():
        locked = _locked(conference)
        _refuse_signed_off(locked)
        if locked.status != ConferenceStatus.HELD or locked.minutes is None:
            raise ValidationError({"status": [_("Only a held conference can be signed off.")]})
        locked.status = ConferenceStatus.SIGNED_OFF
        locked.signed_off_by = by
        locked.signed_off_at = timezone.now()
        locked.save(update_fields=["status", "signed_off_by", "signed_off_at"])
        audit.record_write(by, case.pk, "casework.conference", locked.pk, ["status", "signed_off_by"], purpose)
    conference.refresh_from_db()
    return conference


def conference_addendum_add(*, conference: Conference, by: User, text: str) -> ConferenceAddendum:
    """A correction or addition to a signed-off record (sealed)."""
    case = conference.case
    purpose = "add case conference addendum"
    require_case_lead(by, case, purpose=purpose)
    errors: dict[str, list[str]] = {}
    if conference.status != ConferenceStatus.SIGNED_OFF:
        add_error(errors, "status", _("Addenda belong to a signed-off record; edit the record until then."))
    text = clean_text(errors, "text", text, ADDENDUM_MAX)
    _raise(errors)
    with audit.atomic():
        addendum = ConferenceAddendum(case=case, conference=conference, author=by)
        seal_values(addendum, {"text": text})
        addendum.save(force_insert=True)
        audit.record_write(by, case.pk, "casework.conferenceaddendum", addendum.pk, ["text"], purpose)
    return addendum


def conference_cancel(*, conference: Conference, by: User) -> Conference:
    """SCHEDULED → CANCELLED; the invited members are notified (kind and case reference only)."""
    case = conference.case
    purpose = "cancel case conference"
    require_case_lead(by, case, purpose=purpose)
    _refuse_signed_off(conference)
    if conference.status != ConferenceStatus.SCHEDULED:
        raise ValidationError({"status": [_("Only a scheduled conference can be cancelled.")]})
    with audit.atomic():
        locked = _locked(conference)
        if locked.status != ConferenceStatus.SCHEDULED:
            raise ValidationError({"status": [_("Only a scheduled conference can be cancelled.")]})
        locked.status = ConferenceStatus.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.sequence += 1
        locked.save(update_fields=["status", "cancelled_at", "sequence"])
        audit.record_write(by, case.pk, "casework.conference", locked.pk, ["status"], purpose)
        _tell_invitees(locked, case, by, invitations.Notice.CANCELLED)
    conference.refresh_from_db()
    return conference


def conference_reschedule(
    *,
    conference: Conference,
    by: User,
    starts_at: datetime.datetime,
    duration_minutes: int,
    place: str,
    online_link: str,
) -> Conference:
    """New time, duration, place or link of a scheduled conference (checked like scheduling). SEQUENCE grows, so the
    invitees' calendars replace the event; invited members are notified (kind and case reference only) and every
    invitee with an address gets the updated invitation after the commit."""
    case = conference.case
    purpose = "reschedule case conference"
    require_case_lead(by, case, purpose=purpose)
    _refuse_signed_off(conference)
    if conference.status != ConferenceStatus.SCHEDULED:
        raise ValidationError({"status": [_("Only a scheduled conference can be rescheduled.")]})
    errors: dict[str, list[str]] = {}
    place, online_link = _clean_logistics(errors, starts_at, duration_minutes, place, online_link)
    _raise(errors)
    new = {"starts_at": starts_at, "duration_minutes": duration_minutes, "place": place, "online_link": online_link}
    changed = [name for name, value in new.items() if getattr(conference, name) != value]
    if not changed:
        raise ValidationError({"starts_at": [_("Change the time, the duration, the place or the link.")]})
    with audit.atomic():
        locked = _locked(conference)
        if locked.status != ConferenceStatus.SCHEDULED:
            raise ValidationError({"status": [_("Only a scheduled conference can be rescheduled.")]})
        for name, value in new.items():
            setattr(locked, name, value)
        locked.sequence += 1
        locked.save(update_fields=[*new, "sequence"])
        audit.record_write(by, case.pk, "casework.conference", locked.pk, changed, purpose)
        _tell_invitees(locked, case, by, invitations.Notice.CHANGED)
    conference.refresh_from_db()
    return conference
