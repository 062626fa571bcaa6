"""Registering children and crypto-shredding their identity.

Writes of protected fields are audited (field names only) in the same transaction as the write.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework import plausibility
from casework.birth_number import parse_birth_number
from casework.models import (
    Case,
    CaseStatus,
    Child,
    ChildMerge,
    ChildMergeGround,
    ChildMergeStatus,
    ChildSex,
    KeyOwnerType,
    LegalRepresentative,
    Municipality,
    Relation,
    Report,
    User,
)
from casework.sealing import Keyring, destroy_owner_keys, seal_values
from casework.selectors import birth_number_index
from casework.selectors.accounts import supervisor_ids
from casework.selectors.children import identity_index
from casework.services.validation import add_error as _add
from casework.services.validation import clean_text
from notifications.models import Kind as NotificationKind
from notifications.services import notify, notify_many
from permissions import audit, gate
from permissions.access import record_denial
from permissions.policy import Subject, SystemRead, may_add_birth_number, may_decide_child_merge, may_register_child

NAME_MAX = 100
ADDRESS_MAX = 300
CONTACT_MAX = 200
REPRESENTATIVES_MAX = 4
OTHER_IDENTIFIERS_MAX = 500

#: The sealed identity fields of a register entry, in the order the audit names them.
CHILD_IDENTITY_FIELDS = ("given_name", "family_name", "date_of_birth", "birth_number", "address", "other_identifiers")


@dataclass(frozen=True)
class RepresentativeInput:
    relation: str
    full_name: str
    contact: str
    #: Holds parental responsibility for the child (§ 55(3): may inspect the file as the child's representative).
    parental_responsibility: bool = False


def child_create(
    *,
    municipality: Municipality,
    given_name: str,
    family_name: str,
    date_of_birth: datetime.date | None,
    birth_number: str,
    address: str,
    representatives: list[RepresentativeInput],
    created_by: User,
    date_of_birth_estimated: bool = False,
    other_identifiers: str = "",
    purpose: str = "register child",
    register_checked: bool = False,
) -> Child:
    """Register a child in ``municipality``; raises ValidationError (field-level) or PermissionDenied, saving nothing.

    The birth number may be left out (a newborn, a foreign child, a number nobody knows yet): the name and the date of
    birth — exact, or estimated from the child's age — identify the child until :func:`child_add_birth_number`. With
    a number, the date of birth must agree with the one encoded in it. One register entry per birth number (database
    constraint on the blind index). ``purpose`` names the write in the audit log (the register import passes
    "import"). ``register_checked``: the caller has just asked the register for this birth number in the same
    transaction and found no entry anywhere (a triage); the friendly duplicate check is not asked again (the unique
    constraint still refuses a second entry).
    """
    if not may_register_child(created_by, municipality):
        audit.record_committed(
            actor=created_by,
            action=audit.AuditAction.DENY,
            object_type="casework.child",
            object_id="-",
            fields=list(CHILD_IDENTITY_FIELDS),
            purpose=purpose,
            outcome=audit.AuditOutcome.DENIED,
        )
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    given_name = clean_text(errors, "given_name", given_name, NAME_MAX)
    family_name = clean_text(errors, "family_name", family_name, NAME_MAX)
    address = clean_text(errors, "address", address, ADDRESS_MAX, required=False)
    other_identifiers = clean_text(
        errors, "other_identifiers", other_identifiers, OTHER_IDENTIFIERS_MAX, required=False
    )
    parsed = None
    if (birth_number or "").strip():
        try:
            parsed = parse_birth_number(birth_number)
        except ValidationError as exc:
            errors.setdefault("birth_number", []).extend(exc.messages)
    if date_of_birth is None:
        if parsed is not None:
            date_of_birth = parsed.date_of_birth
        else:
            errors.setdefault("date_of_birth", []).append(
                str(_("Enter the date of birth (or an estimate from the child's age) or the birth number."))
            )
    elif parsed is not None and date_of_birth != parsed.date_of_birth:
        errors.setdefault("date_of_birth", []).append(
            str(_("The date of birth does not match the one in the birth number."))
        )
    if date_of_birth is not None:
        plausibility.check(errors, "date_of_birth", plausibility.child_date_of_birth_problem(date_of_birth))
    if len(representatives) > REPRESENTATIVES_MAX:
        errors.setdefault("representatives", []).append(
            str(_("At most %(limit)d legal representatives.") % {"limit": REPRESENTATIVES_MAX})
        )
    for index, rep in enumerate(representatives):
        if rep.relation not in Relation.values:
            errors.setdefault(f"representatives-{index}-relation", []).append(str(_("Choose a relation.")))
        clean_text(errors, f"representatives-{index}-full_name", rep.full_name, NAME_MAX)
        clean_text(errors, f"representatives-{index}-contact", rep.contact, CONTACT_MAX, required=False)
    index_value = birth_number_index(parsed.normalized) if parsed else None
    if index_value and not register_checked and Child.objects.filter(birth_number_index=index_value).exists():
        errors.setdefault("birth_number", []).append(str(_("A child with this birth number is already registered.")))
    if errors:
        raise ValidationError(errors)
    assert date_of_birth is not None

    try:
        with audit.atomic(savepoint=False):
            child = Child(
                municipality=municipality,
                birth_number_index=index_value,
                identity_index=identity_index(given_name, family_name, date_of_birth),
                date_of_birth_estimated=bool(date_of_birth_estimated) and parsed is None,
                created_by=created_by,
                birth_year=date_of_birth.year,
                sex=parsed.sex if parsed else ChildSex.UNKNOWN,
            )
            keyring = Keyring()
            seal_values(
                child,
                {
                    "given_name": given_name,
                    "family_name": family_name,
                    "date_of_birth": date_of_birth.isoformat(),
                    "birth_number": parsed.normalized if parsed else None,
                    "address": address or None,
                    "other_identifiers": other_identifiers or None,
                },
                keyring,
            )
            child.save(force_insert=True)
            for position, rep in enumerate(representatives):
                row = LegalRepresentative(
                    child=child,
                    relation=rep.relation,
                    position=position,
                    parental_responsibility=bool(rep.parental_responsibility),
                )
                seal_values(row, {"full_name": rep.full_name.strip(), "contact": rep.contact.strip()}, keyring)
                row.save(force_insert=True)
            written = [name for name in CHILD_IDENTITY_FIELDS if getattr(child, name) is not None]
            audit.record(
                actor=created_by,
                action=audit.AuditAction.WRITE,
                object_type="casework.child",
                object_id=str(child.pk),
                fields=written + (["representatives"] if representatives else []),
                purpose=purpose,
                outcome=audit.AuditOutcome.ALLOWED,
            )
    except IntegrityError as exc:
        # Two registrations of the same birth number at the same moment: the constraint decides.
        raise ValidationError(
            {"birth_number": [str(_("A child with this birth number is already registered."))]}
        ) from exc
    return child


def child_representative_add(*, child: Child, rep: RepresentativeInput, by: User) -> LegalRepresentative:
    """Add a legal representative to a registered child (a parent found later, a guardian appointed): OSPOD staff of
    the child's authority; field errors as at registration; audited by field name."""
    if not may_register_child(by, child.municipality):
        raise _refuse_child(by, child, ["representatives"], "add legal representative")
    errors: dict[str, list[str]] = {}
    if rep.relation not in Relation.values:
        errors.setdefault("relation", []).append(str(_("Choose a relation.")))
    full_name = clean_text(errors, "full_name", rep.full_name, NAME_MAX)
    contact = clean_text(errors, "contact", rep.contact, CONTACT_MAX, required=False)
    if child.representatives.count() >= REPRESENTATIVES_MAX:
        errors.setdefault("representatives", []).append(
            str(_("At most %(limit)d legal representatives.") % {"limit": REPRESENTATIVES_MAX})
        )
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        row = LegalRepresentative(
            child=child,
            relation=rep.relation,
            position=child.representatives.count(),
            parental_responsibility=bool(rep.parental_responsibility),
        )
        seal_values(row, {"full_name": full_name, "contact": contact}, Keyring())
        row.save(force_insert=True)
        audit.record_write(
            by,
            None,
            "casework.legalrepresentative",
            row.pk,
            ["relation", "full_name", "contact", "parental_responsibility"],
            "add legal representative",
        )
    return row


@dataclass(frozen=True)
class BirthNumberAdded:
    """What adding a birth number later did: recorded on the entry, or — the number belongs to another entry of the
    authority's register — a merge proposed for a supervisor to decide (nothing else written)."""

    recorded: bool
    merge: ChildMerge | None = None


def _refuse_child(user: User, child: Child, fields: list[str], purpose: str) -> PermissionDenied:
    audit.record_committed(
        actor=user,
        action=audit.AuditAction.DENY,
        object_type="casework.child",
        object_id=str(child.pk),
        fields=fields,
        purpose=purpose,
        outcome=audit.AuditOutcome.DENIED,
    )
    return PermissionDenied()


def child_add_birth_number(*, child: Child, birth_number: str, by: User) -> BirthNumberAdded:
    """Add the birth number of a child registered without one. An estimated date of birth gives way to the one in the
    number; an exact one must agree with it. If another entry of the authority's register has the number, nothing is
    recorded: a merge of this entry into that one is proposed for a supervisor (:func:`child_merge_decide`). A number
    registered with another authority is a field error (its competence is that authority's question).
    Raises ``ValidationError`` (field ``birth_number`` / ``date_of_birth``) or ``PermissionDenied`` (audited)."""
    purpose = "add birth number"
    if not may_add_birth_number(by, child):
        raise _refuse_child(by, child, ["birth_number"], purpose)
    errors: dict[str, list[str]] = {}
    parsed = None
    try:
        parsed = parse_birth_number(birth_number or "")
    except ValidationError as exc:
        errors.setdefault("birth_number", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    assert parsed is not None
    index_value = birth_number_index(parsed.normalized)
    # The name and date of birth as registered, through the gate (audited, before the write transaction opens): the
    # date is compared with the number's, and the hint index is recomputed.
    current = gate.read(by, child, ["given_name", "family_name", "date_of_birth"], purpose=purpose)
    with audit.atomic():
        locked = Child.objects.select_for_update(no_key=True).get(pk=child.pk)
        if locked.merged_into_id is not None or locked.shredded_at is not None:
            raise ValidationError({"birth_number": [_("This register entry was merged into another one.")]})
        if locked.birth_number_index is not None:
            raise ValidationError({"birth_number": [_("The child already has a birth number.")]})
        holder = Child.objects.filter(birth_number_index=index_value).exclude(pk=locked.pk).first()
        if holder is not None:
            if holder.municipality_id != locked.municipality_id:
                raise ValidationError({"birth_number": [_("A child with this birth number is already registered.")]})
            merge = _merge_propose(source=locked, target=holder, by=by, ground=ChildMergeGround.BIRTH_NUMBER)
            return BirthNumberAdded(recorded=False, merge=merge)
        keyring = Keyring()
        born = datetime.date.fromisoformat(current.get("date_of_birth") or parsed.date_of_birth.isoformat())
        fields = ["birth_number"]
        if born != parsed.date_of_birth:
            if not locked.date_of_birth_estimated:
                raise ValidationError(
                    {"date_of_birth": [_("The date of birth does not match the one in the birth number.")]}
                )
            fields.append("date_of_birth")
        seal_values(
            locked,
            {"birth_number": parsed.normalized, "date_of_birth": parsed.date_of_birth.isoformat()},
            keyring,
        )
        locked.birth_number_index = index_value
        locked.date_of_birth_estimated = False
        locked.identity_index = identity_index(
            current.get("given_name") or "", current.get("family_name") or "", parsed.date_of_birth
        )
        try:
            with audit.atomic():
                locked.save(
                    update_fields=[
                        "birth_number",
                        "date_of_birth",
                        "birth_number_index",
                        "date_of_birth_estimated",
                        "identity_index",
                    ]
                )
        except IntegrityError as exc:
            raise ValidationError(
                {"birth_number": [_("A child with this birth number is already registered.")]}
            ) from exc
        audit.record(
            actor=by,
            action=audit.AuditAction.WRITE,
            object_type="casework.child",
            object_id=str(locked.pk),
            fields=fields,
            purpose=purpose,
            outcome=audit.AuditOutcome.ALLOWED,
        )
    child.refresh_from_db()
    return BirthNumberAdded(recorded=True)


def _merge_propose(*, source: Child, target: Child, by: User, ground: str) -> ChildMerge:
    if ChildMerge.objects.filter(source=source, status=ChildMergeStatus.PENDING).exists():
        raise ValidationError({"merge": [_("A merge of this entry is already waiting for a supervisor.")]})
    merge = ChildMerge.objects.create(
        municipality_id=source.municipality_id, source=source, target=target, ground=ground, proposed_by=by
    )
    audit.record(
        actor=by,
        action=audit.AuditAction.WRITE,
        object_type="casework.childmerge",
        object_id=str(merge.pk),
        fields=["source", "target", "ground"],
        purpose="propose merge of register entries",
        outcome=audit.AuditOutcome.ALLOWED,
    )
    # Those who may decide it (``may_decide_child_merge``): the authority's acting supervisors, the proposer left out
    # (four eyes). Ids only: the child is named on the entries' pages, read through the gate.
    notify_many(
        recipient_ids=supervisor_ids(source.municipality_id),
        kind=NotificationKind.CHILD_MERGE_PROPOSED,
        object_type="casework.childmerge",
        object_id=merge.pk,
        actor_id=by.pk,
    )
    return merge


def child_merge_propose(*, source: Child, target: Child, by: User) -> ChildMerge:
    """Propose that ``source`` (an entry without a birth number) and ``target`` are one child — e.g. from a
    possible-duplicate hint. A supervisor other than the proposer decides; the authority's supervisors are notified
    (``child_merge_proposed``) in the proposal's transaction."""
    purpose = "propose merge of register entries"
    if not may_add_birth_number(by, source) or not may_add_birth_number(by, target):
        raise _refuse_child(by, source, ["merge"], purpose)
    errors: dict[str, list[str]] = {}
    if source.pk == target.pk:
        _add(errors, "merge", str(_("Choose two different register entries.")))
    elif source.birth_number_index is not None:
        _add(errors, "merge", str(_("Only an entry without a birth number is merged into another one.")))
    elif source.merged_into_id is not None or target.merged_into_id is not None:
        _add(errors, "merge", str(_("One of the entries was already merged.")))
    if errors:
        raise ValidationError(errors)
    with audit.atomic():
        return _merge_propose(source=source, target=target, by=by, ground=ChildMergeGround.NAME_AND_BIRTH_DATE)


def child_merge_decide(*, merge: ChildMerge, by: User, approve: bool) -> ChildMerge:
    """A supervisor (not the proposer: four eyes) approves or rejects a merge. Approving moves the source entry's
    cases and reports to the target and marks the source as merged into it: both histories stay (the source row, its
    identity as registered and its audit rows remain, pointing at the target). If both children have an open case,
    the merge is refused with nothing written: one child has one open case, so one of them must be closed (or the
    reports attached) first. The proposer is notified of the decision (``child_merge_decided``) in its transaction.
    Raises ``ValidationError`` (field ``merge``) or ``PermissionDenied`` (audited)."""
    purpose = "decide merge of register entries"
    if not may_decide_child_merge(
        Subject.from_user(by), municipality_id=merge.municipality_id, proposed_by_id=merge.proposed_by_id
    ):
        record_denial(by, "casework.childmerge", merge.pk, purpose, fields=["status"])
        raise PermissionDenied
    with audit.atomic():
        locked = ChildMerge.objects.select_for_update(no_key=True).get(pk=merge.pk)
        if locked.status != ChildMergeStatus.PENDING:
            raise ValidationError({"merge": [_("This merge has already been decided.")]})
        # Both register rows in primary-key order (one lock order), then the cases.
        children = {
            c.pk: c
            for c in Child.objects.select_for_update(no_key=True)
            .filter(pk__in=[locked.source_id, locked.target_id])
            .order_by("pk")
        }
        source, target = children[locked.source_id], children[locked.target_id]
        now = timezone.now()
        if approve:
            if source.merged_into_id is not None or target.merged_into_id is not None:
                raise ValidationError({"merge": [_("One of the entries was already merged.")]})
            if source.birth_number_index is not None:
                raise ValidationError(
                    {"merge": [_("Only an entry without a birth number is merged into another one.")]}
                )
            open_cases = list(
                Case.objects.select_for_update(no_key=True)
                .filter(child_id__in=[source.pk, target.pk], status=CaseStatus.OPEN)
                .order_by("pk")
            )
            if len(open_cases) > 1:
                raise ValidationError(
                    {
                        "merge": [
                            _(
                                "Both children have an open case (%(cases)s). A child has one open case: close one "
                                "of them first, then approve the merge."
                            )
                            % {"cases": ", ".join(c.reference for c in open_cases)}
                        ]
                    }
                )
            moved_cases = list(Case.objects.filter(child=source).values_list("pk", flat=True))
            Case.objects.filter(child=source).update(child=target)
            Report.objects.filter(child=source).update(child=target)
            Child.objects.filter(pk=source.pk).update(merged_into=target, merged_at=now)
            for case_id in moved_cases:
                audit.record_write(by, case_id, "casework.case", case_id, ["child"], purpose)
            audit.record_write(by, None, "casework.child", source.pk, ["merged_into"], purpose)
            audit.record_write(by, None, "casework.child", target.pk, ["merged_from"], purpose)
            locked.status = ChildMergeStatus.APPROVED
        else:
            locked.status = ChildMergeStatus.REJECTED
        locked.decided_by = by
        locked.decided_at = now
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record_write(by, None, "casework.childmerge", locked.pk, ["status"], purpose)
        notify(
            recipient_id=locked.proposed_by_id,
            kind=NotificationKind.CHILD_MERGE_DECIDED,
            object_type="casework.childmerge",
            object_id=locked.pk,
            actor_id=by.pk,
        )
    return locked


DECISION_REFERENCE = re.compile(r"^[\w ./-]{1,50}$")


def child_crypto_shred(*, child: Child, by: User, decision_reference: str) -> None:
    """Destroy the child's data key: every sealed identity value becomes unreadable for good.

    Only after a shredding review (skartační řízení) approved destruction — never as silent deletion. The register
    row stays (with its blind index cleared) so references keep working and the audit log stays meaningful.
    """
    decision_reference = (decision_reference or "").strip()
    if not DECISION_REFERENCE.match(decision_reference):
        raise ValidationError(
            {"decision_reference": [str(_("Give the reference number of the shredding review's decision."))]}
        )
    with audit.atomic():
        destroy_owner_keys(KeyOwnerType.CHILD, child.pk)
        Child.objects.filter(pk=child.pk).update(shredded_at=timezone.now(), birth_number_index=None)
        audit.record(
            actor=by,
            action=audit.AuditAction.WRITE,
            object_type="casework.child",
            object_id=str(child.pk),
            fields=["crypto_shred"],
            purpose=f"crypto-shred per decision {decision_reference}",
            outcome=audit.AuditOutcome.ALLOWED,
        )
    child.refresh_from_db()


def statistics_fields_of(date_of_birth: str | None, birth_number: str | None) -> tuple[int | None, str]:
    """The year of birth and the sex a child's statistics count, from the sealed date of birth and birth number."""
    year = datetime.date.fromisoformat(date_of_birth).year if date_of_birth else None
    sex: str = ChildSex.UNKNOWN
    if birth_number:
        try:
            sex = parse_birth_number(birth_number).sex
        except ValidationError:
            sex = ChildSex.UNKNOWN
    return year, sex


def fill_statistics_fields(*, batch_size: int = 500) -> int:
    """Derive ``birth_year`` and ``sex`` for register entries made before they were recorded at registration.

    Each batch reads the date of birth and the birth number through the gate as a system read with the purpose
    "statistics" (``SystemRead.STATISTICS``): the audit rows of one batch are committed together before anything is
    decrypted, and only the two derived, non-identifying values are written. Idempotent: children with a year of
    birth, and shredded ones, are skipped. Returns how many entries were filled (docs/adr/0030)."""
    filled = 0
    while True:
        children = list(
            Child.objects.filter(
                birth_year__isnull=True, shredded_at__isnull=True, date_of_birth__isnull=False
            ).order_by("pk")[:batch_size]
        )
        if not children:
            return filled
        disclosures = gate.read_children_as_system(
            SystemRead.STATISTICS, children, ["date_of_birth", "birth_number"], purpose="statistics"
        )
        with audit.atomic():
            for child, disclosure in zip(children, disclosures, strict=True):
                year, sex = statistics_fields_of(disclosure.get("date_of_birth"), disclosure.get("birth_number"))
                Child.objects.filter(pk=child.pk).update(birth_year=year or 0, sex=sex)  # 0: no usable date
        filled += len(children)
