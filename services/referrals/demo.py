"""The demo's referrals: in the first demo case one referral accepted (family therapy at Kotva, whose worker joined
the team) and one waiting (SAS Modrý most, no free place, on its waiting list). Fictional people only.

Runs outside ``seed_all``'s transaction (like the break-glass part): sending a referral reads the letter's parts
through the gate, whose audit rows commit before any plaintext exists. Idempotent: a case with referrals is left as
it is.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from casework.models import Case, Organisation, Role, TeamRole, User
from services.models import Service
from services.referrals.models import Referral, ReferralFor
from services.referrals.services import AgreementInput, referral_accept, referral_send, referral_waitlist


@dataclass(frozen=True)
class DemoIntakeWorker:
    username: str
    first_name: str
    last_name: str
    organisation: str
    job_title: str


#: The intake workers of two demo providers (the SAS Jabloňka's worker, ``sas``, is one of the demo's people).
DEMO_INTAKE_WORKERS: tuple[DemoIntakeWorker, ...] = (
    DemoIntakeWorker("kotva", "Jana", "Dvořáková", "Krizové centrum Kotva Olomouc, z. ú.", "sociální pracovnice"),
    DemoIntakeWorker("modrymost", "Alena", "Veselá", "Rodinné centrum Modrý most, z. s.", "vedoucí SAS"),
)


def seed_intake_workers(*, password: str) -> dict[str, User]:
    made: dict[str, User] = {}
    for spec in DEMO_INTAKE_WORKERS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@demo.example.org",
                role=Role.PARTNER,
                organisation=Organisation.objects.get(name=spec.organisation),
                job_title=spec.job_title,
            )
            user.set_password(password)
            user.full_clean()
            user.save()
        made[spec.username] = user
    return made


def seed_referrals(*, case: Case, coordinator: User, password: str) -> list[Referral]:
    """The demo case's two referrals (see the module's docstring)."""
    workers = seed_intake_workers(password=password)
    if Referral.objects.filter(case=case).exists():
        return list(Referral.objects.filter(case=case))
    therapy = Service.objects.get(name="Rodinná terapie Kotva")
    sas = Service.objects.get(name="SAS Modrý most")
    agreement = AgreementInput(
        given_by="mother", given_by_name="Veronika Pokorná", given_on=timezone.localdate(), on_behalf_of_child=True
    )
    accepted = referral_send(
        case=case,
        sent_by=coordinator,
        service=therapy,
        referred=ReferralFor.FAMILY,
        reason="Matka a dcera potřebují podporu při zvládání napětí doma; doporučena rodinná terapie.",
        include_child=True,
        note_ids=[],
        agreement=agreement,
    )
    accepted = referral_accept(
        referral=accepted,
        by=workers["kotva"],
        member=workers["kotva"],
        team_role=TeamRole.objects.get(name_cs="pracovník/pracovnice pověřené osoby"),
    )
    waiting = referral_send(
        case=case,
        sent_by=coordinator,
        service=sas,
        referred=ReferralFor.FAMILY,
        reason="Rodina potřebuje pravidelnou podporu v hospodaření a v péči o domácnost.",
        include_child=True,
        note_ids=[],
        agreement=agreement,
    )
    waiting = referral_waitlist(
        referral=waiting,
        by=workers["modrymost"],
        expected_on=timezone.localdate() + datetime.timedelta(days=sas.waiting_days or 30),
    )
    return [accepted, waiting]
