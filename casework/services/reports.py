"""Reports (oznámení, § 10(4)): filing, urgency triage, opening or attaching the case, and the notifier's feedback.

Every service here: keyword-only, field-level ``ValidationError`` with nothing written, ``PermissionDenied`` when the
acting user may not do it. The report's text is sealed with the report's own data key before anything is written;
writes are audited by field name in the same transaction.

The services do not start or move workflows (``casework`` never imports ``workflows``): ``workflows.flows.ReportFlow``
calls them from its nodes, inside the flow's transaction, after checking the policy itself *before* that transaction
opens — so a refusal is audited and committed even though the work rolls back. The checks here are a second line; a
refusal inside an outer transaction fails closed (the audit module refuses to commit there, and nothing is written).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import plausibility
from casework.birth_number import normalize_birth_number, parse_birth_number
from casework.models import (
    CLOSE_RULES,
    MANDATED_NOTIFIER_KINDS,
    NOTIFIER_KIND_BY_SECTOR,
    OTHER_SECTOR_NOTIFIER_KINDS,
    URGENT_HINTS,
    Case,
    CaseStatus,
    Child,
    Municipality,
    NotifierKind,
    OpenReason,
    Report,
    ReportChannel,
    ReportCloseReason,
    ReportStatus,
    ResidenceMunicipality,
    UrgencyHint,
    User,
)
from casework.sealing import seal_values
from casework.selectors.accounts import supervisor_ids
from casework.selectors.cases import open_case_of_child
from casework.selectors.children import birth_number_index
from casework.services.cases import case_open
from casework.services.children import ADDRESS_MAX, CONTACT_MAX, NAME_MAX, child_create
from casework.services.competence import Competence, report_competence
from casework.services.validation import add_error as _add
from casework.services.validation import clean_text
from notifications.models import Kind as NotificationKind
from notifications.services import notify, notify_many
from permissions import audit
from permissions.access import load_report_access, refuse_report
from permissions.policy import may_coordinate, may_file_report, may_record_any_channel, may_triage_reports
from permissions.transactions import (
    forget_in_transaction,
    once_per_transaction,
    peek_in_transaction,
    remember_in_transaction,
)

FACTS_MAX = 10_000
FORWARDED_TO_MAX = 200
NOTIFIER_NAME_MAX = 200

#: The sealed fields a report is written with (all in the notifier compartment).
REPORT_SEALED_FIELDS = (
    "notifier_name",
    "notifier_contact",
    "facts",
    "child_given_name",
    "child_family_name",
    "child_date_of_birth",
    "child_birth_number",
    "child_address",
)


@dataclass(frozen=True)
class ReportDetails:
    """What a report says, as the notifier (or the worker who took the call) typed it. ``report_file`` validates it.

    ``channel``, ``notifier_kind`` (except for a partner of the "other" sector), ``notifier_name`` and ``received_at``
    are for OSPOD staff entering a report; a partner filing through the form is the notifier themselves.
    """

    facts: str
    child_given_name: str
    child_family_name: str
    child_date_of_birth: datetime.date | None = None
    child_birth_number: str = ""
    child_address: str = ""
    urgency_hints: Sequence[str] = field(default_factory=tuple)
    urgent_suggested: bool = False
    feedback_requested: bool = False
    channel: str = ""
    notifier_kind: str = ""
    notifier_name: str = ""
    notifier_contact: str = ""
    received_at: datetime.datetime | None = None
    #: Local competence (§ 61): the municipality of the child's permanent residence (a name as typed, or a row), or —
    #: ``found_elsewhere`` — where the child was found (§ 61(3)(a), (4)). Blank: the filer's own authority.
    residence_municipality: str | ResidenceMunicipality | None = None
    found_elsewhere: bool = False
    found_municipality: str | ResidenceMunicipality | None = None


@dataclass(frozen=True)
class ChildIdentity:
    """The child's details as the supervisor confirms them in triage (pre-filled from the report): what the register
    entry is made of when the birth number matches no registered child — or when there is no birth number (a
    newborn, a foreign child, a number nobody knows yet): then the name and the date of birth (exact or estimated)
    and other identifiers. ``same_as`` is a register entry the supervisor recognised among the possible duplicates
    (same name and date of birth) as this child."""

    given_name: str
    family_name: str
    date_of_birth: datetime.date | None
    birth_number: str
    address: str
    date_of_birth_estimated: bool = False
    other_identifiers: str = ""
    same_as: uuid.UUID | None = None


def report_filing_refused(user: User) -> PermissionDenied:
    """Audit (committed) a refused filing and return the exception to raise. Call outside any transaction."""
    audit.record_committed(
        actor=user,
        action=audit.AuditAction.DENY,
        object_type="casework.report",
        object_id="-",
        fields=list(REPORT_SEALED_FIELDS),
        purpose="file report",
        outcome=audit.AuditOutcome.DENIED,
    )
    return PermissionDenied()


def _notifier(
    errors: dict[str, list[str]], user: User, details: ReportDetails, now: datetime.datetime
) -> tuple[str, str, str, str, datetime.datetime]:
    """(channel, notifier kind, name, contact, received) for a partner filing themselves or for OSPOD staff entering a
    report, with field errors for what does not fit."""
    if not may_record_any_channel(user):
        organisation = user.organisation
        assert organisation is not None  # may_file_report
        kind: str | None = NOTIFIER_KIND_BY_SECTOR.get(organisation.sector)
        if kind is None:
            kind = details.notifier_kind
            if kind not in OTHER_SECTOR_NOTIFIER_KINDS:
                _add(errors, "notifier_kind", _("Say whether you report as a state body or as another person."))
        name = f"{user.display_name()}, {organisation.name}"
        contact = (
            clean_text(errors, "notifier_contact", details.notifier_contact, CONTACT_MAX, required=False) or user.email
        )
        return ReportChannel.WEB_FORM, kind or "", name[:NOTIFIER_NAME_MAX], contact, now

    channel, kind = details.channel, details.notifier_kind
    if channel not in ReportChannel.values or channel == ReportChannel.WEB_FORM:
        _add(errors, "channel", _("Choose how the report arrived."))
    if kind not in NotifierKind.values:
        _add(errors, "notifier_kind", _("Choose who reported."))
    elif channel == ReportChannel.ANONYMOUS and kind != NotifierKind.ANONYMOUS:
        _add(errors, "notifier_kind", _("An anonymous message has an anonymous notifier."))
    name = clean_text(errors, "notifier_name", details.notifier_name, NOTIFIER_NAME_MAX, required=False)
    contact = clean_text(errors, "notifier_contact", details.notifier_contact, CONTACT_MAX, required=False)
    if kind == NotifierKind.ANONYMOUS and (name or contact):
        _add(errors, "notifier_name", _("An anonymous report has no notifier's name or contact."))
    elif kind in MANDATED_NOTIFIER_KINDS and not name:
        _add(errors, "notifier_name", _("Enter who reported: the institution and the person."))
    if details.feedback_requested and kind in MANDATED_NOTIFIER_KINDS and not contact:
        _add(errors, "notifier_contact", _("Enter where to send the feedback the notifier asked for."))
    received = details.received_at or now
    if received > now:
        _add(errors, "received_at", _("The report cannot have arrived in the future."))
    return channel, kind, name, contact, received


def _child_details(errors: dict[str, list[str]], details: ReportDetails) -> dict[str, str | None]:
    """The child's identifying details: the name, and the birth number or the date of birth (or both, agreeing)."""
    given = clean_text(errors, "child_given_name", details.child_given_name, NAME_MAX)
    family = clean_text(errors, "child_family_name", details.child_family_name, NAME_MAX)
    address = clean_text(errors, "child_address", details.child_address, ADDRESS_MAX, required=False)
    born = details.child_date_of_birth
    number = (details.child_birth_number or "").strip()
    normalized = None
    if number:
        try:
            parsed = parse_birth_number(number)
        except ValidationError as exc:
            errors.setdefault("child_birth_number", []).extend(exc.messages)
        else:
            normalized = parsed.normalized
            if born is None:
                born = parsed.date_of_birth
            elif born != parsed.date_of_birth:
                _add(errors, "child_date_of_birth", _("The date of birth does not match the one in the birth number."))
    elif born is None:
        _add(errors, "child_date_of_birth", _("Enter the child's date of birth or birth number."))
    if born is not None:
        plausibility.check(errors, "child_date_of_birth", plausibility.child_date_of_birth_problem(born))
    return {
        "child_given_name": given,
        "child_family_name": family,
        "child_date_of_birth": born.isoformat() if born else None,
        "child_birth_number": normalized,
        "child_address": address or None,
    }


def _next_number(municipality: Municipality, year: int) -> int:
    # As for case numbers: the ORP's row lock serialises numbering; the unique constraint is the last word.
    Municipality.objects.select_for_update(no_key=True).filter(pk=municipality.pk).first()
    last = Report.objects.filter(municipality=municipality, year=year).aggregate(last=Max("number"))["last"]
    return (last or 0) + 1


def _report_checked(
    errors: dict[str, list[str]], filed_by: User, details: ReportDetails, now: datetime.datetime
) -> tuple[str, str, str, str, datetime.datetime, dict[str, str | None], str, list[str]]:
    """Every check of a report's details, each adding its field's messages to ``errors`` (none stops the others)."""
    channel, kind, name, contact, received = _notifier(errors, filed_by, details, now)
    sealed = _child_details(errors, details)
    facts = clean_text(errors, "facts", details.facts, FACTS_MAX)
    hints = list(dict.fromkeys(details.urgency_hints))
    if any(hint not in UrgencyHint.values for hint in hints):
        _add(errors, "urgency_hints", _("Choose from the list."))
    if details.feedback_requested and kind not in MANDATED_NOTIFIER_KINDS:
        _add(
            errors,
            "feedback_requested",
            _("Only a notifier with the duty to report (§ 10(4)) has the right to feedback."),
        )
    return channel, kind, name, contact, received, sealed, facts, hints


def _competence_checked(errors: dict[str, list[str]], filed_by: User, details: ReportDetails) -> Competence | None:
    """Which authority receives the report (§ 61), adding the place fields' messages to ``errors``."""
    organisation = filed_by.organisation
    assert organisation is not None
    return report_competence(
        errors,
        filer_municipality=organisation.municipality,
        residence=details.residence_municipality,
        found_elsewhere=details.found_elsewhere,
        found_place=details.found_municipality,
        residence_required=False,
    )


def report_check(*, filed_by: User, details: ReportDetails) -> dict[str, list[str]]:
    """The field errors ``report_file`` would raise for ``details``, without writing anything: the form asks for
    them when some of its own fields did not parse, so the person sees every problem at once (the place fields'
    competence messages included)."""
    errors: dict[str, list[str]] = {}
    _competence_checked(errors, filed_by, details)
    _report_checked(errors, filed_by, details, timezone.now())
    return errors


def report_file(*, filed_by: User, details: ReportDetails) -> Report:
    """Record a report (a partner's own, or one OSPOD staff took by phone, letter, in person or anonymously) in the
    triage queue of the competent authority (§ 61): the ORP of the child's permanent residence, or of the place where
    the child was found; the filer's own authority when neither is given. When the competent ORP does not use the
    product, the filer's authority receives it marked for forwarding (``forward_to``; a printable cover letter). The
    text is sealed under the report's own key. The receiving authority's supervisors are notified in the same
    transaction (urgent if the hints say so).

    Validation: the child's name and either the birth number or the date of birth, and what was observed, are
    required; feedback can be asked for by mandated notifiers only (§ 10(4)). Raises ``ValidationError`` (field-level,
    nothing saved) or ``PermissionDenied`` (the DPO, the administrator; audited).
    """
    if not may_file_report(filed_by):
        raise report_filing_refused(filed_by)
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    competence = _competence_checked(errors, filed_by, details)
    channel, kind, name, contact, received, sealed, facts, hints = _report_checked(errors, filed_by, details, now)
    if errors:
        raise ValidationError(errors)
    urgent = bool(details.urgent_suggested) or any(hint in URGENT_HINTS for hint in hints)
    assert competence is not None
    municipality = competence.municipality
    with audit.atomic(savepoint=False):
        year = timezone.localdate(received).year
        number = _next_number(municipality, year)
        report = Report(
            municipality=municipality,
            year=year,
            number=number,
            reference=Report.format_reference(municipality.code, year, number),
            received_at=received,
            channel=channel,
            notifier_kind=kind,
            notifier_user=filed_by if channel == ReportChannel.WEB_FORM else None,
            recorded_by=filed_by,
            urgency_hints=hints,
            urgent_suggested=urgent,
            feedback_requested=bool(details.feedback_requested),
            competence_basis=competence.basis,
            residence_municipality=competence.residence,
            found_municipality=competence.found,
            forward_to=competence.forward_to,
        )
        seal_values(
            report,
            {
                **sealed,
                "notifier_name": name or None,
                "notifier_contact": contact or None,
                "facts": facts,
            },
        )
        report.save(force_insert=True)
        audit.record(
            actor=filed_by,
            action=audit.AuditAction.WRITE,
            object_type="casework.report",
            object_id=str(report.pk),
            fields=[f for f in REPORT_SEALED_FIELDS if getattr(report, f) is not None],
            purpose="file report",
            outcome=audit.AuditOutcome.ALLOWED,
        )
        notify_many(
            recipient_ids=supervisor_ids(municipality.pk),
            kind=NotificationKind.REPORT_RECEIVED,
            case_reference=report.reference,
            object_type="casework.report",
            object_id=report.pk,
            urgent=urgent,
            actor_id=filed_by.pk,
        )
    return report


def _triaging(user: User, report: Report, purpose: str) -> None:
    """A supervisor of the receiving authority, or its worker on duty for an urgent report (the policy's
    ``may_triage_report``)."""
    if not load_report_access(user, report).may_triage:
        raise refuse_report(user, report, purpose=purpose)


def _LOCKED_KEY(report_id: object) -> tuple[str, object]:
    return ("report locked and written", report_id)


def _locked_copy_saved(sender: type, instance: Report, **kwargs: object) -> None:
    """Another copy of a report saved in the transaction: the remembered locked copy is no longer the row."""
    if peek_in_transaction(_LOCKED_KEY(instance.pk)) is not instance:
        forget_in_transaction(_LOCKED_KEY(instance.pk))


post_save.connect(_locked_copy_saved, sender=Report, dispatch_uid="casework.reports.locked_copy")


def _locked(report: Report, *related: str) -> Report:
    return (
        Report.objects.select_for_update(no_key=True, of=("self",))
        .select_related("municipality", *related)
        .get(pk=report.pk)
    )


def _written(user: User, report: Report, fields: list[str], purpose: str) -> None:
    audit.record_write(user, report.case_id, "casework.report", report.pk, fields, purpose)


def report_triage_take(*, report: Report, by: User) -> Report:
    """A supervisor took the report's triage from the team queue: it is "in triage" from now on."""
    _triaging(by, report, "take report triage")
    with audit.atomic(savepoint=False):
        taken = Report.objects.filter(pk=report.pk, status=ReportStatus.RECEIVED).update(status=ReportStatus.IN_TRIAGE)
    if taken:
        report.status = ReportStatus.IN_TRIAGE  # what the UPDATE wrote: no need to read it back
    else:
        report.refresh_from_db(fields=["status"])
    return report


def report_triage_release(*, report: Report, by: User) -> Report:
    """The triage went back to the team queue undecided: the report is "received" again."""
    _triaging(by, report, "release report triage")
    with audit.atomic():
        released = Report.objects.filter(pk=report.pk, status=ReportStatus.IN_TRIAGE, decided_at__isnull=True).update(
            status=ReportStatus.RECEIVED
        )
    if released:
        report.status = ReportStatus.RECEIVED
    else:
        report.refresh_from_db(fields=["status"])
    return report


def report_triage(
    *,
    report: Report,
    decided_by: User,
    urgent: bool | None,
    at_risk: bool | None,
    coordinator: User | None,
    close_reason: str = "",
    child: ChildIdentity | None = None,
    duplicate_of: str = "",
    forwarded_to: str = "",
) -> Report:
    """Record the urgency triage (quality standard 8) of a report: urgent or standard, whether the child is at risk
    under § 6, and then either the coordinator (standard 8c) and the child's register entry — matched by the birth
    number's blind index in the authority's register, or created from ``child`` — or the reason for closing without
    a case. The case itself is opened (or the report attached to the child's open case) by :func:`report_case_open`,
    which the flow runs next in the same transaction.

    The birth number is not required: a child without one is registered by name and date of birth (and other
    identifiers) and the number added later (``child_add_birth_number``).

    Closing records exactly what the reason means for the § 10(4) feedback (``CLOSE_RULES``): "another authority is
    competent" names the authority it was forwarded to (``forwarded_to``) and makes no finding; "duplicate" names the
    open case of the authority already dealing with the facts (``duplicate_of``, its reference), which the report
    joins — its coordinator is told, and the answer is that case's.

    A supervisor of the receiving authority triages, or its worker on duty an urgent report (the supervisors are
    then notified). Raises ``ValidationError`` (field-level: ``urgent``,
    ``at_risk``, ``coordinator``, ``close_reason``, ``duplicate_of``, ``forwarded_to``, the child's ``given_name`` …
    ``birth_number``) with nothing written.
    """
    _triaging(decided_by, report, "triage report")
    errors: dict[str, list[str]] = {}
    if urgent is None:
        _add(errors, "urgent", _("Assess the urgency: urgent or standard."))
    if at_risk is None:
        _add(errors, "at_risk", _("Decide whether the child is at risk under § 6."))
    elif at_risk:
        if coordinator is None:
            _add(errors, "coordinator", _("Choose the coordinator: a child at risk gets a coordinator in triage."))
        elif not may_coordinate(coordinator, report.municipality_id):
            _add(errors, "coordinator", _("The coordinator must be an active OSPOD worker of this authority."))
        if child is None:
            _add(errors, "given_name", _("Enter the child's details for the register."))
        else:
            _child_identity_errors(errors, decided_by, child)
    elif close_reason not in ReportCloseReason.values:
        _add(errors, "close_reason", _("Choose why the report closes without a case."))
    joined: Case | None = None
    forwarded_to = (forwarded_to or "").strip()
    if at_risk is False and close_reason in CLOSE_RULES:
        rule = CLOSE_RULES[close_reason]
        if rule.forwarded:
            clean_text(errors, "forwarded_to", forwarded_to, FORWARDED_TO_MAX)
        else:
            forwarded_to = ""
        if rule.joins_case:
            joined = _joined_case(errors, report, duplicate_of)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with audit.atomic(savepoint=False):
        locked = _locked(report)
        if locked.is_decided or locked.decided_at is not None:
            raise ValidationError({"at_risk": [_("This report has already been triaged.")]})
        locked.urgent = bool(urgent)
        locked.at_risk = bool(at_risk)
        locked.decided_by = decided_by
        locked.decided_at = now
        fields = ["urgent", "at_risk", "decided_by", "status"]
        if at_risk:
            assert child is not None
            assert coordinator is not None
            locked.child = _registered_child(report=locked, by=decided_by, child=child)
            locked.assigned_coordinator = coordinator
            locked.status = ReportStatus.IN_TRIAGE
            fields += ["child", "assigned_coordinator"]
        else:
            rule = CLOSE_RULES[close_reason]
            locked.status = ReportStatus.CLOSED
            locked.close_reason = close_reason
            locked.at_risk = rule.at_risk
            locked.forwarded_to = forwarded_to
            fields += ["close_reason"] + (["forwarded_to"] if forwarded_to else [])
            if joined is not None:
                locked.case = joined
                locked.child_id = joined.child_id
                fields += ["case", "child"]
                notify(
                    recipient_id=joined.coordinator_id,
                    kind=NotificationKind.REPORT_RECEIVED,
                    case_id=joined.pk,
                    case_reference=joined.reference,
                    object_type="casework.report",
                    object_id=locked.pk,
                    urgent=bool(urgent),
                    actor_id=decided_by.pk,
                )
        locked.save()
        # The copy this transaction has locked and written: opening the case next (the flow's following node, same
        # transaction) reads neither it nor its child again.
        remember_in_transaction(_LOCKED_KEY(locked.pk), locked)
        _written(decided_by, locked, fields, "triage report")
        if not may_triage_reports(decided_by, locked.municipality_id):
            # The worker on duty decided (standard 1b): the supervisors learn it at once, by reference only.
            notify_many(
                recipient_ids=supervisor_ids(locked.municipality_id),
                kind=NotificationKind.DUTY_TRIAGE,
                case_reference=locked.reference,
                object_type="casework.report",
                object_id=locked.pk,
                urgent=True,
                actor_id=decided_by.pk,
            )
    return locked


def _child_identity_errors(errors: dict[str, list[str]], by: User, child: ChildIdentity) -> None:
    """Every problem with the child's details at once, before anything is written: a birth number that fails its
    checksum together with a missing name (the register entry the triage would make needs them all),
    not one group after another. A birth number already in the register needs nothing else (the entry exists)."""
    parsed = None
    if (child.birth_number or "").strip():
        try:
            parsed = parse_birth_number(child.birth_number)
        except ValidationError as exc:
            errors.setdefault("birth_number", []).extend(exc.messages)
        if parsed is not None and _register_entries(parsed.normalized).own(by) is not None:
            return
    clean_text(errors, "given_name", child.given_name, NAME_MAX)
    clean_text(errors, "family_name", child.family_name, NAME_MAX)
    clean_text(errors, "address", child.address, ADDRESS_MAX, required=False)
    if child.date_of_birth is None and parsed is None:
        _add(errors, "date_of_birth", _("Enter the child's date of birth."))
    elif parsed is not None and child.date_of_birth is not None and child.date_of_birth != parsed.date_of_birth:
        _add(errors, "date_of_birth", _("The date of birth does not match the one in the birth number."))


def _joined_case(errors: dict[str, list[str]], report: Report, reference: str) -> Case | None:
    """The open case of the report's authority a duplicate joins, by its reference number."""
    reference = " ".join((reference or "").split())
    if not reference:
        _add(errors, "duplicate_of", _("Enter the reference number of the open case already dealing with the facts."))
        return None
    case = Case.objects.filter(
        municipality_id=report.municipality_id, reference__iexact=reference, status=CaseStatus.OPEN
    ).first()
    if case is None:
        _add(
            errors,
            "duplicate_of",
            _("This authority has no open case with this reference number: decide the report itself."),
        )
    return case


def _registered_child(*, report: Report, by: User, child: ChildIdentity) -> Child:
    """The child of the authority's register with this birth number, the entry the supervisor recognised among the
    possible duplicates (``same_as``), or a new entry (§ 54(a)) from ``child`` — with or without a birth number."""
    register_checked = False
    if (child.birth_number or "").strip():
        try:
            normalized = normalize_birth_number(child.birth_number)
        except ValidationError as exc:
            raise ValidationError({"birth_number": exc.messages}) from exc
        entries = _register_entries(normalized)
        found = entries.own(by)
        if found is not None:
            return found
        register_checked = not entries.rows  # no entry anywhere, shredded or not: nothing for child_create to ask
        if entries.elsewhere(report.municipality_id) is not None:
            # Neutral: which ORP, and anything about the child there, stays with that ORP until it answers.
            raise ValidationError(
                {
                    "birth_number": [
                        _(
                            "This birth number is in another authority's register. Ask that authority whether it "
                            "knows the child (the button above); it may be competent for the child."
                        )
                    ]
                }
            )
    elif child.same_as is not None:
        same = Child.objects.filter(
            pk=child.same_as, municipality_id=report.municipality_id, shredded_at=None, merged_into=None
        ).first()
        if same is None:
            raise ValidationError({"same_as": [_("Choose a child of this authority's register.")]})
        return same
    created = child_create(
        municipality=report.municipality,
        given_name=child.given_name,
        family_name=child.family_name,
        date_of_birth=child.date_of_birth,
        birth_number=child.birth_number,
        address=child.address,
        representatives=[],
        created_by=by,
        date_of_birth_estimated=child.date_of_birth_estimated,
        other_identifiers=child.other_identifiers,
        register_checked=register_checked,
    )
    if register_checked:
        forget_in_transaction(("register entries", birth_number_index(normalized)))  # it holds the new entry now
    return created


@dataclass(frozen=True)
class _RegisterEntries:
    """Every register entry with one birth number (its blind index; at most one not shredded nationwide), read once
    per transaction: the triage's friendly check, its look-up under the report's lock and the duplicate check of
    ``child_create`` are one question to the register (docs/adr/0026-lean-steps-second-pass.md, third pass)."""

    rows: tuple[Child, ...]

    def own(self, user: User) -> Child | None:
        """``child_find_by_birth_number``: the entry of the user's own ORP, not shredded."""
        if user.organisation is None:
            return None
        municipality_id = user.organisation.municipality_id
        return next((c for c in self.rows if c.municipality_id == municipality_id and c.shredded_at is None), None)

    def elsewhere(self, municipality_id: int) -> Child | None:
        """``child_registered_elsewhere``: an entry of another ORP, not shredded."""
        return next((c for c in self.rows if c.municipality_id != municipality_id and c.shredded_at is None), None)


def _register_entries(normalized: str) -> _RegisterEntries:
    index = birth_number_index(normalized)
    return once_per_transaction(
        ("register entries", index),
        lambda: _RegisterEntries(
            tuple(Child.objects.filter(birth_number_index=index).select_related("municipality").order_by("pk"))
        ),
    )


def report_case_open(*, report: Report, by: User) -> Case:
    """Open the case of a report triaged as "at risk" with the coordinator chosen in triage, or — when the child
    already has an open case — attach the report to it (its coordinator is told; handing it over is a separate act).
    Runs inside the triage's transaction (the flow's next node): a failure here undoes the triage too."""
    _triaging(by, report, "open case from report")
    with audit.atomic(savepoint=False):
        # The coordinator chosen in triage and their organisation, asked for by the checks of ``case_open``.
        # The triage's own locked and written copy when this transaction triaged it (the row stays locked to
        # commit), otherwise the row under its lock.
        locked = peek_in_transaction(_LOCKED_KEY(report.pk)) or _locked(report, "assigned_coordinator__organisation")
        if locked.is_decided or not locked.at_risk or locked.child_id is None or locked.assigned_coordinator is None:
            raise ValidationError({"at_risk": [_("This report is not waiting for a case.")]})
        cached_child = locked.child if Report.child.is_cached(locked) else None
        child = cached_child or Child.objects.select_related("municipality").get(pk=locked.child_id)
        existing = open_case_of_child(child=child)
        if existing is not None:
            case = existing
            locked.status = ReportStatus.ATTACHED
            notify(
                recipient_id=case.coordinator_id,
                kind=NotificationKind.REPORT_RECEIVED,
                case_id=case.pk,
                case_reference=case.reference,
                object_type="casework.report",
                object_id=locked.pk,
                urgent=bool(locked.urgent),
                actor_id=by.pk,
            )
        else:
            case = case_open(
                child=child,
                coordinator=locked.assigned_coordinator,
                opened_by=by,
                reason=OpenReason.REPORT,
                no_open_case_found=True,  # just asked above, under the report's lock
            )
            locked.status = ReportStatus.CASE_OPENED
        locked.case = case
        locked.save(update_fields=["case", "status"])
        _written(by, locked, ["case", "status"], "open case from report")
    return case


def report_feedback_owner(report: Report) -> User:
    """Who sends the § 10(4) feedback: the coordinator of the case the report led to, or — with no case — the
    supervisor who triaged it (DOMAIN.md, "The case's life", 4)."""
    if report.case_id is not None:
        return Case.objects.select_related("coordinator").get(pk=report.case_id).coordinator
    assert report.decided_by is not None
    if may_triage_reports(report.decided_by, report.municipality_id):
        return report.decided_by
    # Closed on duty by a worker who handles the report no longer: the answer is the supervisors' business.
    supervisors = supervisor_ids(report.municipality_id)
    return User.objects.get(pk=supervisors[0]) if supervisors else report.decided_by


def report_feedback_record(*, report: Report, by: User) -> Report:
    """Record that the notifier was told whether the child was found to be a § 6 child — nothing more (§ 10(4))."""
    if not load_report_access(by, report).may_send_feedback:
        raise refuse_report(by, report, purpose="send report feedback")
    with audit.atomic():
        locked = _locked(report)
        if not locked.feedback_requested:
            raise ValidationError({"feedback": [_("The notifier did not ask for feedback.")]})
        if not locked.is_decided:
            raise ValidationError({"feedback": [_("The report has not been triaged yet.")]})
        if locked.feedback_sent_at is not None:
            raise ValidationError({"feedback": [_("The feedback has already been sent.")]})
        locked.feedback_sent_at = timezone.now()
        locked.feedback_sent_by = by
        locked.save(update_fields=["feedback_sent_at", "feedback_sent_by"])
        _written(by, locked, ["feedback_sent_at"], "send report feedback")
    return locked
