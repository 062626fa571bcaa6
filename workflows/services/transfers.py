"""Accepting a case transfer between ORPs with the locks in the documented order (docs/adr/0011-lock-order.md).

``casework.services.case_transfer_accept`` moves the case row, its team and its child; the lifecycle hooks it sends
move the old coordinator's flow tasks and cancel the ended members' tasks. Those hooks lock the case's flow, so the
flow's process row is locked here *first*, in the same ``audit.atomic()`` — then the domain rows, the audit head last.
The case's open deadlines follow the file: the receiving authority's settings and supervisors (escalation) and the
new reference.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from casework.models import Case, CaseTransfer, User
from casework.services.competence import case_transfer_accept as _accept
from permissions import audit
from permissions.access import record_denial
from permissions.policy import may_decide_transfer
from workflows.flows.case import CaseFlow
from workflows.models import Deadline
from workflows.processes import CaseProcess


def case_transfer_accept(*, transfer: CaseTransfer, new_coordinator: User | None, by: User) -> Case:
    """Accept ``transfer`` (see ``casework.services.case_transfer_accept``): field errors leave nothing written."""
    if not may_decide_transfer(by, transfer.to_municipality_id):
        # Refused before any transaction opens: the denial is audited and committed.
        record_denial(by, "casework.casetransfer", transfer.pk, "accept case transfer")
        raise PermissionDenied
    process_id = CaseProcess.objects.filter(case_id=transfer.case_id).values_list("pk", flat=True).first()
    with audit.atomic():
        if process_id is not None:
            with CaseFlow.lock(process_id):
                case = _accept(transfer=transfer, new_coordinator=new_coordinator, by=by)
        else:
            case = _accept(transfer=transfer, new_coordinator=new_coordinator, by=by)
        Deadline.objects.filter(case=case, done_at__isnull=True).update(
            municipality_id=case.municipality_id, reference=case.reference
        )
    return case
