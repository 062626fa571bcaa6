"""Shares and consents: the coordinator widens what one team member (or one organisation's members) may read.

A share is for a stated purpose and until a day; it never makes a case visible to someone off the team. Sharing
health or child's-voice items rests on a recorded agreement (``Consent``) and stops the moment that agreement is
withdrawn (``Share.objects.in_force``). The purpose is sealed under the case's key, in the shared compartment: only the
gate shows it back. Same service rules as ``casework.services``: keyword-only, one transaction, field-level errors,
refusals audited, writes audited by field name.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import plausibility
from casework.compartments import Compartment
from casework.models import Case, CaseNote, Organisation, TeamMembership, User
from casework.sealing import seal_values
from casework.services.validation import add_error
from notifications.models import Kind as NotificationKind
from notifications.services import notify_many
from permissions import audit
from permissions.access import load_case_access, require_case_lead
from permissions.models import Consent, ConsentCovers, ConsentGiver, Share
from permissions.policy import (
    CONSENT_REQUIRED,
    SHAREABLE_COMPARTMENTS,
    SHAREABLE_ITEM_COMPARTMENTS,
    Relationship,
)

PURPOSE_MAX = 200
NAME_MAX = 100


def _share_recipients(share: Share) -> list[int]:
    """The people a share reaches: its one member, or the organisation's current members on the team."""
    if share.recipient_user_id is not None:
        return [share.recipient_user_id]
    members = TeamMembership.objects.current().filter(case_id=share.case_id)
    return list(members.filter(user__organisation=share.recipient_organisation_id).values_list("user_id", flat=True))


def _notify_share(share: Share, recipients: list[int], kind: str, actor: User) -> None:
    notify_many(
        recipient_ids=recipients,
        kind=kind,
        case_id=share.case_id,
        case_reference=share.case.reference,
        object_type="permissions.share",
        object_id=share.pk,
        actor_id=actor.pk,
    )


def share_grant(
    *,
    case: Case,
    granted_by: User,
    recipient_user: User | None = None,
    recipient_organisation: Organisation | None = None,
    compartment: str = "",
    note: CaseNote | None = None,
    purpose: str,
    valid_until: datetime.date | None,
    consent: Consent | None = None,
) -> Share:
    """Share one note (``note``) or one whole ``compartment`` with a current member or an organisation on the team."""
    require_case_lead(granted_by, case, purpose="share")
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    opened_on = plausibility.case_opened_on(case.opened_at)
    if (recipient_user is None) == (recipient_organisation is None):
        add_error(errors, "recipient", _("Choose one team member or one organisation."))
    elif recipient_user is not None:
        recipient_access = load_case_access(recipient_user, case)
        if recipient_access.relationship is Relationship.CASE_LEAD:
            add_error(errors, "recipient", _("This person sees the whole case already."))
        elif recipient_access.relationship is not Relationship.TEAM_MEMBER:
            add_error(errors, "recipient", _("Share only with a current member of the team."))
    elif recipient_organisation is not None:
        on_team = TeamMembership.objects.current().filter(case=case, user__organisation=recipient_organisation)
        if not on_team.exists():
            add_error(errors, "recipient", _("Nobody from this organisation is on the team now."))
    if note is not None:
        if note.case_id != case.pk:
            add_error(errors, "note", _("This note is not part of this case."))
        elif note.compartment not in SHAREABLE_ITEM_COMPARTMENTS:
            add_error(errors, "note", _("This kind of note cannot be shared."))
        else:
            compartment = note.compartment
    elif compartment not in SHAREABLE_COMPARTMENTS:
        add_error(errors, "compartment", _("Choose what to share."))
    if compartment in CONSENT_REQUIRED:
        if consent is None:
            add_error(errors, "consent", _("Sharing this needs a recorded agreement."))
        elif consent.case_id != case.pk or consent.compartment != compartment or consent.is_withdrawn:
            add_error(errors, "consent", _("Choose an agreement of this case that covers this and stands."))
    else:
        consent = None
    purpose = " ".join((purpose or "").split())
    if not purpose:
        add_error(errors, "purpose", _("Say why it is shared."))
    elif len(purpose) > PURPOSE_MAX:
        add_error(errors, "purpose", _("At most %(limit)d characters.") % {"limit": PURPOSE_MAX})
    if valid_until is None:
        add_error(errors, "valid_until", _("Give the last day of the share."))
    elif valid_until < today:
        add_error(errors, "valid_until", _("The last day cannot be in the past."))
    else:
        plausibility.check(errors, "valid_until", plausibility.case_day_problem(valid_until, opened_on))
    if errors:
        raise ValidationError(errors)
    assert valid_until is not None
    with audit.atomic():
        share = Share(
            case=case,
            compartment=compartment,
            item_type=note._meta.label_lower if note is not None else "",
            item_id=note.pk if note is not None else None,
            recipient_user=recipient_user,
            recipient_organisation=recipient_organisation,
            valid_until=valid_until,
            consent=consent,
            granted_by=granted_by,
        )
        seal_values(share, {"purpose": purpose})
        share.save(force_insert=True)
        audit.record_write(
            granted_by, case.pk, "permissions.share", share.pk, ["compartment", "purpose", "valid_until"], "share"
        )
        _notify_share(share, _share_recipients(share), NotificationKind.SHARE_GRANTED, granted_by)
    return share


def share_revoke(*, share: Share, revoked_by: User) -> Share:
    """End a share now: it stops working with the recipient's next request."""
    case = share.case
    require_case_lead(revoked_by, case, purpose="revoke share")
    with audit.atomic():
        if not Share.objects.filter(pk=share.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=revoked_by
        ):
            raise ValidationError({"share": [_("This share has already been revoked.")]})
        audit.record_write(revoked_by, case.pk, "permissions.share", share.pk, ["revoked_at"], "revoke share")
        _notify_share(share, _share_recipients(share), NotificationKind.SHARE_REVOKED, revoked_by)
    share.refresh_from_db()
    return share


def consent_errors(
    *,
    case: Case,
    compartment: str,
    given_by: str,
    given_by_name: str,
    given_on: datetime.date | None,
    covers: str = ConsentCovers.SHARE,
) -> tuple[dict[str, list[str]], str]:
    """The field errors of an agreement to record (empty when it may be recorded), and the name as it will be kept.
    A referral (``casework.services.referrals``) checks its agreement with its own fields before it opens its
    transaction, so the coordinator sees every error at once."""
    errors: dict[str, list[str]] = {}
    if covers == ConsentCovers.REFERRAL:
        if compartment != Compartment.SERVICES:
            add_error(errors, "compartment", _("An agreement to a referral covers the referral letter."))
    elif covers != ConsentCovers.SHARE or compartment not in CONSENT_REQUIRED:
        add_error(errors, "compartment", _("Agreements are recorded for health and the child's voice."))
    if given_by not in ConsentGiver.values:
        add_error(errors, "given_by", _("Choose who agreed."))
    name = " ".join((given_by_name or "").split())
    if not name:
        add_error(errors, "given_by_name", _("This field is required."))
    elif len(name) > NAME_MAX:
        add_error(errors, "given_by_name", _("At most %(limit)d characters.") % {"limit": NAME_MAX})
    if given_on is None:
        add_error(errors, "given_on", _("This field is required."))
    elif given_on > timezone.localdate():
        add_error(errors, "given_on", _("The date cannot be in the future."))
    else:
        plausibility.check(
            errors, "given_on", plausibility.case_day_problem(given_on, plausibility.case_opened_on(case.opened_at))
        )
    return errors, name


def consent_record(
    *,
    case: Case,
    recorded_by: User,
    compartment: str,
    given_by: str,
    given_by_name: str,
    on_behalf_of_child: bool,
    given_on: datetime.date | None,
    covers: str = ConsentCovers.SHARE,
) -> Consent:
    """Record who agreed (and on whose behalf, when, to what) to sharing health or child's-voice information — or,
    with ``covers=REFERRAL``, to a referral of the case to a service (its letter, in the services compartment)."""
    require_case_lead(recorded_by, case, purpose="record consent")
    errors, name = consent_errors(
        case=case,
        compartment=compartment,
        given_by=given_by,
        given_by_name=given_by_name,
        given_on=given_on,
        covers=covers,
    )
    if errors:
        raise ValidationError(errors)
    assert given_on is not None
    with audit.atomic():
        consent = Consent(
            case=case,
            compartment=compartment,
            covers=covers,
            given_by=given_by,
            on_behalf_of_child=on_behalf_of_child,
            given_on=given_on,
            recorded_by=recorded_by,
        )
        seal_values(consent, {"given_by_name": name})
        consent.save(force_insert=True)
        audit.record_write(
            recorded_by, case.pk, "permissions.consent", consent.pk, ["given_by_name", "compartment"], "record consent"
        )
    return consent


def consent_withdraw(*, consent: Consent, withdrawn_by: User, withdrawn_on: datetime.date | None = None) -> Consent:
    """Record that the agreement was withdrawn: every share resting on it stops with the next request."""
    case = consent.case
    require_case_lead(withdrawn_by, case, purpose="withdraw consent")
    day = withdrawn_on or timezone.localdate()
    if day < consent.given_on or day > timezone.localdate():
        raise ValidationError({"withdrawn_on": [_("The date must be between the agreement and today.")]})
    with audit.atomic():
        if not Consent.objects.filter(pk=consent.pk, withdrawal_recorded_at__isnull=True).update(
            withdrawn_on=day, withdrawal_recorded_by=withdrawn_by, withdrawal_recorded_at=timezone.now()
        ):
            raise ValidationError({"withdrawn_on": [_("This agreement has already been withdrawn.")]})
        audit.record_write(
            withdrawn_by, case.pk, "permissions.consent", consent.pk, ["withdrawn_on"], "withdraw consent"
        )
        in_force = Share.objects.filter(consent=consent, revoked_at__isnull=True, valid_until__gte=timezone.localdate())
        for stopped in in_force.select_related("case"):
            _notify_share(stopped, _share_recipients(stopped), NotificationKind.SHARE_REVOKED, withdrawn_by)
    consent.refresh_from_db()
    return consent
