"""Referrals: the coordinator refers a case to a service of the network; the provider's intake worker answers.

The state machine (docs/adr/0029-referrals.md)::

    sent ──accept──▶ accepted            (one team membership, services sector, in the same transaction)
      │  ──waitlist─▶ waiting ──accept / decline / waitlist (new date)
      │  ──decline──▶ declined           (a reason category, an explanation; the provider keeps nothing)
      └──withdraw (the case's lead, while pending)──▶ withdrawn

Each transition is allowed by one predicate of ``permissions.policy`` for the acting user, takes the referral's row
lock, re-checks the status under it, writes one ``ReferralEvent``, audits the write by field name and notifies the
other side with ids only — all in one transaction (lock order: domain rows, then the audit head).

The letter is made before the transaction opens: the chosen parts are read through the gate for the coordinator
(``purpose="referral letter"``, audited and committed), composed and sealed under the case's key. Nothing of it
reaches a notification, a URL or a log line.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from casework.compartments import Compartment
from casework.models import Case, CaseNote, Sector, TeamMembership, TeamRole, User
from casework.sealing import seal_values
from casework.services.validation import add_error, clean_text
from notifications.models import Kind as NotificationKind
from notifications.services import notify, notify_many
from permissions import audit, gate
from permissions.access import load_case_access, refuse
from permissions.models import ConsentCovers
from permissions.object_perms import sync_case_permissions
from permissions.policy import (
    REFERRAL_INTAKE_ROLES,
    Subject,
    may_answer_referral,
    may_join_team,
    may_refer,
    may_withdraw_referral,
)
from permissions.referrals import referral_facts, refuse_referral
from permissions.sharing import consent_errors, consent_record
from services.models import Service
from services.referrals.models import (
    PENDING_REFERRAL_STATUSES,
    DeclineReason,
    Referral,
    ReferralEvent,
    ReferralFor,
    ReferralStatus,
)

REASON_MAX = 4000
EXPLANATION_MAX = 2000
#: Notes of these compartments may go into a letter: what OSPOD and the partners wrote about the family's situation.
#: Never the notifier, the child's identity, health or what the child said (those need their own agreement to share).
LETTER_NOTE_COMPARTMENTS = frozenset({Compartment.SOCIAL, Compartment.SCHOOL, Compartment.SERVICES, Compartment.OTHER})
#: The letter's child part: name and date of birth (case basics). Never the birth number or the address.
LETTER_CHILD_FIELDS = ("given_name", "family_name", "date_of_birth")
#: How far ahead a waiting list's expected start may be.
WAITING_HORIZON_DAYS = 730
#: A referral still waiting beyond the service's stated time is reminded again after this many days.
REMIND_AGAIN_DAYS = 7


@dataclass(frozen=True)
class AgreementInput:
    """The family's agreement to the referral, as recorded with it (a ``permissions.Consent``)."""

    given_by: str
    given_by_name: str
    given_on: datetime.date | None
    on_behalf_of_child: bool = True


def letter_notes(case: Case) -> list[CaseNote]:
    """The case's notes that may go into a referral letter, oldest first (the form reads them through the gate)."""
    return list(
        CaseNote.objects.filter(case=case, compartment__in=[c.value for c in LETTER_NOTE_COMPARTMENTS]).order_by(
            "created_at", "id"
        )
    )


def intake_worker_ids(organisation_id: int) -> list[int]:
    """The provider's intake workers (the policy's ``takes_referrals_for``): its active partners."""
    return list(
        User.objects.filter(
            organisation_id=organisation_id,
            organisation__sector=Sector.SERVICE,
            role__in=REFERRAL_INTAKE_ROLES,
            is_active=True,
        ).values_list("pk", flat=True)
    )


def _compose_letter(
    *, user: User, case: Case, service: Service, referred: str, reason: str, child: bool, notes: Sequence[CaseNote]
) -> str:
    """The letter's text from the chosen parts only, each read through the gate for ``user`` (audited)."""
    lines = [
        _("Referral to the service: %(service)s") % {"service": service.name},
        _("Referred: %(whom)s") % {"whom": ReferralFor(referred).label},
        _("Coordinator: %(name)s") % {"name": case.coordinator.get_full_name() or case.coordinator.username},
    ]
    if child:
        shown = gate.read_case(user, case, [case.child], LETTER_CHILD_FIELDS, purpose="referral letter")[0]
        if shown.withheld:
            raise PermissionDenied
        name = " ".join(v for v in (shown.get("given_name"), shown.get("family_name")) if v)
        born = shown.get("date_of_birth") or ""
        if born:
            born = date_format(datetime.date.fromisoformat(born), "j. n. Y")
        lines.append(_("Child: %(name)s, born %(born)s") % {"name": name, "born": born})
    lines += ["", _("Why the family is referred:"), reason]
    if notes:
        texts = gate.read_case(user, case, list(notes), ["text"], purpose="referral letter")
        if any(t.withheld for t in texts):
            raise PermissionDenied
        lines += ["", _("From the case file:")]
        for note, text in zip(notes, texts, strict=True):
            label = Compartment(note.compartment).label
            day = date_format(timezone.localtime(note.created_at).date(), "j. n. Y")
            lines.append(f"— {label}, {day}: {text.get('text') or ''}")
    return "\n".join(lines)


def referral_send(
    *,
    case: Case,
    sent_by: User,
    service: Service | None,
    referred: str,
    reason: str,
    include_child: bool,
    note_ids: Sequence[str],
    agreement: AgreementInput,
) -> Referral:
    """Propose ``service`` for the child or the family, record the family's agreement, write the letter from the
    chosen parts and send it to the provider's intake workers. One pending referral per case and service."""
    access = load_case_access(sent_by, case)
    if not may_refer(access):
        raise refuse(sent_by, case, purpose="refer to a service")
    errors: dict[str, list[str]] = {}
    if service is None or not service.is_active or not service.provider.is_active:
        add_error(errors, "service", _("Choose a service of the network."))
    elif Referral.objects.filter(case=case, service=service, status__in=PENDING_REFERRAL_STATUSES).exists():
        add_error(errors, "service", _("This service already has a pending referral of this case."))
    if referred not in ReferralFor.values:
        add_error(errors, "referred", _("Say whom you refer."))
    reason = clean_text(errors, "reason", reason, REASON_MAX)
    by_id = {str(note.pk): note for note in letter_notes(case)}
    chosen = list(dict.fromkeys(str(n) for n in note_ids))
    if any(note_id not in by_id for note_id in chosen):
        add_error(errors, "notes", _("Choose only notes of this case that may go into a letter."))
    consent_problems, _name = consent_errors(
        case=case,
        compartment=Compartment.SERVICES,
        given_by=agreement.given_by,
        given_by_name=agreement.given_by_name,
        given_on=agreement.given_on,
        covers=ConsentCovers.REFERRAL,
    )
    for field_name, messages in consent_problems.items():
        for message in messages:
            add_error(errors, field_name, message)
    if errors:
        raise ValidationError(errors)
    assert service is not None
    notes = [by_id[note_id] for note_id in chosen]
    letter = _compose_letter(
        user=sent_by, case=case, service=service, referred=referred, reason=reason, child=include_child, notes=notes
    )
    parts = (["child"] if include_child else []) + ["reason"] + [f"note:{note.pk}" for note in notes]
    organisation_id = service.provider.organisation_id
    try:
        with audit.atomic():
            consent = consent_record(
                case=case,
                recorded_by=sent_by,
                compartment=Compartment.SERVICES,
                covers=ConsentCovers.REFERRAL,
                given_by=agreement.given_by,
                given_by_name=agreement.given_by_name,
                on_behalf_of_child=agreement.on_behalf_of_child,
                given_on=agreement.given_on,
            )
            referral = Referral(
                case=case,
                service=service,
                provider_organisation_id=organisation_id,
                referred=referred,
                consent=consent,
                letter_parts=parts,
                status=ReferralStatus.SENT,
                sent_by=sent_by,
            )
            seal_values(referral, {"letter": letter})
            referral.save(force_insert=True)
            ReferralEvent.objects.create(referral=referral, from_status="", to_status=ReferralStatus.SENT, by=sent_by)
            audit.record_write(
                sent_by, case.pk, "services.referral", referral.pk, ["service", "letter", "consent"], "refer"
            )
            notify_many(
                recipient_ids=intake_worker_ids(organisation_id),
                kind=NotificationKind.REFERRAL_RECEIVED,
                object_type="services.referral",
                object_id=referral.pk,
                actor_id=sent_by.pk,
            )
    except IntegrityError as exc:
        raise ValidationError({"service": [_("This service already has a pending referral of this case.")]}) from exc
    return referral


def _locked(referral: Referral) -> Referral:
    return Referral.objects.select_for_update().select_related("case", "consent").get(pk=referral.pk)


def _move(referral: Referral, *, to: str, by: User, fields: list[str], purpose: str, **values: object) -> None:
    """Write the transition inside the caller's ``audit.atomic``: the row, its history event, the audit row."""
    before = referral.status
    referral.status = to
    for name, value in values.items():
        setattr(referral, name, value)
    referral.save(update_fields=["status", *values.keys()])
    ReferralEvent.objects.create(referral=referral, from_status=before, to_status=to, by=by)
    audit.record_write(by, referral.case_id, "services.referral", referral.pk, ["status", *fields], purpose)


def _require_answer(by: User, referral: Referral, purpose: str) -> None:
    if not may_answer_referral(Subject.from_user(by), referral_facts(referral)):
        raise refuse_referral(by, referral, purpose)


def _stale(locked: Referral) -> None:
    if locked.status not in PENDING_REFERRAL_STATUSES or locked.consent.is_withdrawn:
        raise ValidationError({"status": [_("This referral has been answered or withdrawn in the meantime.")]})


def _notify_coordinator(referral: Referral, kind: str, actor: User | None) -> None:
    case = referral.case
    notify(
        recipient_id=case.coordinator_id,
        kind=kind,
        case_id=case.pk,
        case_reference=case.reference,
        object_type="services.referral",
        object_id=referral.pk,
        actor_id=actor.pk if actor is not None else None,
    )


def referral_accept(*, referral: Referral, by: User, member: User | None, team_role: TeamRole | None) -> Referral:
    """Accept: ``member`` (the intake worker or another person of the provider) joins the case's team with a
    services-sector role — exactly one membership, in the same transaction — and from then on the ordinary policy
    (the services sector's view of the case, tasks assigned to them) applies."""
    _require_answer(by, referral, "accept referral")
    case = referral.case
    errors: dict[str, list[str]] = {}
    if member is None or member.organisation_id != referral.provider_organisation_id:
        add_error(errors, "member", _("Choose a person of the provider."))
    elif not may_join_team(member, case.municipality_id):
        add_error(errors, "member", _("This person cannot be a member of a case team."))
    elif TeamMembership.objects.filter(case=case, user=member, ended_at__isnull=True).exists():
        add_error(errors, "member", _("This person is already on the team."))
    if team_role is None or not team_role.is_active or team_role.sector not in (Sector.SERVICE, ""):
        add_error(errors, "team_role", _("Choose a role of a social service."))
    if errors:
        raise ValidationError(errors)
    assert member is not None
    assert team_role is not None
    try:
        with audit.atomic():
            locked = _locked(referral)
            _stale(locked)
            membership = TeamMembership.objects.create(
                case=case,
                user=member,
                team_role=team_role,
                valid_from=timezone.localdate(),
                valid_until=None,
                added_by=by,
            )
            sync_case_permissions(case)
            audit.record_write(
                by,
                case.pk,
                "casework.teammembership",
                membership.pk,
                ["team_role", "user", "valid_from"],
                "accept referral",
            )
            _move(
                locked,
                to=ReferralStatus.ACCEPTED,
                by=by,
                fields=["membership"],
                purpose="accept referral",
                membership=membership,
                decided_by=by,
                decided_at=timezone.now(),
            )
            notify(
                recipient_id=member.pk,
                kind=NotificationKind.MEMBERSHIP_ADDED,
                case_id=case.pk,
                case_reference=case.reference,
                object_type="casework.teammembership",
                object_id=membership.pk,
                actor_id=by.pk,
            )
            _notify_coordinator(locked, NotificationKind.REFERRAL_ACCEPTED, by)
    except IntegrityError as exc:
        raise ValidationError({"member": [_("This person is already on the team.")]}) from exc
    return locked


def referral_waitlist(*, referral: Referral, by: User, expected_on: datetime.date | None) -> Referral:
    """Put on the waiting list with the day the service expects to start (again, to move the day)."""
    _require_answer(by, referral, "waitlist referral")
    today = timezone.localdate()
    if expected_on is None:
        raise ValidationError({"expected_on": [_("Give the day the service expects to start.")]})
    if expected_on < today:
        raise ValidationError({"expected_on": [_("The day cannot be in the past.")]})
    if expected_on > today + datetime.timedelta(days=WAITING_HORIZON_DAYS):
        raise ValidationError({"expected_on": [_("The day is more than two years away.")]})
    with audit.atomic():
        locked = _locked(referral)
        _stale(locked)
        _move(
            locked,
            to=ReferralStatus.WAITING,
            by=by,
            fields=["expected_on"],
            purpose="waitlist referral",
            expected_on=expected_on,
            decided_by=by,
            decided_at=timezone.now(),
        )
        _notify_coordinator(locked, NotificationKind.REFERRAL_WAITING, by)
    return locked


def referral_decline(*, referral: Referral, by: User, reason: str, explanation: str) -> Referral:
    """Decline with a reason category (``no_capacity`` feeds the network view) and an explanation (sealed). The
    provider keeps nothing: from now on its intake worker gets "not found" on the referral."""
    _require_answer(by, referral, "decline referral")
    errors: dict[str, list[str]] = {}
    if reason not in DeclineReason.values:
        add_error(errors, "reason", _("Choose why the referral is declined."))
    explanation = clean_text(errors, "explanation", explanation, EXPLANATION_MAX)
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        locked = _locked(referral)
        _stale(locked)
        seal_values(locked, {"decline_explanation": explanation})
        _move(
            locked,
            to=ReferralStatus.DECLINED,
            by=by,
            fields=["decline_reason", "decline_explanation"],
            purpose="decline referral",
            decline_reason=reason,
            decline_explanation=locked.decline_explanation,
            decided_by=by,
            decided_at=timezone.now(),
        )
        _notify_coordinator(locked, NotificationKind.REFERRAL_DECLINED, by)
    return locked


def referral_withdraw(*, referral: Referral, by: User) -> Referral:
    """The case's lead withdraws a pending referral: the provider's view of it ends with its next request."""
    case = referral.case
    access = load_case_access(by, case)
    if not may_withdraw_referral(access, referral_facts(referral)):
        raise refuse_referral(by, referral, "withdraw referral")
    with audit.atomic():
        locked = _locked(referral)
        if locked.status not in PENDING_REFERRAL_STATUSES:
            raise ValidationError({"status": [_("This referral has been answered or withdrawn in the meantime.")]})
        _move(locked, to=ReferralStatus.WITHDRAWN, by=by, fields=[], purpose="withdraw referral")
        notify_many(
            recipient_ids=intake_worker_ids(locked.provider_organisation_id),
            kind=NotificationKind.REFERRAL_WITHDRAWN,
            object_type="services.referral",
            object_id=locked.pk,
            actor_id=by.pk,
        )
    return locked


def referrals_remind_overdue(*, now: datetime.datetime | None = None) -> int:
    """Remind both sides of pending referrals waiting beyond their service's stated time (``waiting_days`` from the
    day it was sent), once and then every ``REMIND_AGAIN_DAYS``. Safe to rerun and to run twice at once: each row is
    stamped by a conditional update in the transaction that writes its notifications. Returns how many."""
    now = now or timezone.now()
    again = now - datetime.timedelta(days=REMIND_AGAIN_DAYS)
    candidates = (
        Referral.objects.filter(status__in=PENDING_REFERRAL_STATUSES, service__waiting_days__isnull=False)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=again))
        .select_related("case", "service")
        .order_by("sent_at")
    )
    due = [r for r in candidates if r.sent_at + datetime.timedelta(days=r.service.waiting_days or 0) < now]
    reminded = 0
    for referral in due:
        with transaction.atomic():
            stamped = Referral.objects.filter(pk=referral.pk, reminded_at=referral.reminded_at).update(reminded_at=now)
            if not stamped:
                continue
            _notify_coordinator(referral, NotificationKind.REFERRAL_OVERDUE, None)
            notify_many(
                recipient_ids=intake_worker_ids(referral.provider_organisation_id),
                kind=NotificationKind.REFERRAL_OVERDUE,
                object_type="services.referral",
                object_id=referral.pk,
            )
        reminded += 1
    return reminded
