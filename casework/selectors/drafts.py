"""A person's own draft of a form, read back through the gate (``casework.models.drafts``)."""

from __future__ import annotations

import json
import uuid

from casework.models import Case, FormDraft, User
from permissions import gate
from permissions.access import AccessedCase


def draft_for(
    *, user: User, case: AccessedCase | Case, kind: str, object_id: str | uuid.UUID | int
) -> dict[str, list[str]]:
    """The fields of ``user``'s own draft of ``kind`` for ``object_id`` ({} when there is none).

    Only the author's row is ever loaded (nobody else's draft is read, whatever their role); its text passes the gate
    like the case's other rows (audited, the policy may still withhold it).
    """
    draft = FormDraft.objects.filter(
        user=user,
        kind=kind,
        object_id=str(object_id),
        case_id=case.case.pk if isinstance(case, AccessedCase) else case.pk,
    ).first()
    if draft is None:
        return {}
    disclosure = gate.read_case(user, case, [draft], ["data"], purpose="restore draft")[0]
    text = disclosure.get("data")
    if not text:
        return {}
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {}
