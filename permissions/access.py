"""Fetching protected objects for a user: one way per kind, the same 404 for "does not exist" and "not yours".

A refused attempt on an existing object is audited (committed before the 404 is raised), so oversight can see who
probed what; a lookup of a missing id is not, since there is nothing to protect and nothing to name.
"""

from __future__ import annotations

import uuid

from django.http import Http404

from casework.models import Child, User
from casework.selectors import child_get
from permissions import audit
from permissions.policy import Relationship, Subject, relationship_to_child


def access_child_by_id(user: User, child_id: uuid.UUID | str, *, purpose: str) -> Child:
    child = child_get(child_id=child_id)
    if child is None or child.shredded_at is not None:
        raise Http404
    if relationship_to_child(Subject.from_user(user), child) is Relationship.NONE:
        audit.record_committed(
            actor=user,
            action=audit.AuditAction.DENY,
            object_type="casework.child",
            object_id=str(child.pk),
            fields=[],
            purpose=purpose,
            outcome=audit.AuditOutcome.DENIED,
        )
        raise Http404
    return child
