"""The assessment (vyhodnocení, Decree No. 473/2012 Coll., § 1): asking team members for inputs, their inputs, and
the coordinator's assessment.

Same contract as every service here: keyword-only, one transaction, field-level ``ValidationError`` with nothing
written, ``PermissionDenied`` after a committed denial row when the acting user may not do it, writes audited by field
name. The case flow (``workflows.flows.CaseFlow``) calls these from its nodes, inside its own step transaction.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import plausibility
from casework.compartments import Compartment
from casework.models import (
    Assessment,
    AssessmentInput,
    AssessmentOutcome,
    Case,
    InputStatus,
    KeptApartItem,
    TeamMembership,
    User,
)
from casework.sealing import seal_values
from casework.services.kept_apart import kept_apart_check, kept_apart_on_write
from casework.services.validation import clean_text
from notifications.models import Kind as NotificationKind
from notifications.services import notify
from permissions import audit
from permissions.access import load_case_access, refuse, require_case_lead
from permissions.policy import PARTNER_NOTE_COMPARTMENT, may_provide_input
from permissions.transactions import forget_in_transaction, once_per_transaction, remember_in_transaction

INPUT_MAX = 10_000
ASSESSMENT_FIELD_MAX = 20_000
#: The decree's headings, in order: field → compartment.
ASSESSMENT_FIELDS = ("child_needs", "parenting_capacity", "family_environment", "child_views")


@dataclass(frozen=True)
class InputRequest:
    """Ask ``member`` (a current team member) for an input, due at the end of ``due_on`` (Europe/Prague)."""

    member: User
    due_on: datetime.date


def input_compartment(member: User) -> Compartment:
    """Where a member's input is sealed: their sector's compartment, like their notes; OSPOD workers' in social."""
    return PARTNER_NOTE_COMPARTMENT.get(member.sector or "", Compartment.SOCIAL)


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))


def assessment_inputs_request(*, case: Case, by: User, requests: Sequence[InputRequest]) -> list[AssessmentInput]:
    """Ask current team members for their inputs to the assessment, each with a due date (today or later).

    Only the case's lead (its coordinator, or a supervisor covering) on an open case. Nothing is written unless every
    request is valid. The flow creates one task per returned input. The first assessment needs at least one input; a
    re-assessment (the case has an assessment already) asks whom the coordinator chooses, possibly nobody."""
    require_case_lead(by, case, purpose="request assessment inputs")
    errors: dict[str, list[str]] = {}
    if not requests and not Assessment.objects.filter(case=case).exists():
        errors.setdefault("members", []).append(_("Choose at least one team member."))
    today = timezone.localdate()
    current = {
        m.user_id: m
        for m in TeamMembership.objects.current().filter(case=case).select_related("user", "user__organisation")
    }
    seen: set[int] = set()
    for request in requests:
        if request.member.pk not in current:
            errors.setdefault("members", []).append(
                _("%(name)s is not a current member of the team.") % {"name": request.member.display_name()}
            )
        if request.member.pk in seen:
            errors.setdefault("members", []).append(_("Each member can be asked once."))
        seen.add(request.member.pk)
        plausibility.check(errors, "due", plausibility.due_date_problem(request.due_on, today))
    requested_before = inputs_requested(case.pk)
    open_requests = {item.member_id for item in requested_before if item.member_id in seen}
    if open_requests:
        errors.setdefault("members", []).append(_("Some of them already have an open request for an input."))
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    created = []
    with audit.atomic(savepoint=False):
        for request in requests:
            membership = current[request.member.pk]
            member = membership.user
            item = AssessmentInput.objects.create(
                case=case,
                membership=membership,
                member=member,
                author_organisation=member.organisation,
                compartment=input_compartment(member),
                requested_by=by,
                requested_at=now,
                due_at=_end_of(request.due_on),
            )
            audit.record_write(
                by, case.pk, "casework.assessmentinput", item.pk, ["member", "due_at"], "request assessment input"
            )
            created.append(item)
        # The case's open requests now: those read above and these (the flow's gateway and split ask next).
        remember_in_transaction(_requested_key(case.pk), [*requested_before, *created])
    return created


def assessment_input_provide(
    *, assessment_input: AssessmentInput, by: User, text: str, kept_apart: str = ""
) -> AssessmentInput:
    """The member writes their input: sealed in their compartment with the case's key; the coordinator is told.
    ``kept_apart``: a § 55(2) reason when the input is kept apart from file inspection ("" for none)."""
    case = assessment_input.case
    if not may_provide_input(load_case_access(by, case), asked_id=assessment_input.member_id):
        raise refuse(by, case, purpose="provide assessment input")
    errors: dict[str, list[str]] = {}
    text = clean_text(errors, "text", text, INPUT_MAX)
    kept_apart = kept_apart_check(errors, kept_apart)
    if errors:
        raise ValidationError(errors)
    with audit.atomic(savepoint=False):
        locked = AssessmentInput.objects.select_for_update(no_key=True).get(pk=assessment_input.pk)
        if locked.status != InputStatus.REQUESTED:
            raise ValidationError({"text": [_("This input is no longer requested.")]})
        seal_values(locked, {"text": text})
        locked.status = InputStatus.PROVIDED
        locked.provided_at = timezone.now()
        locked.save(update_fields=["text", "status", "provided_at"])
        audit.record_write(by, case.pk, "casework.assessmentinput", locked.pk, ["text"], "provide assessment input")
        kept_apart_on_write(case=case, item_type=KeptApartItem.INPUT, item_id=locked.pk, reason=kept_apart, by=by)
        notify(
            recipient_id=case.coordinator_id,
            kind=NotificationKind.INPUT_RECEIVED,
            case_id=case.pk,
            case_reference=case.reference,
            object_type="casework.assessmentinput",
            object_id=locked.pk,
            actor_id=by.pk,
        )
    return locked


def inputs_requested(case_id: uuid.UUID | str) -> list[AssessmentInput]:
    """The case's open input requests (with their member's organisation and the case's authority), once per
    transaction: the gateway after ``request_inputs``, the split's branches and each branch's owner and due date ask
    one list (docs/adr/0026-lean-steps-second-pass.md, third pass). Saving an input, or withdrawing one, drops it."""
    return once_per_transaction(
        _requested_key(case_id),
        lambda: list(
            AssessmentInput.objects.filter(case_id=case_id, status=InputStatus.REQUESTED).select_related(
                "member__organisation", "case__municipality"
            )
        ),
    )


def _requested_key(case_id: object) -> tuple[str, object]:
    return ("inputs requested", case_id)


def _input_saved(sender: type, instance: AssessmentInput, **kwargs: object) -> None:
    forget_in_transaction(_requested_key(instance.case_id))


post_save.connect(_input_saved, sender=AssessmentInput, dispatch_uid="casework.assessments.inputs_requested")


def assessment_input_withdraw(*, assessment_input: AssessmentInput) -> AssessmentInput:
    """A request whose member left the team: withdrawn (a system action of ``team_member_end``; nothing to read)."""
    with audit.atomic():
        updated = AssessmentInput.objects.filter(pk=assessment_input.pk, status=InputStatus.REQUESTED).update(
            status=InputStatus.WITHDRAWN, withdrawn_at=timezone.now()
        )
        forget_in_transaction(_requested_key(assessment_input.case_id))
        if updated:
            audit.record_write(
                None,
                assessment_input.case_id,
                "casework.assessmentinput",
                assessment_input.pk,
                ["status"],
                "withdraw assessment input",
            )
    assessment_input.refresh_from_db()
    return assessment_input


def _assessment_texts(
    errors: dict[str, list[str]],
    *,
    child_needs: str,
    parenting_capacity: str,
    family_environment: str,
    child_views: str,
) -> dict[str, str]:
    return {
        "child_needs": clean_text(errors, "child_needs", child_needs, ASSESSMENT_FIELD_MAX),
        "parenting_capacity": clean_text(errors, "parenting_capacity", parenting_capacity, ASSESSMENT_FIELD_MAX),
        "family_environment": clean_text(errors, "family_environment", family_environment, ASSESSMENT_FIELD_MAX),
        "child_views": clean_text(errors, "child_views", child_views, ASSESSMENT_FIELD_MAX),
    }


def latest_assessment(case: Case) -> Assessment | None:
    """The case's newest assessment version (None before the first)."""
    return Assessment.objects.filter(case=case).order_by("-version").first()


def in_force_assessment(case: Case) -> Assessment | None:
    """The version whose texts describe the child's situation now: the newest, or, when that one recorded "no
    change", the version it confirms (followed back to one with texts)."""
    versions = {a.pk: a for a in Assessment.objects.filter(case=case)}
    newest = max(versions.values(), key=lambda a: a.version, default=None)
    while newest is not None and newest.outcome == AssessmentOutcome.UNCHANGED:
        newest = versions.get(newest.previous_id) if newest.previous_id else None
    return newest


def _round_inputs_close(assessment: Assessment) -> None:
    """The inputs of the round just assessed (answered or withdrawn, not yet tied to a version) now belong to it."""
    AssessmentInput.objects.filter(
        case_id=assessment.case_id, assessment__isnull=True, status__in=[InputStatus.PROVIDED, InputStatus.WITHDRAWN]
    ).update(assessment=assessment)


def assessment_write(
    *,
    case: Case,
    by: User,
    child_needs: str,
    parenting_capacity: str,
    family_environment: str,
    child_views: str,
) -> Assessment:
    """The coordinator's first assessment under the decree's four headings; each is required (the child's views too:
    if the child could not be heard, say so and why). Version 1; re-assessments go through
    :func:`assessment_reassess`."""
    require_case_lead(by, case, purpose="write assessment")
    errors: dict[str, list[str]] = {}
    values = _assessment_texts(
        errors,
        child_needs=child_needs,
        parenting_capacity=parenting_capacity,
        family_environment=family_environment,
        child_views=child_views,
    )
    if Assessment.objects.filter(case=case).exists():
        errors.setdefault("__all__", []).append(_("The case has an assessment already: re-assess it at a review."))
    if errors:
        raise ValidationError(errors)
    with audit.atomic(savepoint=False):
        assessment = Assessment(case=case, author=by, version=1, outcome=AssessmentOutcome.FIRST)
        seal_values(assessment, values)
        assessment.save(force_insert=True)
        _round_inputs_close(assessment)
        audit.record_write(
            by, case.pk, "casework.assessment", assessment.pk, list(ASSESSMENT_FIELDS), "write assessment"
        )
    return assessment


def assessment_reassess(
    *,
    case: Case,
    by: User,
    unchanged: bool,
    unchanged_reason: str = "",
    child_needs: str = "",
    parenting_capacity: str = "",
    family_environment: str = "",
    child_views: str = "",
) -> Assessment:
    """The re-assessment at a review (DOMAIN.md, step 9: the assessment is updated before the plan): a new version,
    the older ones kept as they are.

    * ``unchanged``: "no change" — a recorded outcome with its reason (required); the texts stay empty (a text given
      with "no change" is refused rather than dropped), and the version confirms the one before it.
    * otherwise: the decree's four headings again, each required, as in the first assessment.

    Only the case's lead, on an open case that has an assessment. The round's inputs are tied to the new version."""
    require_case_lead(by, case, purpose="re-assess")
    errors: dict[str, list[str]] = {}
    previous = latest_assessment(case)
    if previous is None:
        errors.setdefault("__all__", []).append(_("The case has no assessment yet to re-assess."))
    texts = {
        "child_needs": child_needs,
        "parenting_capacity": parenting_capacity,
        "family_environment": family_environment,
        "child_views": child_views,
    }
    values: dict[str, str]
    if unchanged:
        values = {"unchanged_reason": clean_text(errors, "unchanged_reason", unchanged_reason, ASSESSMENT_FIELD_MAX)}
        for field, text in texts.items():
            if (text or "").strip():
                errors.setdefault(field, []).append(
                    _("Leave this empty when nothing changed, or choose a revised assessment.")
                )
    else:
        values = _assessment_texts(errors, **texts)
    if errors:
        raise ValidationError(errors)
    assert previous is not None
    with audit.atomic():
        assessment = Assessment(
            case=case,
            author=by,
            version=previous.version + 1,
            previous=previous,
            outcome=AssessmentOutcome.UNCHANGED if unchanged else AssessmentOutcome.REVISED,
        )
        seal_values(assessment, values)
        assessment.save(force_insert=True)
        _round_inputs_close(assessment)
        audit.record_write(by, case.pk, "casework.assessment", assessment.pk, sorted(values), "re-assess")
    return assessment
