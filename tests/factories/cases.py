"""Cases, teams, notes, consents and shares, made through the real services so every row, permission index entry,
sealed value and audit row is exactly what production would write.

People come from :class:`~tests.factories.people.UserFactory`; the helpers here only add the case-work vocabulary:
OSPOD staff of an ORP, partners of a sector, the team roles of migration ``casework/0004_team_roles``. Every name
and text is fictional.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from casework.compartments import Compartment
from casework.models import (
    Case,
    CaseNote,
    Child,
    Municipality,
    OpenReason,
    Organisation,
    Role,
    Sector,
    TeamMembership,
    TeamRole,
    User,
)
from casework.services import case_note_add, case_open, team_member_add, team_roles_ensure_defaults
from permissions.models import Consent, ConsentGiver, Share
from permissions.sharing import consent_record, share_grant

from .children import register_child
from .people import MunicipalityFactory, OrganisationFactory, UserFactory

# Names of the team roles the migration seeds (``TeamRole.name_cs``).
CLASS_TEACHER = "třídní učitel/ka"
EDUCATIONAL_COUNSELLOR = "výchovný poradce / výchovná poradkyně"
PAEDIATRICIAN = "praktický lékař pro děti a dorost"
CHILD_PSYCHIATRIST = "dětský psychiatr/psychiatrička"
SAS_WORKER = "sociální pracovník/pracovnice SAS"
OSPOD_SOCIAL_WORKER = "sociální pracovník/pracovnice OSPOD"
POLICE = "policie ČR"
OTHER_ROLE = "jiná role"

#: The role a member gets when a test does not say: the usual one of their sector.
USUAL_ROLE = {
    Sector.OSPOD: OSPOD_SOCIAL_WORKER,
    Sector.SCHOOL: CLASS_TEACHER,
    Sector.HEALTH: PAEDIATRICIAN,
    Sector.SERVICE: SAS_WORKER,
    Sector.OTHER: POLICE,
}

_ORGANISATION_NAMES = {
    Sector.SCHOOL: "ZŠ Lipová",
    Sector.HEALTH: "Dětská ordinace MUDr. Zkušební",
    Sector.SERVICE: "SAS Rodina v pohodě, z. ú.",
    Sector.OTHER: "Probační a mediační služba, středisko Zkušebná",
    Sector.OSPOD: "OSPOD Zkušebná",
}


def team_role(name_cs: str) -> TeamRole:
    """A role from the configurable list, by its Czech name, e.g. ``team_role(CLASS_TEACHER)``."""
    if not TeamRole.objects.filter(name_cs=name_cs).exists():
        team_roles_ensure_defaults()  # a transactional test's flush removed the migration's rows
    return TeamRole.objects.get(name_cs=name_cs)


def organisation(sector: str, municipality: Municipality | None = None, name: str | None = None) -> Organisation:
    municipality = municipality or MunicipalityFactory.create()
    base = name or _ORGANISATION_NAMES[Sector(sector)]
    count = Organisation.objects.filter(municipality=municipality, name__startswith=base).count()
    return OrganisationFactory.create(
        name=base if count == 0 else f"{base} {count + 1}", sector=sector, municipality=municipality
    )


def partner(
    sector: str, *, municipality: Municipality | None = None, org: Organisation | None = None, **fields: Any
) -> User:
    """A partner (role PARTNER) in a new organisation of ``sector`` (in ``municipality``), or in ``org`` if given."""
    assert sector != Sector.OSPOD, "partners work outside OSPOD"
    org = org or organisation(sector, municipality)
    assert org.sector == sector
    return UserFactory.create(role=Role.PARTNER, organisation=org, **fields)


def school_partner(**kwargs: Any) -> User:
    return partner(Sector.SCHOOL, **kwargs)


def health_partner(**kwargs: Any) -> User:
    return partner(Sector.HEALTH, **kwargs)


def service_partner(**kwargs: Any) -> User:
    return partner(Sector.SERVICE, **kwargs)


def other_partner(**kwargs: Any) -> User:
    """Police, a court guardian, an NGO: their notes are readable by their own organisation only (and leads)."""
    return partner(Sector.OTHER, **kwargs)


def ospod_staff(ospod: Organisation, *, role: str = Role.OSPOD_WORKER, **fields: Any) -> User:
    """An OSPOD worker (or supervisor) of the authority ``ospod`` belongs to."""
    assert ospod.sector == Sector.OSPOD
    return UserFactory.create(role=role, organisation=ospod, **fields)


def open_case(
    *,
    coordinator: User,
    child: Child | None = None,
    opened_by: User | None = None,
    reason: str = OpenReason.REPORT,
    **child_fields: Any,
) -> Case:
    """Open a case through ``case_open``; registers a fictional child of the coordinator's ORP when none is given."""
    if child is None:
        child = register_child(by=coordinator, **child_fields)
    return case_open(child=child, coordinator=coordinator, opened_by=opened_by or coordinator, reason=reason)


def add_member(
    case: Case,
    user: User,
    by: User,
    *,
    role_name: str | None = None,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
) -> TeamMembership:
    """Put ``user`` on the team through ``team_member_add``, in the usual role of their sector unless told."""
    name = role_name or USUAL_ROLE[Sector(user.sector or Sector.OTHER)]
    return team_member_add(
        case=case,
        user=user,
        team_role=team_role(name),
        valid_from=valid_from,
        valid_until=valid_until,
        added_by=by,
    )


def write_note(case: Case, author: User, compartment: str, text: str) -> CaseNote:
    return case_note_add(case=case, author=author, compartment=compartment, text=text)


def record_consent(
    case: Case,
    by: User,
    *,
    compartment: str = Compartment.HEALTH,
    given_by: str = ConsentGiver.MOTHER,
    given_by_name: str = "Jana Nováková",
    given_on: datetime.date | None = None,
) -> Consent:
    return consent_record(
        case=case,
        recorded_by=by,
        compartment=compartment,
        given_by=given_by,
        given_by_name=given_by_name,
        on_behalf_of_child=given_by != ConsentGiver.CHILD,
        given_on=given_on or timezone.localdate(),
    )


def share(
    case: Case,
    by: User,
    *,
    with_user: User | None = None,
    with_organisation: Organisation | None = None,
    compartment: str = "",
    note: CaseNote | None = None,
    consent: Consent | None = None,
    days: int = 30,
    purpose: str = "příprava případové konference",
) -> Share:
    """Share a compartment or one note for ``days`` more days (the last day included) through ``share_grant``."""
    return share_grant(
        case=case,
        granted_by=by,
        recipient_user=with_user,
        recipient_organisation=with_organisation,
        compartment=compartment,
        note=note,
        purpose=purpose,
        valid_until=timezone.localdate() + datetime.timedelta(days=days),
        consent=consent,
    )
