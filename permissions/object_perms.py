"""Object permissions on cases, derived from the coordinator and the team (django-guardian, direct-FK tables).

The rows are an index, never the source of truth: ``sync_case_permissions`` rewrites a case's rows from its coordinator
and its not-ended memberships, and every membership or coordinator change calls it inside the same transaction, so
the index and the team can't disagree after a commit. Access checks and list queries still require the membership
to be valid today (the rows carry no dates), see ``permissions.access``.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from casework.models import Case, TeamMembership
from permissions.models import CaseUserObjectPermission

VIEW = "view_case"
COORDINATE = "coordinate_case"


def case_permissions() -> dict[str, Permission]:
    content_type = ContentType.objects.get_for_model(Case)
    return {
        p.codename: p for p in Permission.objects.filter(content_type=content_type, codename__in=[VIEW, COORDINATE])
    }


def desired_permissions(case: Case) -> set[tuple[int, str]]:
    """(user id, codename) pairs the case should carry: coordinator (kept read-only on a closed case) and members."""
    wanted = {(case.coordinator_id, VIEW)}
    if case.is_open:
        wanted.add((case.coordinator_id, COORDINATE))
        today = timezone.localdate()
        members = (
            TeamMembership.objects.not_ended()
            .filter(case=case)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
            .values_list("user_id", flat=True)
        )
        wanted.update((user_id, VIEW) for user_id in members)
    return wanted


def sync_case_permissions(case: Case, *, created: bool = False) -> None:
    """Make the case's permission rows equal to :func:`desired_permissions`. Call inside the service's transaction.

    ``created``: the case row was inserted by this transaction a moment ago, so nothing can refer to it yet — no
    membership and no permission row: the coordinator's two rows are written without asking for either."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sync_case_permissions must run in the transaction of the change it follows")
    permissions = case_permissions()
    existing: dict[tuple[int, str], int]
    if created:
        wanted = {(case.coordinator_id, VIEW)} | ({(case.coordinator_id, COORDINATE)} if case.is_open else set())
        existing = {}
    else:
        wanted = desired_permissions(case)
        existing = {
            (user_id, codename): pk
            for pk, user_id, codename in CaseUserObjectPermission.objects.filter(content_object=case).values_list(
                "pk", "user_id", "permission__codename"
            )
        }
    stale = [pk for key, pk in existing.items() if key not in wanted]
    if stale:
        CaseUserObjectPermission.objects.filter(pk__in=stale).delete()
    missing = [key for key in wanted if key not in existing]
    if missing:
        CaseUserObjectPermission.objects.bulk_create(
            [
                CaseUserObjectPermission(content_object=case, user_id=user_id, permission=permissions[codename])
                for user_id, codename in missing
            ]
        )
