"""Retention of closed case files and the shredding review (skartační řízení, Act No. 499/2004 Coll.).

The rule (DOMAIN.md, "Closure"; § 55(5) of Act No. 359/1999 Coll.): a file is kept **15 years after the calendar year
in which the child left the register** (the case was closed); for a child who left into adoption or foster care,
15 years after the year they come of age, whichever ends later. The period ends on 31 December of its last year, so a
file is *due* on 1 January of the year after — never a day earlier (:func:`retention_due_on`).

Three steps, none of which deletes anything on its own:

1. :func:`retention_propose` (``manage.py apply_retention``, periodic) finds due files and creates one
   :class:`~casework.models.RetentionReview` per case, state *proposed*. A rerun proposes nothing twice.
2. :func:`retention_decide`: a supervisor of the authority or its records officer decides — *destroy*, *transfer to
   the archive* (both under the shredding review's reference) or *keep longer* (a fixed reason and a date).
3. :func:`retention_execute` carries out a decided destruction or transfer, in steps that are each idempotent and
   recorded on the review: the archive package first (a transfer only), then the crypto-shredding — every data key of
   the case and of its reports, and the child's identity key when no other file of the child is still kept — in
   **one transaction** with the stub and its audit rows. A run killed at any point leaves either the whole file or a
   stub, never half of it; ``apply_retention`` resumes decided reviews it finds not yet carried out.

Reads that need plaintext (the child's date of birth for the period, the file for the archive) go through the gate
as system reads (``permissions.gate.read_as_system``), audited like any read.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.archive_export import archive_package_write
from casework.models import (
    Case,
    CaseStatus,
    Child,
    ExecutionStep,
    KeepReason,
    KeyOwnerType,
    Report,
    RetentionReview,
    ReviewDecision,
    ReviewState,
    SubstituteCare,
    User,
)
from casework.sealing import destroy_owner_keys
from permissions import audit, gate
from permissions.access import refuse
from permissions.policy import SystemRead, may_decide_retention

#: Years a file is kept after the calendar year of its triggering event (§ 55(5) of Act No. 359/1999 Coll.).
RETENTION_YEARS = 15
#: Coming of age (zletilost, § 30 of the Civil Code).
AGE_OF_MAJORITY = 18
#: The longest "keep longer" a decision may set at once; the file is proposed again when it ends.
KEEP_LONGER_MAX_YEARS = 10
#: The shredding review's reference: the same shape as ``child_crypto_shred`` accepts.
DECISION_REFERENCE = re.compile(r"^[\w ./-]{1,50}$")

PROPOSE_PURPOSE = "propose for shredding review"
DECIDE_PURPOSE = "decide shredding review"
PERIOD_PURPOSE = "retention period of an adopted or fostered child"


def retention_due_on(*, left_register_on: datetime.date, comes_of_age_year: int | None = None) -> datetime.date:
    """The first day after the retention period: 1 January of the 16th year after the later of the year the child
    left the register and (adoption, foster care) the year they come of age."""
    last_event_year = left_register_on.year
    if comes_of_age_year is not None:
        last_event_year = max(last_event_year, comes_of_age_year)
    return datetime.date(last_event_year + RETENTION_YEARS + 1, 1, 1)


def _left_register_on(case: Case) -> datetime.date:
    assert case.closed_at is not None
    return timezone.localtime(case.closed_at).date()


@dataclass(frozen=True)
class DueFile:
    """A file whose period has ended and that has no open review: what ``apply_retention`` proposes (or lists)."""

    case_id: uuid.UUID
    reference: str
    municipality_id: int
    left_register_on: datetime.date
    due_on: datetime.date
    #: Proposed again after a "keep longer" decision ran out.
    again: bool


def _latest_possible_closure(today: datetime.date) -> datetime.datetime:
    """Cases closed before this moment may be due: 1 January (Prague time) of the year ``RETENTION_YEARS`` before this
    one. Later closures are not due whatever the child's age (the adoption rule only lengthens the period)."""
    return timezone.make_aware(datetime.datetime(today.year - RETENTION_YEARS, 1, 1))


def retention_due(*, today: datetime.date | None = None) -> list[DueFile]:
    """Closed files whose period has ended by ``today`` (Prague) and that need a proposal: never reviewed, or kept
    longer until a day that has come. For a child who left into adoption or foster care the date of birth is read
    through the gate (a system read, audited) — only for files already past the basic period."""
    today = today or timezone.localdate()
    candidates = list(
        Case.objects.filter(status=CaseStatus.CLOSED, closed_at__lt=_latest_possible_closure(today))
        .filter(Q(retention_review__isnull=True))
        .select_related("child")
        .order_by("closed_at", "id")
    )
    majority = _comes_of_age_years([c for c in candidates if c.substitute_care != SubstituteCare.NONE])
    due: list[DueFile] = []
    for case in candidates:
        left = _left_register_on(case)
        due_on = retention_due_on(left_register_on=left, comes_of_age_year=majority.get(case.pk))
        if due_on <= today:
            due.append(DueFile(case.pk, case.reference, case.municipality_id, left, due_on, again=False))
    kept = (
        RetentionReview.objects.filter(state=ReviewState.KEPT, keep_until__lte=today)
        .select_related("case")
        .order_by("keep_until", "id")
    )
    for review in kept:
        case = review.case
        assert review.keep_until is not None
        due.append(
            DueFile(
                case.pk, case.reference, case.municipality_id, _left_register_on(case), review.keep_until, again=True
            )
        )
    return due


def _comes_of_age_years(cases: Sequence[Case]) -> dict[uuid.UUID, int | None]:
    """The year each (adopted or fostered) child comes of age, from the sealed date of birth; None if unknown (the
    child's identity already shredded, or no date recorded): the basic rule then applies alone."""
    readable = [case for case in cases if case.child.shredded_at is None]
    if not readable:
        return {}
    found = gate.read_as_system(
        SystemRead.RETENTION_PERIOD,
        [(case, [case.child], ["date_of_birth"]) for case in readable],
        purpose=PERIOD_PURPOSE,
    )
    years: dict[uuid.UUID, int | None] = {}
    for case, disclosures in zip(readable, found, strict=True):
        born = disclosures[0].get("date_of_birth") if disclosures else None
        years[case.pk] = datetime.date.fromisoformat(born).year + AGE_OF_MAJORITY if born else None
    return years


def retention_propose(*, today: datetime.date | None = None, dry_run: bool = False) -> list[DueFile]:
    """Propose every due file for the shredding review (one review row per case; a rerun proposes nothing new).
    ``dry_run`` returns what would be proposed and writes nothing (beyond the audited system read of the dates of
    birth that deciding needs). Each proposal is audited (the system as the actor)."""
    due = retention_due(today=today)
    if dry_run or not due:
        return due
    now = timezone.now()
    proposed: list[DueFile] = []
    for item in due:
        with audit.atomic():
            if item.again:
                changed = RetentionReview.objects.filter(
                    case_id=item.case_id, state=ReviewState.KEPT, keep_until__lte=item.due_on
                ).update(state=ReviewState.PROPOSED, proposed_at=now, decision="", decided_by=None, decided_at=None)
                review_id = RetentionReview.objects.values_list("pk", flat=True).get(case_id=item.case_id)
            else:
                created = RetentionReview.objects.bulk_create(
                    [RetentionReview(case_id=item.case_id, due_on=item.due_on, proposed_at=now)],
                    ignore_conflicts=True,
                )
                # ignore_conflicts gives no primary key back: read the row that is there (ours or a parallel run's).
                review_id, proposed_now = RetentionReview.objects.values_list("pk", "proposed_at").get(
                    case_id=item.case_id
                )
                changed = len(created) if proposed_now == now else 0
            if changed:
                audit.record_write(
                    None, item.case_id, "casework.retentionreview", review_id, ["state"], PROPOSE_PURPOSE
                )
                proposed.append(item)
    return proposed


# --- The decision -------------------------------------------------------------------------------------------------


def retention_decide(
    *,
    review: RetentionReview,
    by: User,
    decision: str,
    decision_reference: str = "",
    keep_reason: str = "",
    keep_until: datetime.date | None = None,
    today: datetime.date | None = None,
) -> RetentionReview:
    """Decide one proposal. Destroy and transfer need the shredding review's reference and leave the review
    *decided* (:func:`retention_execute` carries it out); keep longer needs a reason and a later date, at most
    ``KEEP_LONGER_MAX_YEARS`` ahead. Only a supervisor of the file's authority or its records officer
    (``PermissionDenied`` after a committed denial row). A proposal decided meanwhile is a field error, not a second
    decision."""
    case = review.case
    if not may_decide_retention(by, case.municipality_id):
        raise refuse(by, case, purpose=DECIDE_PURPOSE)
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    reference = (decision_reference or "").strip()
    if decision not in ReviewDecision.values:
        errors["decision"] = [_("Choose what happens to the file.")]
    elif decision == ReviewDecision.KEEP:
        if keep_reason not in KeepReason.values:
            errors["keep_reason"] = [_("Choose why the file is kept longer.")]
        if keep_until is None:
            errors["keep_until"] = [_("Give the day until which the file is kept.")]
        elif keep_until <= today:
            errors["keep_until"] = [_("The day must be in the future.")]
        elif keep_until > today.replace(year=today.year + KEEP_LONGER_MAX_YEARS, day=min(today.day, 28)):
            errors["keep_until"] = [
                _("Keep a file longer by at most %(years)d years at once; it is proposed again then.")
                % {"years": KEEP_LONGER_MAX_YEARS}
            ]
    elif not DECISION_REFERENCE.match(reference):
        errors["decision_reference"] = [
            _("Give the reference of the shredding review's record (letters, digits, spaces and . / - only).")
        ]
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        locked = RetentionReview.objects.select_for_update(no_key=True).get(pk=review.pk)
        if locked.state != ReviewState.PROPOSED:
            raise ValidationError({"decision": [_("This proposal has already been decided.")]})
        locked.decision = decision
        locked.decided_by = by
        locked.decided_at = timezone.now()
        if decision == ReviewDecision.KEEP:
            locked.state = ReviewState.KEPT
            locked.keep_reason = keep_reason
            locked.keep_until = keep_until
            fields = ["decision", "keep_reason", "keep_until"]
        else:
            locked.state = ReviewState.DECIDED
            locked.decision_reference = reference
            fields = ["decision", "decision_reference"]
        locked.save()
        audit.record_write(by, case.pk, "casework.retentionreview", locked.pk, ["state", *fields], DECIDE_PURPOSE)
    return locked


# --- Carrying it out ------------------------------------------------------------------------------------------------


def retention_execute(
    *, review: RetentionReview, on_keys_destroyed: Callable[[RetentionReview], None] | None = None
) -> RetentionReview:
    """Carry out a decided destruction or transfer. Idempotent: an executed review is returned as it is; a review
    that was not decided is refused (nothing is destroyed without a decision). A transfer writes the archive package
    first (step *exported*), then both shred in one transaction. ``on_keys_destroyed`` is called inside that
    transaction, after the keys and before the commit (the tests kill the process there)."""
    review = RetentionReview.objects.select_related("case").get(pk=review.pk)
    if review.state == ReviewState.EXECUTED:
        return review
    if review.state != ReviewState.DECIDED or review.decision not in (ReviewDecision.DESTROY, ReviewDecision.TRANSFER):
        raise ValidationError({"state": [_("Only a decided destruction or transfer can be carried out.")]})
    if review.decision == ReviewDecision.TRANSFER and review.step != ExecutionStep.EXPORTED:
        package = archive_package_write(review)
        with audit.atomic():
            RetentionReview.objects.filter(pk=review.pk, state=ReviewState.DECIDED).update(
                step=ExecutionStep.EXPORTED, archive_package=package.name, archive_sha256=package.sha256
            )
            audit.record(
                actor=None,
                action=audit.AuditAction.EXPORT,
                object_type="casework.case",
                object_id=review.case_id,
                fields=["archive_package"],
                purpose=f"archive transfer per decision {review.decision_reference}",
                outcome=audit.AuditOutcome.ALLOWED,
                case_id=review.case_id,
            )
    _shred(review, on_keys_destroyed)
    return RetentionReview.objects.select_related("case").get(pk=review.pk)


def _shred(review: RetentionReview, on_keys_destroyed: Callable[[RetentionReview], None] | None) -> None:
    """Destroy the file's data keys and write the stub, in one transaction (the review row, then the case, then the
    keys; the audit head last, ADR 0011)."""
    with audit.atomic():
        locked = RetentionReview.objects.select_for_update(no_key=True).get(pk=review.pk)
        if locked.state == ReviewState.EXECUTED:
            return
        case = Case.objects.select_for_update(no_key=True).get(pk=locked.case_id)
        report_ids = list(Report.objects.filter(case_id=case.pk).values_list("pk", flat=True))
        destroy_owner_keys(KeyOwnerType.CASE, case.pk)
        for report_id in report_ids:
            destroy_owner_keys(KeyOwnerType.REPORT, report_id)
        # The child's identity goes with their last file still kept: another file of the child (open, or closed and
        # not yet shredded) still needs the register entry.
        other_files = Case.objects.filter(child_id=case.child_id).exclude(pk=case.pk)
        child_alone = not other_files.exclude(retention_review__state=ReviewState.EXECUTED).exists()
        shredded_child = False
        if child_alone and Child.objects.filter(pk=case.child_id, shredded_at__isnull=True).exists():
            destroy_owner_keys(KeyOwnerType.CHILD, case.child_id)
            Child.objects.filter(pk=case.child_id).update(
                shredded_at=timezone.now(), birth_number_index=None, identity_index=None
            )
            shredded_child = True
        if on_keys_destroyed is not None:
            on_keys_destroyed(locked)
        locked.state = ReviewState.EXECUTED
        locked.step = ExecutionStep.SHREDDED
        locked.executed_at = timezone.now()
        locked.save(update_fields=["state", "step", "executed_at"])
        Case.objects.filter(pk=case.pk).update(file_destroyed_at=locked.executed_at)
        purpose = f"crypto-shred after shredding review, decision {locked.decision_reference}"
        audit.record_write(None, case.pk, "casework.case", case.pk, ["crypto_shred"], purpose)
        for report_id in report_ids:
            audit.record_write(None, case.pk, "casework.report", report_id, ["crypto_shred"], purpose)
        if shredded_child:
            audit.record_write(None, case.pk, "casework.child", case.child_id, ["crypto_shred"], purpose)
        audit.record_write(None, case.pk, "casework.retentionreview", locked.pk, ["state"], purpose)


def retention_resume(*, on_keys_destroyed: Callable[[RetentionReview], None] | None = None) -> list[RetentionReview]:
    """Carry out every decided review not yet carried out (a run or a request that died half-way)."""
    pending = list(RetentionReview.objects.filter(state=ReviewState.DECIDED).order_by("decided_at", "id"))
    return [retention_execute(review=review, on_keys_destroyed=on_keys_destroyed) for review in pending]
