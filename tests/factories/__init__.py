"""factory_boy factories for the test suite, one module per part of the domain."""

from .cases import (
    add_member,
    health_partner,
    open_case,
    ospod_staff,
    other_partner,
    partner,
    record_consent,
    school_partner,
    service_partner,
    share,
    team_role,
    write_note,
)
from .people import TEST_PASSWORD, MunicipalityFactory, OrganisationFactory, UserFactory

__all__ = [
    "TEST_PASSWORD",
    "MunicipalityFactory",
    "OrganisationFactory",
    "UserFactory",
    "add_member",
    "health_partner",
    "open_case",
    "ospod_staff",
    "other_partner",
    "partner",
    "record_consent",
    "school_partner",
    "service_partner",
    "share",
    "team_role",
    "write_note",
]
