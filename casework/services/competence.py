"""Local competence (§ 61 of Act 359/1999 Coll.): routing a report to the competent ORP, the duty roster, asking
another ORP about a child, and moving a file to another ORP.

Keyword-only services, field-level ``ValidationError`` with nothing written, ``PermissionDenied`` (audited) for a
refusal; every write in one ``audit.atomic()`` with its audit row and its notifications (ids and references only).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.birth_number import normalize_birth_number
from casework.competence_data import OLOMOUC_REGION
from casework.lifecycle_hooks import hooks
from casework.models import (
    Case,
    CaseTransfer,
    Child,
    CompetenceBasis,
    CoordinatorAssignment,
    DutyShift,
    HandoverReason,
    KnownChildAnswer,
    KnownChildRequest,
    MembershipEndReason,
    Municipality,
    Report,
    ResidenceMunicipality,
    Role,
    Sector,
    TeamMembership,
    TransferStatus,
    User,
)
from casework.selectors.accounts import supervisor_ids
from casework.selectors.children import birth_number_index
from casework.services.cases import registry_last_number
from casework.services.validation import add_error as _add
from notifications.models import Kind as NotificationKind
from notifications.services import notify, notify_many, revoke_case
from permissions import audit
from permissions.access import load_case_access, record_denial
from permissions.object_perms import sync_case_permissions
from permissions.policy import (
    may_answer_known_child,
    may_ask_known_child,
    may_be_on_duty,
    may_coordinate,
    may_decide_transfer,
    may_manage_duty_roster,
    may_propose_transfer,
    may_withdraw_transfer,
)


def _refused(
    user: User, object_type: str, object_id: object, purpose: str, *, case_id: object = None
) -> PermissionDenied:
    """Audit (committed) a refusal and return the exception to raise. Call outside any transaction."""
    record_denial(user, object_type, object_id, purpose, case_id=case_id)
    return PermissionDenied()


def competence_ensure_defaults() -> int:
    """Restore the Olomouc Region's ORPs and municipalities (as migration 0010 seeds them); returns how many
    municipality rows were added. For the demo and for tests after a database flush."""
    added = 0
    for code, name, places in OLOMOUC_REGION:
        orp = Municipality.objects.filter(code=code).first() or Municipality.objects.filter(name=name).first()
        if orp is None:
            orp = Municipality.objects.create(code=code, name=name)
        for place in places:
            _row, made = ResidenceMunicipality.objects.get_or_create(orp=orp, name=place)
            added += made
    return added


def authority_uses_product(municipality_id: int) -> bool:
    """An ORP uses the product when its OSPOD has an active supervisor (someone triages what lands there)."""
    return User.objects.filter(
        is_active=True,
        role=Role.SUPERVISOR,
        organisation__sector=Sector.OSPOD,
        organisation__municipality_id=municipality_id,
    ).exists()


def residence_municipality_resolve(
    errors: dict[str, list[str]], field: str, value: str | ResidenceMunicipality | None, *, required: bool
) -> ResidenceMunicipality | None:
    """A municipality picked (a row) or typed (its name, any case); unknown or ambiguous names are field errors."""
    if isinstance(value, ResidenceMunicipality):
        return value
    name = " ".join((value or "").split())
    if not name:
        if required:
            _add(errors, field, _("Enter the municipality."))
        return None
    rows = list(ResidenceMunicipality.objects.select_related("orp").filter(name__iexact=name)[:2])
    if not rows:
        rows = [r for r in ResidenceMunicipality.objects.select_related("orp") if r.name.casefold() == name.casefold()]
    if not rows:
        _add(errors, field, _("Unknown municipality: choose one from the list."))
        return None
    if len(rows) > 1:
        _add(errors, field, _("More municipalities have this name: choose one from the list."))
        return None
    return rows[0]


@dataclass(frozen=True)
class Competence:
    """Where a report goes: ``municipality`` takes it into its triage queue; ``forward_to`` is set when the competent
    ORP does not use the product, and the receiving authority forwards it with a cover letter."""

    basis: str
    residence: ResidenceMunicipality | None
    found: ResidenceMunicipality | None
    municipality: Municipality
    forward_to: Municipality | None


def report_competence(
    errors: dict[str, list[str]],
    *,
    filer_municipality: Municipality,
    residence: str | ResidenceMunicipality | None,
    found_elsewhere: bool,
    found_place: str | ResidenceMunicipality | None,
    residence_required: bool,
) -> Competence | None:
    """The competent ORP of a report: the child's permanent residence (§ 61(1)), or where the child was found
    (§ 61(3)(a), (4)). Without either (OSPOD staff who did not learn it), the filer's own authority."""
    place = residence_municipality_resolve(
        errors, "residence_municipality", residence, required=residence_required and not found_elsewhere
    )
    found = None
    if found_elsewhere:
        found = residence_municipality_resolve(errors, "found_municipality", found_place, required=True)
    if errors:
        return None
    competent_place = found if found_elsewhere else place
    if competent_place is None:
        return Competence(basis="", residence=None, found=None, municipality=filer_municipality, forward_to=None)
    competent = competent_place.orp
    basis = CompetenceBasis.FOUND if found_elsewhere else CompetenceBasis.RESIDENCE
    if competent.pk == filer_municipality.pk or authority_uses_product(competent.pk):
        return Competence(basis=basis, residence=place, found=found, municipality=competent, forward_to=None)
    return Competence(basis=basis, residence=place, found=found, municipality=filer_municipality, forward_to=competent)


# --- The duty roster (standard 1b) ---------------------------------------------------------------------------------


def duty_shift_add(
    *, worker: User | None, starts_at: datetime.datetime | None, ends_at: datetime.datetime | None, by: User
) -> DutyShift:
    """Put an OSPOD worker of the supervisor's authority on duty from ``starts_at`` until ``ends_at``. Overlapping
    shifts of the same person are refused (checked under a lock of the worker's row, so two supervisors adding at
    once cannot both pass)."""
    municipality_id = by.organisation.municipality_id if by.organisation else None
    if municipality_id is None or not may_manage_duty_roster(by, municipality_id):
        record_denial(by, "casework.dutyshift", "-", "add duty shift")
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if worker is None:
        _add(errors, "worker", _("Choose who is on duty."))
    elif not may_be_on_duty(worker, municipality_id):
        _add(errors, "worker", _("Only an active OSPOD worker of this authority can be on duty."))
    if starts_at is None:
        _add(errors, "starts_at", _("Enter when the shift starts."))
    if ends_at is None:
        _add(errors, "ends_at", _("Enter when the shift ends."))
    elif starts_at is not None and ends_at <= starts_at:
        _add(errors, "ends_at", _("The shift must end after it starts."))
    if errors:
        raise ValidationError(errors)
    assert worker is not None
    assert starts_at is not None
    assert ends_at is not None
    with audit.atomic():
        User.objects.select_for_update(no_key=True).filter(pk=worker.pk).first()
        overlapping = DutyShift.objects.filter(
            worker=worker, municipality_id=municipality_id, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).exists()
        if overlapping:
            raise ValidationError({"starts_at": [_("This person already has a shift that overlaps this one.")]})
        shift = DutyShift.objects.create(
            municipality_id=municipality_id, worker=worker, starts_at=starts_at, ends_at=ends_at, created_by=by
        )
        audit.record_write(
            by, None, "casework.dutyshift", shift.pk, ["worker", "starts_at", "ends_at"], "add duty shift"
        )
    return shift


def duty_shift_remove(*, shift: DutyShift, by: User) -> None:
    if not may_manage_duty_roster(by, shift.municipality_id):
        record_denial(by, "casework.dutyshift", shift.pk, "remove duty shift")
        raise PermissionDenied
    with audit.atomic():
        audit.record_write(
            by, None, "casework.dutyshift", shift.pk, ["worker", "starts_at", "ends_at"], "remove duty shift"
        )
        shift.delete()


# --- "Is this child known to you?" (a birth number registered in another ORP) ---------------------------------------


def child_registered_elsewhere(*, municipality_id: int, birth_number: str) -> Child | None:
    """The register entry with this birth number in *another* ORP (the number is unique nationwide). For the
    services only: its existence is never shown, only that a request can be sent."""
    try:
        normalized = normalize_birth_number(birth_number)
    except ValidationError:
        return None
    return (
        Child.objects.filter(birth_number_index=birth_number_index(normalized), shredded_at=None)
        .exclude(municipality_id=municipality_id)
        .first()
    )


def known_child_request_create(*, report: Report, birth_number: str, by: User) -> KnownChildRequest:
    """Ask the ORP whose register holds this birth number whether it knows the child. The asker learns neither the
    ORP nor anything else until its supervisors answer; a number registered nowhere else is a field error."""
    if not may_ask_known_child(by, report.municipality_id):
        raise _refused(by, "casework.report", report.pk, "ask about known child", case_id=None)
    child = child_registered_elsewhere(municipality_id=report.municipality_id, birth_number=birth_number)
    if child is None:
        raise ValidationError({"birth_number": [_("No other authority needs to be asked about this birth number.")]})
    with audit.atomic():
        existing = KnownChildRequest.objects.filter(report=report, child=child, answer="").first()
        if existing is not None:
            return existing
        request = KnownChildRequest.objects.create(
            requesting_municipality_id=report.municipality_id,
            asked_municipality_id=child.municipality_id,
            child=child,
            report=report,
            asked_by=by,
        )
        audit.record_write(
            by, None, "casework.knownchildrequest", request.pk, ["child", "report"], "ask about known child"
        )
        notify_many(
            recipient_ids=supervisor_ids(child.municipality_id),
            kind=NotificationKind.KNOWN_CHILD_ASKED,
            case_reference=report.reference,
            object_type="casework.knownchildrequest",
            object_id=request.pk,
            actor_id=by.pk,
        )
    return request


def known_child_request_answer(*, request: KnownChildRequest, answer: str, by: User) -> KnownChildRequest:
    """A supervisor of the asked ORP answers with one of the choices (nothing more travels)."""
    if not may_answer_known_child(by, request.asked_municipality_id):
        raise _refused(by, "casework.knownchildrequest", request.pk, "answer known child", case_id=None)
    if answer not in KnownChildAnswer.values:
        raise ValidationError({"answer": [_("Choose the answer.")]})
    with audit.atomic():
        locked = KnownChildRequest.objects.select_for_update(no_key=True).get(pk=request.pk)
        if locked.is_answered:
            raise ValidationError({"answer": [_("This request has already been answered.")]})
        locked.answer = answer
        locked.answered_by = by
        locked.answered_at = timezone.now()
        locked.save(update_fields=["answer", "answered_by", "answered_at"])
        audit.record_write(by, None, "casework.knownchildrequest", locked.pk, ["answer"], "answer known child")
        reference = ""
        if locked.report_id is not None:
            reference = Report.objects.filter(pk=locked.report_id).values_list("reference", flat=True).first() or ""
        notify(
            recipient_id=locked.asked_by_id,
            kind=NotificationKind.KNOWN_CHILD_ANSWERED,
            case_reference=reference,
            object_type="casework.knownchildrequest",
            object_id=locked.pk,
            actor_id=by.pk,
        )
    return locked


# --- Transfer of a file to another ORP (the child moved) -------------------------------------------------------------


def case_transfer_propose(*, case: Case, to_municipality: Municipality | None, by: User) -> CaseTransfer:
    """The coordinator proposes to hand the file to another ORP. Refused as field errors: no ORP, one's own, an ORP
    without supervisors (nobody there could accept), a transfer already waiting."""
    access = load_case_access(by, case)
    if not may_propose_transfer(access):
        raise _refused(by, "casework.case", case.pk, "propose case transfer", case_id=case.pk)
    errors: dict[str, list[str]] = {}
    if to_municipality is None:
        _add(errors, "to_municipality", _("Choose the authority the file moves to."))
    elif to_municipality.pk == case.municipality_id:
        _add(errors, "to_municipality", _("The file is already with this authority."))
    elif not supervisor_ids(to_municipality.pk):
        _add(
            errors,
            "to_municipality",
            _("This authority has no supervisor in the product: forward the file on paper instead."),
        )
    elif CaseTransfer.objects.filter(case=case, status=TransferStatus.PROPOSED).exists():
        _add(errors, "to_municipality", _("A transfer of this file is already waiting for an answer."))
    if errors:
        raise ValidationError(errors)
    assert to_municipality is not None
    with audit.atomic():
        transfer = CaseTransfer.objects.create(
            case=case,
            from_municipality_id=case.municipality_id,
            to_municipality=to_municipality,
            old_reference=case.reference,
            old_year=case.year,
            old_number=case.number,
            proposed_by=by,
        )
        audit.record_write(by, case.pk, "casework.casetransfer", transfer.pk, ["to_municipality"], "propose transfer")
        notify_many(
            recipient_ids=supervisor_ids(to_municipality.pk),
            kind=NotificationKind.TRANSFER_PROPOSED,
            case_reference=case.reference,
            object_type="casework.casetransfer",
            object_id=transfer.pk,
            actor_id=by.pk,
        )
    return transfer


def case_transfer_withdraw(*, transfer: CaseTransfer, by: User) -> CaseTransfer:
    access = load_case_access(by, transfer.case)
    if not may_withdraw_transfer(access):
        raise _refused(by, "casework.case", transfer.case_id, "withdraw case transfer", case_id=transfer.case_id)
    with audit.atomic():
        updated = CaseTransfer.objects.filter(pk=transfer.pk, status=TransferStatus.PROPOSED).update(
            status=TransferStatus.WITHDRAWN, decided_by=by, decided_at=timezone.now()
        )
        if not updated:
            raise ValidationError({"to_municipality": [_("This transfer is no longer waiting.")]})
        audit.record_write(by, transfer.case_id, "casework.casetransfer", transfer.pk, ["status"], "withdraw transfer")
    transfer.refresh_from_db()
    return transfer


def case_transfer_decline(*, transfer: CaseTransfer, by: User) -> CaseTransfer:
    if not may_decide_transfer(by, transfer.to_municipality_id):
        raise _refused(by, "casework.casetransfer", transfer.pk, "decline case transfer", case_id=None)
    with audit.atomic():
        updated = CaseTransfer.objects.filter(pk=transfer.pk, status=TransferStatus.PROPOSED).update(
            status=TransferStatus.DECLINED, decided_by=by, decided_at=timezone.now()
        )
        if not updated:
            raise ValidationError({"new_coordinator": [_("This transfer is no longer waiting.")]})
        audit.record_write(by, None, "casework.casetransfer", transfer.pk, ["status"], "decline transfer")
        notify(
            recipient_id=transfer.proposed_by_id,
            kind=NotificationKind.TRANSFER_DECLINED,
            case_id=transfer.case_id,
            case_reference=transfer.old_reference,
            object_type="casework.casetransfer",
            object_id=transfer.pk,
            actor_id=by.pk,
        )
    transfer.refresh_from_db()
    return transfer


def case_transfer_accept(*, transfer: CaseTransfer, new_coordinator: User | None, by: User) -> Case:
    """A supervisor of the receiving ORP accepts the file and names its new coordinator. In one transaction: the case
    moves to the receiving authority with a new reference of its registry (the old one kept on the transfer as the
    cross-reference), the child's register entry moves with it, the coordinator history gets the new coordinator, the
    old team's memberships end (an old authority's worker cannot stay on another authority's team; partners are
    added again by the new coordinator), the case's permissions are re-synced, and both sides are notified by
    reference. Sealed content is not re-keyed: data keys belong to the case and the child, not to an authority.

    Call it through ``workflows.services.transfers.case_transfer_accept``, which takes the case's flow locks first
    (docs/adr/0011-lock-order.md); the lifecycle hooks it sends move the old coordinator's flow tasks."""
    if not may_decide_transfer(by, transfer.to_municipality_id):
        raise _refused(by, "casework.casetransfer", transfer.pk, "accept case transfer", case_id=None)
    errors: dict[str, list[str]] = {}
    if new_coordinator is None:
        _add(errors, "new_coordinator", _("Choose the new coordinator."))
    elif not may_coordinate(new_coordinator, transfer.to_municipality_id):
        _add(errors, "new_coordinator", _("The new coordinator must be an active OSPOD worker of your authority."))
    if errors:
        raise ValidationError(errors)
    assert new_coordinator is not None
    now = timezone.now()
    with audit.atomic():
        locked_transfer = CaseTransfer.objects.select_for_update(no_key=True).get(pk=transfer.pk)
        if locked_transfer.status != TransferStatus.PROPOSED:
            raise ValidationError({"new_coordinator": [_("This transfer is no longer waiting.")]})
        case = Case.objects.select_for_update(no_key=True).get(pk=locked_transfer.case_id)
        if not case.is_open:
            raise ValidationError({"new_coordinator": [_("A closed case cannot be transferred.")]})
        to = Municipality.objects.select_for_update(no_key=True).get(pk=locked_transfer.to_municipality_id)
        year = timezone.localdate(now).year
        number = registry_last_number(to.pk, year) + 1
        previous_coordinator_id = case.coordinator_id
        ended = list(TeamMembership.objects.filter(case=case, ended_at__isnull=True).values_list("pk", "user_id"))
        TeamMembership.objects.filter(case=case, ended_at__isnull=True).update(
            ended_at=now, ended_by=by, end_reason=MembershipEndReason.CASE_TRANSFERRED
        )
        CoordinatorAssignment.objects.filter(case=case, ended_at__isnull=True).update(ended_at=now)
        CoordinatorAssignment.objects.create(
            case=case, coordinator=new_coordinator, assigned_at=now, assigned_by=by, reason=HandoverReason.TRANSFER
        )
        case.municipality = to
        case.year = year
        case.number = number
        case.reference = to.case_reference(year, number)
        case.coordinator = new_coordinator
        case.save(update_fields=["municipality", "year", "number", "reference", "coordinator"])
        Child.objects.filter(pk=case.child_id).update(municipality=to)
        locked_transfer.status = TransferStatus.ACCEPTED
        locked_transfer.decided_by = by
        locked_transfer.decided_at = now
        locked_transfer.new_coordinator = new_coordinator
        locked_transfer.new_reference = case.reference
        locked_transfer.save(update_fields=["status", "decided_by", "decided_at", "new_coordinator", "new_reference"])
        sync_case_permissions(case)
        hooks.case_handed_over(case=case, previous_coordinator_id=previous_coordinator_id, by=by)
        for membership in TeamMembership.objects.filter(pk__in=[pk for pk, _user in ended]):
            hooks.team_membership_ended(membership=membership)
        audit.record_write(
            by,
            case.pk,
            "casework.case",
            case.pk,
            ["municipality", "reference", "coordinator"],
            "accept case transfer",
        )
        audit.record_write(by, case.pk, "casework.casetransfer", locked_transfer.pk, ["status"], "accept transfer")
        old_side = sorted(
            {previous_coordinator_id, locked_transfer.proposed_by_id}
            | set(supervisor_ids(locked_transfer.from_municipality_id))
        )
        notify_many(
            recipient_ids=old_side,
            kind=NotificationKind.TRANSFER_ACCEPTED,
            case_reference=locked_transfer.old_reference,
            object_type="casework.casetransfer",
            object_id=locked_transfer.pk,
            actor_id=by.pk,
        )
        notify(
            recipient_id=new_coordinator.pk,
            kind=NotificationKind.CASE_ASSIGNED,
            case_id=case.pk,
            case_reference=case.reference,
            actor_id=by.pk,
        )
        for user_id in {previous_coordinator_id, *(user_id for _pk, user_id in ended)}:
            revoke_case(user_id, case.pk)
    transfer.refresh_from_db()
    return case


def transfer_stubs(*, user: User) -> list[CaseTransfer]:
    """The old authority's read-only stubs: files that left the user's ORP (references, where, when)."""
    if user.organisation is None:
        return []
    return list(
        CaseTransfer.objects.filter(
            Q(status=TransferStatus.ACCEPTED), from_municipality_id=user.organisation.municipality_id
        )
        .select_related("to_municipality")
        .order_by("-decided_at")[:100]
    )
