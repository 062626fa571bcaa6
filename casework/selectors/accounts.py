"""Second-factor state of an account: what the login and the account page need to know (django-otp devices).

Imported from its own module, not the package: it uses ``permissions.policy``, which imports the package.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework import paging
from casework.models import (
    AccountChangeRequest,
    AccountChangeStatus,
    Municipality,
    Role,
    Sector,
    SupervisorCover,
    User,
)
from permissions.policy import (
    Subject,
    is_account_administrator,
    is_data_protection_officer,
    may_decide_account_change,
)
from permissions.policy import second_factor_required as _policy_required


def second_factor_required(user: User) -> bool:
    """The policy's answer for this user with this installation's roles and their authority's switch."""
    partners_required = False
    if user.role == Role.PARTNER and user.organisation_id is not None:
        partners_required = Municipality.objects.filter(
            organisations__id=user.organisation_id, partners_require_second_factor=True
        ).exists()
    return _policy_required(user, required_roles=settings.OTP_REQUIRED_ROLES, partners_required=partners_required)


def authenticator_of(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app (one per person), or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def second_factor_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_needed(user: User) -> bool:
    """Whether the login must ask for a code (or send to enrolment): required by policy, or enrolled by choice."""
    return second_factor_enrolled(user) or second_factor_required(user)


@dataclass(frozen=True)
class SecondFactorState:
    required: bool
    enrolled: bool
    recovery_codes_left: int


def second_factor_state(user: User) -> SecondFactorState:
    """What the account page shows: never the secret, never the codes themselves."""
    return SecondFactorState(
        required=second_factor_required(user),
        enrolled=second_factor_enrolled(user),
        recovery_codes_left=StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
    )


def recovery_device_of(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def supervisor_ids(municipality_id: int) -> list[int]:
    """The acting supervisors of an authority: they triage its reports, approve its plans and closures and hear its
    escalations. Its own active supervisors, and the deputies standing in for those away now (supervisor cover) —
    the absent supervisor stays on the list: their notifications wait for them as the record of what happened. One
    query. Every routing of supervisors' work goes through here (or :func:`acting_supervisor_ids` for several)."""
    return acting_supervisor_ids([municipality_id]).get(municipality_id, [])


def acting_supervisor_ids(municipality_ids: Iterable[int], at: datetime.datetime | None = None) -> dict[int, list[int]]:
    """:func:`supervisor_ids` for several authorities at once (``at``: now): authority → user ids, ascending. A
    deputy counts while the cover is in force and they are still an active supervisor. One query (a UNION)."""
    wanted = set(municipality_ids)
    if not wanted:
        return {}
    own = (
        User.objects.filter(
            is_active=True,
            role=Role.SUPERVISOR,
            organisation__sector=Sector.OSPOD,
            organisation__municipality_id__in=wanted,
        )
        .order_by()
        .values_list("organisation__municipality_id", "id")
    )
    deputies = (
        SupervisorCover.objects.in_force(at)
        .filter(
            municipality_id__in=wanted,
            deputy__is_active=True,
            deputy__role=Role.SUPERVISOR,
            deputy__organisation__sector=Sector.OSPOD,
        )
        .order_by()
        .values_list("municipality_id", "deputy_id")
    )
    found: dict[int, set[int]] = defaultdict(set)
    for municipality_id, user_id in own.union(deputies):
        found[municipality_id].add(user_id)
    return {municipality_id: sorted(ids) for municipality_id, ids in found.items()}


def account_watchers(municipality_ids: Iterable[int | None]) -> list[int]:
    """Who hears of an account change: the active supervisors of the authorities it touches and every active DPO.

    One query whatever the number of authorities."""
    wanted = [m for m in municipality_ids if m is not None]
    supervisors = Q(role=Role.SUPERVISOR, organisation__sector=Sector.OSPOD, organisation__municipality_id__in=wanted)
    return list(
        User.objects.filter(Q(role=Role.DPO) | supervisors, is_active=True).order_by("pk").values_list("pk", flat=True)
    )


def administrator_ids() -> list[int]:
    """The active administrators (role and staff status): they confirm DPO and administrator accounts."""
    return list(
        User.objects.filter(is_active=True, is_staff=True, role=Role.ADMINISTRATOR)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class AccountChangeRow:
    """One account change awaiting confirmation, as the confirmation list shows it: who asked for what, for whom.

    Account data only (names, roles, organisations, addresses of staff), never case content."""

    id: int
    account_id: int
    username: str
    full_name: str
    new_account: bool
    current_role: str
    current_organisation: str
    current_email: str
    current_active: bool
    role: str
    organisation: str
    email: str
    activate: bool
    changed_fields: tuple[str, ...]
    confirmer: str
    requested_by: str
    requested_at: datetime.datetime
    may_decide: bool


@dataclass(frozen=True)
class AccountChangePage:
    rows: tuple[AccountChangeRow, ...]
    next_before: int | None


def account_changes_pending(*, user: User, before: int | None = None) -> AccountChangePage:
    """The open account changes ``user`` may see, newest first, 50 a page by key (``before`` = the last id seen).

    Supervisors see their own authority's; administrators and the DPO every one. Two queries whatever the size:
    the viewer's organisation, and the rows with their accounts, organisations and requesters."""
    subject = Subject.from_user(user)
    queryset = AccountChangeRequest.objects.filter(status=AccountChangeStatus.PENDING)
    if not (is_data_protection_officer(subject) or is_account_administrator(user)):
        if not subject.is_supervisor or subject.municipality_id is None:
            return AccountChangePage(rows=(), next_before=None)
        queryset = queryset.filter(municipality_id=subject.municipality_id)
    found, more = paging.newest_first(
        queryset.select_related("user__organisation", "organisation", "requested_by"), "id", before
    )
    rows = tuple(
        AccountChangeRow(
            id=change.pk,
            account_id=change.user_id,
            username=change.user.username,
            full_name=change.user.get_full_name(),
            new_account=change.new_account,
            current_role=str(Role(change.user.role).label),
            current_organisation=str(change.user.organisation or ""),
            current_email=change.user.email,
            current_active=change.user.is_active,
            role=str(Role(change.role).label),
            organisation=str(change.organisation or ""),
            email=change.email,
            activate=change.activate,
            changed_fields=tuple(change.changed_fields),
            confirmer=change.confirmer,
            requested_by=change.requested_by.username,
            requested_at=change.requested_at,
            may_decide=may_decide_account_change(
                user,
                confirmer=change.confirmer,
                municipality_id=change.municipality_id,
                requested_by_id=change.requested_by_id,
                account_id=change.user_id,
            ),
        )
        for change in found
    )
    return AccountChangePage(rows=rows, next_before=rows[-1].id if more else None)
