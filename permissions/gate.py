"""The gate: the one way protected content is decrypted for a user (DESIGN.md, "Data flow of one protected read").

    view -> selector loads the row (envelopes only) -> gate.read(user, row, fields, purpose)
         -> policy decides per field -> audit row committed (fail closed) -> allowed fields decrypted
         -> a plain ``Disclosure`` with only the allowed values, and the withheld field names.

Denied fields are absent from ``values`` and named in ``withheld``; they are never blanked silently. The audit row is
committed before anything is decrypted: if it can't be written, ``AuditUnavailable`` propagates and no plaintext
exists. Because the row must be committed, the gate runs outside write transactions (views are not atomic); the
audit module refuses an outer transaction. Decryption failures raise ``CryptoError`` after logging ids only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from casework.crypto.errors import CryptoError
from casework.models import Child, User
from casework.sealing import Keyring, SealedModel, open_values
from permissions import audit
from permissions.policy import Relationship, Subject, readable_compartments, relationship_to_child

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Disclosure:
    """What one row disclosed to one user: plaintext of the allowed fields, names of the withheld ones."""

    object_type: str
    object_id: str
    values: Mapping[str, str | None]
    withheld: tuple[str, ...] = field(default=())

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def shows(self, name: str) -> bool:
        return name in self.values


def relationship_for(subject: Subject, anchor: SealedModel) -> Relationship:
    """How ``subject`` stands to the object that decides access (the child for register rows)."""
    if isinstance(anchor, Child):
        return relationship_to_child(subject, anchor)
    raise TypeError(f"no access rule for {anchor._meta.label}")


def read(user: User | None, obj: SealedModel, fields: Sequence[str], *, purpose: str) -> Disclosure:
    """Disclose ``fields`` of ``obj`` to ``user`` as far as the policy allows; audited."""
    return read_rows(user, obj, [obj], fields, purpose=purpose)[0]


def read_rows(
    user: User | None,
    anchor: SealedModel,
    rows: Sequence[SealedModel],
    fields: Sequence[str],
    *,
    purpose: str,
) -> list[Disclosure]:
    """Disclose the same ``fields`` of several rows of one model, access decided by ``anchor``; one audit entry.

    Used for a child's legal representatives (anchor: the child). With no rows nothing is read and nothing audited.
    """
    if not rows:
        return []
    model = type(rows[0])
    if any(type(row) is not model for row in rows):
        raise TypeError("read_rows takes rows of one model")
    subject = Subject.from_user(user)
    visible = readable_compartments(subject, relationship_for(subject, anchor))
    allowed = [name for name in fields if model.compartment_of(name) in visible]
    withheld = tuple(name for name in fields if name not in allowed)
    object_type = model._meta.label_lower
    object_id = str(anchor.pk)
    case_id = _case_id_of(anchor)

    def audited(action: audit.AuditAction, outcome: audit.AuditOutcome, names: Sequence[str]) -> None:
        audit.record_committed(
            actor=user,
            action=action,
            object_type=object_type,
            object_id=object_id,
            fields=list(names),
            purpose=purpose,
            outcome=outcome,
            case_id=case_id,
        )

    if withheld:
        audited(audit.AuditAction.DENY, audit.AuditOutcome.DENIED, withheld)
    if not allowed:
        return [Disclosure(object_type, str(row.pk), {}, withheld) for row in rows]
    audited(audit.AuditAction.READ, audit.AuditOutcome.ALLOWED, allowed)
    keyring = Keyring()
    disclosures = []
    for row in rows:
        try:
            values = open_values(row, allowed, keyring)
        except CryptoError as exc:
            logger.error("sealed value could not be opened: %s %s (%s)", object_type, row.pk, type(exc).__name__)
            raise
        disclosures.append(Disclosure(object_type, str(row.pk), values, withheld))
    return disclosures


def _case_id_of(anchor: SealedModel) -> str | None:
    case_id = getattr(anchor, "case_id", None)
    return str(case_id) if case_id else None
