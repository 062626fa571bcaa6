"""Referrals as the access layer sees them: fetch one for a user, decide how they stand to it, disclose its sealed
fields through the gate (docs/adr/0029-referrals.md).

A module of its own because it reads the service network's models, which the domain (``casework``) must never reach
through ``permissions.access`` or ``permissions.gate`` (the import contracts in pyproject.toml).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.http import Http404

from casework.models import User
from permissions import gate
from permissions.access import load_case_access, record_denial
from permissions.policy import (
    CaseAccess,
    ReferralFacts,
    Subject,
    may_see_case_referrals,
    may_see_referral_as_provider,
)
from services.referrals.models import Referral


class AccessedReferral(NamedTuple):
    """A referral fetched for a user and how they stand to it: as the case's lead (``case_access`` is the lead's
    decision) or as the provider's intake worker (``case_access`` is None: they do not see the case through it)."""

    referral: Referral
    facts: ReferralFacts
    subject: Subject
    case_access: CaseAccess | None

    @property
    def as_provider(self) -> bool:
        return self.case_access is None


def referral_facts(referral: Referral) -> ReferralFacts:
    consent = referral.consent
    return ReferralFacts(
        referral_id=referral.pk,
        status=referral.status,
        provider_organisation_id=referral.provider_organisation_id,
        agreement_stands=not consent.is_withdrawn,
    )


def access_referral_by_id(user: User, referral_id: uuid.UUID | str, *, purpose: str) -> AccessedReferral:
    """The referral, if ``user`` leads its case or is the provider's intake worker who may see it now; otherwise the
    same 404 as for a referral that does not exist (audited on an existing one)."""
    try:
        referral_uuid = uuid.UUID(str(referral_id))
    except ValueError:
        raise Http404 from None
    referral = (
        Referral.objects.select_related("case", "consent", "service", "provider_organisation")
        .filter(pk=referral_uuid)
        .first()
    )
    if referral is None:
        raise Http404
    facts = referral_facts(referral)
    subject = Subject.from_user(user)
    if may_see_referral_as_provider(subject, facts):
        return AccessedReferral(referral, facts, subject, None)
    access = load_case_access(user, referral.case)
    if access.visible and may_see_case_referrals(access):
        return AccessedReferral(referral, facts, subject, access)
    record_denial(user, "services.referral", referral.pk, purpose, case_id=referral.case_id)
    raise Http404


def refuse_referral(user: User, referral: Referral, purpose: str) -> PermissionDenied:
    """Audit a refused action on a referral the user may see (the lead trying to accept) and return the exception."""
    record_denial(user, "services.referral", referral.pk, purpose, case_id=referral.case_id)
    return PermissionDenied()


def read_referral(
    user: User | None, accessed: AccessedReferral, fields: Sequence[str], *, purpose: str
) -> gate.Disclosure:
    """The referral's sealed ``fields`` as ``access_referral_by_id`` decided, read through the gate (audited)."""
    return gate.read_referral(
        user,
        accessed.referral,
        case=accessed.referral.case,
        subject=accessed.subject,
        facts=accessed.facts,
        case_access=accessed.case_access,
        fields=fields,
        purpose=purpose,
    )
