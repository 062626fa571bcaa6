"""Two steps of a case's life that need a second person or a precondition: closing a case with four eyes, and
recording a petition to a court (DOMAIN.md, "The case's life" 6 and 10).

Closure: the case's lead proposes it (reason and final evaluation, sealed); a supervisor of the authority who did not
propose it approves (the case closes through ``case_close``, so team access ends in the same transaction) or returns
it with a comment. The proposal calls the ``closure_requested`` hook (``casework.lifecycle_hooks``) inside its
transaction, so the approval flow starts with it or not at all.

Court petitions: a § 14(1) petition (placement outside the family, other measures in parental responsibility) is
refused unless a case conference was held on the case (§ 14(2)(b)); a § 16 preliminary measure needs none but needs
the worker's reason, and every supervisor of the authority is alerted at once.

Same contract as every service here: keyword-only, one transaction, field-level ``ValidationError`` with nothing
written, ``PermissionDenied`` after a committed denial row (so the checks run before the transaction opens), writes
audited by field name. Notifications carry the kind, the case reference and ids only, never the reason or the text.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.lifecycle_hooks import hooks
from casework.models import (
    HELD_STATUSES,
    Case,
    CloseReason,
    ClosureRequest,
    ClosureStatus,
    Conference,
    CourtPetition,
    PetitionFiler,
    PetitionKind,
    SubstituteCare,
    User,
)
from casework.sealing import seal_values
from casework.selectors.accounts import supervisor_ids
from casework.services import cases as case_services
from casework.services.validation import clean_text
from notifications.models import Kind as NotificationKind
from notifications.services import notify, notify_many
from permissions import audit
from permissions.access import load_case_access, refuse, require_case_lead
from permissions.policy import Subject, may_decide_closure, may_withdraw_closure

FINAL_EVALUATION_MAX = 20_000
RETURN_COMMENT_MAX = 10_000
URGENT_REASON_MAX = 10_000


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


# --- Closure ------------------------------------------------------------------------------------------------------


def closure_request(
    *, case: Case, by: User, reason: str, final_evaluation: str, substitute_care: str = ""
) -> ClosureRequest:
    """Propose closing the case: the lead (coordinator, or a supervisor covering) of an open case, with a reason and
    the final evaluation (sealed, social compartment). At most one pending proposal per case (also a database
    constraint). ``closure_requested`` is sent inside the transaction: a receiver that fails undoes the proposal."""
    require_case_lead(by, case, purpose="request case closure", closing=True)
    errors: dict[str, list[str]] = {}
    if reason not in CloseReason.values:
        errors.setdefault("reason", []).append(_("Choose why the case is closed."))
    if substitute_care not in SubstituteCare.values:
        errors.setdefault("substitute_care", []).append(_("Choose adoption, foster care or neither."))
    text = clean_text(errors, "final_evaluation", final_evaluation, FINAL_EVALUATION_MAX)
    if ClosureRequest.objects.filter(case=case, status=ClosureStatus.PENDING).exists():
        errors.setdefault("case", []).append(_("A proposal to close this case is already waiting for approval."))
    _raise(errors)
    with audit.atomic():
        # The case's row lock serialises two proposals; the conditional unique constraint is the last word.
        Case.objects.select_for_update(no_key=True).filter(pk=case.pk).first()
        if ClosureRequest.objects.filter(case=case, status=ClosureStatus.PENDING).exists():
            raise ValidationError({"case": [_("A proposal to close this case is already waiting for approval.")]})
        request = ClosureRequest(
            case=case, reason=reason, substitute_care=substitute_care, requested_by=by, requested_at=timezone.now()
        )
        seal_values(request, {"final_evaluation": text})
        request.save(force_insert=True)
        audit.record_write(
            by, case.pk, "casework.closurerequest", request.pk, ["reason", "final_evaluation"], "request case closure"
        )
        hooks.closure_requested(request=request)
    return request


def _deciding(request: ClosureRequest, by: User, purpose: str) -> Case:
    """Four eyes: a supervisor of the case's authority who did not propose it. Refusal audited and committed."""
    case = request.case
    if not may_decide_closure(
        Subject.from_user(by), municipality_id=case.municipality_id, proposed_by_id=request.requested_by_id
    ):
        raise refuse(by, case, purpose=purpose)
    return case


def _locked_pending(request: ClosureRequest) -> ClosureRequest:
    locked = ClosureRequest.objects.select_for_update(no_key=True).get(pk=request.pk)
    if locked.status != ClosureStatus.PENDING:
        raise ValidationError({"status": [_("This proposal is no longer waiting for a decision.")]})
    return locked


def closure_approve(*, request: ClosureRequest, by: User) -> ClosureRequest:
    """Approve a pending proposal: the case closes (``case_close``: every membership ends, so team access ends) and
    the proposal is marked approved, all in one transaction; the proposer is notified. Only a supervisor of the
    authority who is not the proposer (``PermissionDenied`` after a committed denial row otherwise)."""
    purpose = "approve case closure"
    case = _deciding(request, by, purpose)
    if request.status != ClosureStatus.PENDING:
        raise ValidationError({"status": [_("This proposal is no longer waiting for a decision.")]})
    if not case.is_open:
        raise ValidationError({"status": [_("The case is already closed.")]})
    with audit.atomic():
        locked = _locked_pending(request)
        case_services.case_close(case=case, closed_by=by, reason=locked.reason)
        if locked.substitute_care:
            Case.objects.filter(pk=case.pk).update(substitute_care=locked.substitute_care)
            audit.record_write(by, case.pk, "casework.case", case.pk, ["substitute_care"], purpose)
        locked.status = ClosureStatus.APPROVED
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record_write(by, case.pk, "casework.closurerequest", locked.pk, ["status", "decided_by"], purpose)
        notify(
            recipient_id=locked.requested_by_id,
            kind=NotificationKind.CLOSURE_APPROVED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type="casework.closurerequest",
            object_id=locked.pk,
            actor_id=by.pk,
        )
    request.refresh_from_db()
    return request


def closure_return(*, request: ClosureRequest, by: User, comment: str) -> ClosureRequest:
    """Return a pending proposal with a comment (sealed): the case stays open and the proposer is notified. The same
    four-eyes rule as :func:`closure_approve`."""
    purpose = "return case closure"
    case = _deciding(request, by, purpose)
    errors: dict[str, list[str]] = {}
    text = clean_text(errors, "comment", comment, RETURN_COMMENT_MAX)
    if request.status != ClosureStatus.PENDING:
        errors.setdefault("status", []).append(_("This proposal is no longer waiting for a decision."))
    _raise(errors)
    with audit.atomic():
        locked = _locked_pending(request)
        seal_values(locked, {"return_comment": text})
        locked.status = ClosureStatus.RETURNED
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.save(update_fields=["return_comment", "status", "decided_by", "decided_at"])
        audit.record_write(
            by, case.pk, "casework.closurerequest", locked.pk, ["status", "decided_by", "return_comment"], purpose
        )
        notify(
            recipient_id=locked.requested_by_id,
            kind=NotificationKind.CLOSURE_RETURNED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type="casework.closurerequest",
            object_id=locked.pk,
            actor_id=by.pk,
        )
    request.refresh_from_db()
    return request


def closure_withdraw(*, request: ClosureRequest, by: User) -> ClosureRequest:
    """Withdraw a pending proposal: its proposer or the case's lead, on an open case. Nobody is notified; the approval
    task is cancelled (the ``closure_withdrawn`` hook of ``casework.lifecycle_hooks``, in this transaction)."""
    purpose = "withdraw case closure"
    case = request.case
    access = load_case_access(by, case)
    if not may_withdraw_closure(access, proposed_by_id=request.requested_by_id):
        raise refuse(by, case, purpose=purpose)
    if request.status != ClosureStatus.PENDING:
        raise ValidationError({"status": [_("This proposal is no longer waiting for a decision.")]})
    with audit.atomic():
        locked = _locked_pending(request)
        locked.status = ClosureStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        audit.record_write(by, case.pk, "casework.closurerequest", locked.pk, ["status"], purpose)
        hooks.closure_withdrawn(request=locked)
    request.refresh_from_db()
    return request


# --- Court petitions ----------------------------------------------------------------------------------------------


def latest_held_conference(*, case: Case) -> Conference | None:
    """The case's most recent conference that took place (held or signed off): what § 14(2)(b) asks for."""
    return (
        Conference.objects.filter(case=case, status__in=HELD_STATUSES).order_by("-held_at", "-starts_at", "-id").first()
    )


def court_petition_record(
    *, case: Case, by: User, kind: str, urgent_reason: str = "", filed_by: str = PetitionFiler.AUTHORITY
) -> CourtPetition:
    """Record a petition to a court on an open case, by its lead: the authority's own intent, or a petition filed by
    others (``filed_by``: a parent, the prosecutor, someone else) that the authority learnt of.

    * ``PetitionKind.PLACEMENT`` (§ 14(1)): the authority's own is refused (a field error on ``kind``, nothing
      written) unless a case conference was held on the case (§ 14(2)(b)); the latest held one is linked. One filed
      by others is a fact and is recorded anyway (linked to the latest held conference if any): the duty to discuss
      the case at a conference holds then too, and the page says it is due.
    * ``PetitionKind.URGENT`` (§ 16): needs ``urgent_reason`` (sealed), no conference; every supervisor of the
      authority gets an urgent notification (which carries no reason).
    """
    require_case_lead(by, case, purpose="record court petition")
    errors: dict[str, list[str]] = {}
    conference: Conference | None = None
    reason = (urgent_reason or "").strip()
    own = filed_by == PetitionFiler.AUTHORITY
    if filed_by not in PetitionFiler.values:
        errors.setdefault("filed_by", []).append(_("Choose who filed the petition."))
    if kind == PetitionKind.PLACEMENT:
        conference = latest_held_conference(case=case)
        if conference is None and own:
            errors.setdefault("kind", []).append(
                _(
                    "A petition under § 14(1) (placement outside the family or another measure in parental "
                    "responsibility) can only be filed after the case was discussed at a case conference "
                    "(§ 14(2)(b) of Act No. 359/1999 Coll.). Hold a case conference first; in serious danger use "
                    "a § 16 preliminary measure."
                )
            )
        if reason:
            errors.setdefault("urgent_reason", []).append(
                _("A reason for urgency belongs to a § 16 petition for a preliminary measure only.")
            )
    elif kind == PetitionKind.URGENT:
        reason = clean_text(errors, "urgent_reason", reason, URGENT_REASON_MAX)
    else:
        errors.setdefault("kind", []).append(_("Choose the kind of petition."))
    _raise(errors)
    urgent = kind == PetitionKind.URGENT
    with audit.atomic():
        petition = CourtPetition(case=case, kind=kind, filed_by=filed_by, conference=conference, recorded_by=by)
        seal_values(petition, {"urgent_reason": reason if urgent else None})
        petition.save(force_insert=True)
        audit.record_write(
            by,
            case.pk,
            "casework.courtpetition",
            petition.pk,
            ["kind", "filed_by", "urgent_reason"] if urgent else ["kind", "filed_by", "conference"],
            "record § 16 preliminary measure petition" if urgent else "record § 14(1) court petition",
        )
        if urgent:
            notify_many(
                recipient_ids=supervisor_ids(case.municipality_id),
                kind=NotificationKind.URGENT_MEASURE,
                case_id=case.pk,
                case_reference=case.reference,
                object_type="casework.courtpetition",
                object_id=petition.pk,
                urgent=True,
                actor_id=by.pk,
            )
    return petition
