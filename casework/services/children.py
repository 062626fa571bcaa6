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
from casework.models import Child, KeyOwnerType, LegalRepresentative, Municipality, Relation, User
from casework.sealing import Keyring, destroy_owner_keys, seal_values
from casework.selectors import birth_number_index
from casework.services.validation import clean_text
from permissions import audit
from permissions.policy import may_register_child

NAME_MAX = 100
ADDRESS_MAX = 300
CONTACT_MAX = 200
REPRESENTATIVES_MAX = 4


@dataclass(frozen=True)
class RepresentativeInput:
    relation: str
    full_name: str
    contact: str


def child_create(
    *,
    municipality: Municipality,
    given_name: str,
    family_name: str,
    date_of_birth: datetime.date,
    birth_number: str,
    address: str,
    representatives: list[RepresentativeInput],
    created_by: User,
) -> Child:
    """Register a child in ``municipality``; raises ValidationError (field-level) or PermissionDenied, saving nothing.

    The date of birth must agree with the one encoded in the birth number. One register entry per birth number
    (database constraint on the blind index).
    """
    if not may_register_child(created_by, municipality):
        audit.record_committed(
            actor=created_by,
            action=audit.AuditAction.DENY,
            object_type="casework.child",
            object_id="-",
            fields=["given_name", "family_name", "date_of_birth", "birth_number", "address"],
            purpose="register child",
            outcome=audit.AuditOutcome.DENIED,
        )
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    given_name = clean_text(errors, "given_name", given_name, NAME_MAX)
    family_name = clean_text(errors, "family_name", family_name, NAME_MAX)
    address = clean_text(errors, "address", address, ADDRESS_MAX)
    parsed = None
    try:
        parsed = parse_birth_number(birth_number)
    except ValidationError as exc:
        errors.setdefault("birth_number", []).extend(exc.messages)
    if parsed is not None and date_of_birth != parsed.date_of_birth:
        errors.setdefault("date_of_birth", []).append(
            str(_("The date of birth does not match the one in the birth number."))
        )
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
    if index_value and Child.objects.filter(birth_number_index=index_value).exists():
        errors.setdefault("birth_number", []).append(str(_("A child with this birth number is already registered.")))
    if errors:
        raise ValidationError(errors)
    assert parsed is not None

    try:
        with audit.atomic():
            child = Child(municipality=municipality, birth_number_index=index_value, created_by=created_by)
            keyring = Keyring()
            seal_values(
                child,
                {
                    "given_name": given_name,
                    "family_name": family_name,
                    "date_of_birth": date_of_birth.isoformat(),
                    "birth_number": parsed.normalized,
                    "address": address,
                },
                keyring,
            )
            child.save(force_insert=True)
            for position, rep in enumerate(representatives):
                row = LegalRepresentative(child=child, relation=rep.relation, position=position)
                seal_values(row, {"full_name": rep.full_name.strip(), "contact": rep.contact.strip()}, keyring)
                row.save(force_insert=True)
            audit.record(
                actor=created_by,
                action=audit.AuditAction.WRITE,
                object_type="casework.child",
                object_id=str(child.pk),
                fields=["given_name", "family_name", "date_of_birth", "birth_number", "address"]
                + (["representatives"] if representatives else []),
                purpose="register child",
                outcome=audit.AuditOutcome.ALLOWED,
            )
    except IntegrityError as exc:
        # Two registrations of the same birth number at the same moment: the constraint decides.
        raise ValidationError(
            {"birth_number": [str(_("A child with this birth number is already registered."))]}
        ) from exc
    return child


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
