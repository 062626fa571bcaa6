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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.exceptions import PermissionDenied

from casework.crypto.errors import CryptoError
from casework.models import Case, Child, Report, User
from casework.sealing import Keyring, SealedModel, open_values
from permissions import audit
from permissions.access import (
    AccessedCase,
    AccessedReport,
    load_case_access,
    load_case_accesses,
    load_report_access,
)
from permissions.models import BREAK_GLASS_PURPOSE_PREFIX, AuditEvent
from permissions.policy import (
    AUTHORITY_EXPORT_COMPARTMENTS,
    CaseAccess,
    Item,
    ReferralFacts,
    ReportAccess,
    Subject,
    SystemRead,
    may_export_authority,
    may_read_referral_letter,
    readable_compartments,
    relationship_to_child,
    system_readable_compartments,
)

logger = logging.getLogger(__name__)

_MAX_PURPOSE = AuditEvent._meta.get_field("purpose").max_length or 200


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


Decide = Callable[[SealedModel, str], bool]
_Decision = TypeVar("_Decision", CaseAccess, ReportAccess)


@dataclass(frozen=True)
class _Batch:
    """Rows of one model disclosed under one access decision; audited as one read row and one denial row."""

    anchor: SealedModel | Case
    rows: Sequence[SealedModel]
    fields: Sequence[str]
    decide: Decide
    #: The audited object when it is not the anchor (a child read through its case).
    object_id: object = None
    #: Read under a live break-glass grant: every audit row of the batch is marked (``break_glass_purpose``).
    break_glass: bool = False


def break_glass_purpose(purpose: str) -> str:
    """The purpose as the audit row of a read under break-glass records it: marked with
    :data:`~permissions.models.BREAK_GLASS_PURPOSE_PREFIX`, which the oversight pages, their exports and the anomaly
    rule read (``permissions.oversight.is_break_glass``). The mark is in the row's HMAC like the rest of it."""
    return f"{BREAK_GLASS_PURPOSE_PREFIX}: {purpose}"[:_MAX_PURPOSE]


def _register_decision(user: User | None, anchor: SealedModel) -> Decide:
    """The child register: OSPOD staff of the child's ORP (anchor: the child)."""
    if not isinstance(anchor, Child):
        raise TypeError(f"no access rule for {anchor._meta.label}")
    subject = Subject.from_user(user)
    visible = readable_compartments(subject, relationship_to_child(subject, anchor))
    return lambda row, name: row.row_compartment(name) in visible


def _report_decision(access: ReportAccess) -> Decide:
    """A report (oznámení): its handlers read the notifier compartment; nobody else reads anything of it."""
    return lambda row, name: access.may_read_compartment(row.row_compartment(name))


def _row_decision(user: User | None, anchor: SealedModel | AccessedReport) -> tuple[SealedModel, Decide]:
    """The rule for rows read on their own: a report by the decision ``access_report_by_id`` returned (a bare report
    is decided afresh), a child (and its rows) by the register's."""
    if isinstance(anchor, AccessedReport):
        return anchor.report, _report_decision(_own(user, anchor.access))
    if isinstance(anchor, Report):
        return anchor, _report_decision(load_report_access(user, anchor))
    return anchor, _register_decision(user, anchor)


def _own(user: User | None, access: _Decision) -> _Decision:
    """A decision is only ever used for the user it was made for (a view passing another's would be a leak)."""
    if access.subject.user_id != (user.pk if user is not None else None):
        raise ValueError("an access decision was made for another user")
    return access


def _case_decision(access: CaseAccess) -> Decide:

    def decide(row: SealedModel, name: str) -> bool:
        item = Item(
            object_type=row._meta.label_lower,
            object_id=str(row.pk),
            compartment=row.row_compartment(name),
            author_organisation_id=getattr(row, "author_organisation_id", None),
            assignee_user_id=getattr(row, "assignee_user_id", None),
            assignee_organisation_id=getattr(row, "assignee_organisation_id", None),
        )
        return access.may_read(item)

    return decide


def read(user: User | None, obj: SealedModel | AccessedReport, fields: Sequence[str], *, purpose: str) -> Disclosure:
    """Disclose ``fields`` of a register row (a child) or of a report to ``user`` as far as the policy allows; audited.

    A report is decided by ``ReportAccess``: pass what ``access_report_by_id`` returned (a bare report is decided
    afresh). Its read is audited with the case it led to, if any, so it shows in "who accessed this case".
    """
    anchor, decide = _row_decision(user, obj)
    return _disclose(user, [_Batch(anchor=anchor, rows=[anchor], fields=fields, decide=decide)], purpose=purpose)[0][0]


def read_rows(
    user: User | None,
    anchor: SealedModel,
    rows: Sequence[SealedModel],
    fields: Sequence[str],
    *,
    purpose: str,
) -> list[Disclosure]:
    """Disclose the same ``fields`` of several rows, access decided by ``anchor`` (a child, or a report); audited once.

    Used for a child's legal representatives. With no rows nothing is read and nothing audited.
    """
    anchor, decide = _row_decision(user, anchor)
    batch = _Batch(anchor=anchor, rows=rows, fields=fields, decide=decide)
    return _disclose(user, [batch], purpose=purpose)[0]


def read_register(
    user: User | None, children: Sequence[Child], fields: Sequence[str], *, purpose: str
) -> list[Disclosure]:
    """``fields`` of each of ``children`` (a register list), each decided by the register's rule for that child, as
    :func:`read` would: one read (or denial) row per child, all written in one go — a fixed number of queries."""
    batches = [_Batch(child, [child], fields, _register_decision(user, child)) for child in children]
    return [found[0] for found in _disclose(user, batches, purpose=purpose)]


def _case_and_access(user: User | None, case: AccessedCase | Case) -> tuple[Case, CaseAccess]:
    if isinstance(case, AccessedCase):
        return case.case, _own(user, case.access)
    return case, load_case_access(user, case)


def read_case(
    user: User | None,
    case: AccessedCase | Case,
    rows: Sequence[SealedModel],
    fields: Sequence[str],
    *,
    purpose: str,
) -> list[Disclosure]:
    """Disclose ``fields`` of rows belonging to ``case`` (its child, its notes, its consents), row by row.

    Pages pass what ``access_case_by_id`` returned: the decision it made, used as it is. A bare ``Case`` (a service's
    system read, a test) is decided afresh for ``user``. Each row's compartment, author and any share of it decide
    per field; withheld fields are named in the disclosure and in one denial audit row.
    """
    anchor, access = _case_and_access(user, case)
    batch = _Batch(anchor, rows, fields, _case_decision(access), break_glass=access.is_break_glass)
    return _disclose(user, [batch], purpose=purpose)[0]


def read_reports(
    user: User | None, reports: Sequence[Report], fields: Sequence[str], *, purpose: str
) -> list[Disclosure]:
    """Disclose ``fields`` of several reports (the case file's reports), each decided by its own ``ReportAccess``:
    one audit row per report, written in one go, so the case file costs the same whatever the number of reports.
    Load each report's case with it (``load_report_access`` then needs no query)."""
    batches = [
        _Batch(anchor=report, rows=[report], fields=fields, decide=_report_decision(load_report_access(user, report)))
        for report in reports
    ]
    return [found[0] for found in _disclose(user, batches, purpose=purpose)]


def read_case_children(
    user: User | None, cases: Sequence[AccessedCase] | Sequence[Case], fields: Sequence[str], *, purpose: str
) -> list[Disclosure]:
    """The child's ``fields`` for each of ``cases`` (a case list): one audit row per case, written in one go.

    Pass the list ``permissions.access.accessed_cases`` returned; bare cases are decided here, all at once, so a
    partner's list costs the same number of queries as a coordinator's, whatever its length (DESIGN invariant 8).
    """
    bare = [case for case in cases if not isinstance(case, AccessedCase)]
    loaded = iter(load_case_accesses(user, bare))
    decided = [
        (case.case, _own(user, case.access)) if isinstance(case, AccessedCase) else (case, next(loaded))
        for case in cases
    ]
    batches = [
        _Batch(
            case,
            [case.child],
            fields,
            _case_decision(access),
            object_id=case.child_id,
            break_glass=access.is_break_glass,
        )
        for case, access in decided
    ]
    return [found[0] for found in _disclose(user, batches, purpose=purpose)]


def read_referral(
    user: User | None,
    referral: SealedModel,
    *,
    case: Case,
    subject: Subject,
    facts: ReferralFacts,
    case_access: CaseAccess | None,
    fields: Sequence[str],
    purpose: str,
) -> Disclosure:
    """Disclose ``fields`` of a referral of ``case`` (its letter, a decline's explanation) as the policy's
    ``may_read_referral_letter`` decides: to the case's lead, or to the provider's intake worker while the referral is
    theirs to see — who reads it without any standing on the case. Pass what ``permissions.referrals.
    access_referral_by_id`` decided. Audited with the case's id, like every read of the case's content."""
    if subject.user_id != (user.pk if user is not None else None):
        raise ValueError("an access decision was made for another user")
    allowed = may_read_referral_letter(subject, facts, case_access)
    batch = _Batch(
        anchor=case,
        rows=[referral],
        fields=fields,
        decide=lambda row, name: allowed,
        object_id=referral.pk,
        break_glass=case_access is not None and case_access.is_break_glass,
    )
    return _disclose(user, [batch], purpose=purpose)[0][0]


def read_as_system(
    reason: SystemRead,
    batches: Sequence[tuple[Case, Sequence[SealedModel], Sequence[str]]],
    *,
    purpose: str,
) -> list[list[Disclosure]]:
    """A system action's read, with no user (the retention period, the archive export): what the policy's
    ``SYSTEM_READS`` lets that reason read, audited with the system as the actor and committed before anything is
    decrypted, like every other read. Each batch is (the case, rows of one model, field names); a child read for its
    case is audited as that child, beside the case."""
    allowed = system_readable_compartments(reason)

    def decide(row: SealedModel, name: str) -> bool:
        return row.row_compartment(name) in allowed

    return _disclose(
        None,
        [
            _Batch(case, rows, fields, decide, object_id=rows[0].pk if rows and isinstance(rows[0], Child) else None)
            for case, rows, fields in batches
        ],
        purpose=purpose,
    )


def read_for_export(
    user: User,
    municipality_id: int,
    batches: Sequence[tuple[Case | Child | Report, Sequence[SealedModel], Sequence[str]]],
    *,
    purpose: str,
) -> list[list[Disclosure]]:
    """A full export of one authority's data (moving to another system): every batch is (its anchor — a case, a
    register entry or a report of that authority —, rows of one model owned by it, field names). Only a supervisor of
    the authority (``may_export_authority``); a refusal is audited and raises ``PermissionDenied``. All read rows are
    written in one go, committed before anything is decrypted, with ``user`` as the actor."""
    if not may_export_authority(Subject.from_user(user), municipality_id) or any(
        anchor.municipality_id != municipality_id for anchor, _rows, _fields in batches
    ):
        audit.record_committed(
            actor=user,
            action=audit.AuditAction.DENY,
            object_type="casework.municipality",
            object_id=str(municipality_id),
            fields=["export"],
            purpose=purpose,
            outcome=audit.AuditOutcome.DENIED,
        )
        raise PermissionDenied

    def decide(row: SealedModel, name: str) -> bool:
        return row.row_compartment(name) in AUTHORITY_EXPORT_COMPARTMENTS

    return _disclose(user, [_Batch(anchor, rows, fields, decide) for anchor, rows, fields in batches], purpose=purpose)


def read_children_as_system(
    reason: SystemRead, children: Sequence[Child], fields: Sequence[str], *, purpose: str
) -> list[Disclosure]:
    """A system read of register entries themselves (no case needed): one batch per child, all audited in one
    committed statement set before anything is decrypted (the statistics' one-off derivation, ADR 0030)."""
    allowed = system_readable_compartments(reason)

    def decide(row: SealedModel, name: str) -> bool:
        return row.row_compartment(name) in allowed

    found = _disclose(None, [_Batch(child, [child], fields, decide) for child in children], purpose=purpose)
    return [rows[0] for rows in found]


def _disclose(user: User | None, batches: Sequence[_Batch], *, purpose: str) -> list[list[Disclosure]]:
    """Decide, audit (committed, before any decryption), then open: a fixed number of queries for any batch size.

    Each batch gives at most one denial row and one read row, naming the field names. Their object is the batch's
    ``object_id`` (a child read from a case list is audited as that child, with the case's id beside it), otherwise
    the anchor (the case for its notes, the child for its representatives).
    """
    plans: list[list[tuple[SealedModel, list[str]]]] = []
    entries: list[audit.Entry] = []
    for batch in batches:
        if not batch.rows:
            plans.append([])
            continue
        model = type(batch.rows[0])
        if any(type(row) is not model for row in batch.rows):
            raise TypeError("a batch takes rows of one model")
        for name in batch.fields:
            model.compartment_of(name)  # an unknown field is a bug, not a denial
        allowed_by_row = [[name for name in batch.fields if batch.decide(row, name)] for row in batch.rows]
        allowed = {name for names in allowed_by_row for name in names}
        withheld = {name for names in allowed_by_row for name in batch.fields if name not in names}
        object_type = model._meta.label_lower
        case_id = batch.anchor.pk if isinstance(batch.anchor, Case) else _case_id_of(batch.anchor)
        for action, outcome, audited in (
            (audit.AuditAction.DENY, audit.AuditOutcome.DENIED, withheld),
            (audit.AuditAction.READ, audit.AuditOutcome.ALLOWED, allowed),
        ):
            if audited:
                entries.append(
                    audit.Entry(
                        action=action,
                        object_type=object_type,
                        object_id=batch.object_id or batch.anchor.pk,
                        fields=audited,
                        purpose=break_glass_purpose(purpose) if batch.break_glass else purpose,
                        outcome=outcome,
                        case_id=case_id,
                    )
                )
        plans.append(list(zip(batch.rows, allowed_by_row, strict=True)))
    audit.record_many_committed(actor=user, entries=entries)

    keyring = Keyring()
    keyring.preload_envelopes(getattr(row, name) for plan in plans for row, names in plan for name in names)
    results = []
    for batch, plan in zip(batches, plans, strict=True):
        disclosures = []
        for row, names in plan:
            try:
                values = open_values(row, names, keyring) if names else {}
            except CryptoError as exc:
                logger.error(
                    "sealed value could not be opened: %s %s (%s)", row._meta.label_lower, row.pk, type(exc).__name__
                )
                raise
            withheld_here = tuple(name for name in batch.fields if name not in names)
            disclosures.append(Disclosure(row._meta.label_lower, str(row.pk), values, withheld_here))
        results.append(disclosures)
    return results


def _case_id_of(anchor: SealedModel) -> str | None:
    case_id = getattr(anchor, "case_id", None)
    return str(case_id) if case_id else None
