"""factory_boy factories for the test suite, one module per part of the domain."""

from .people import TEST_PASSWORD, MunicipalityFactory, OrganisationFactory, UserFactory

__all__ = ["TEST_PASSWORD", "MunicipalityFactory", "OrganisationFactory", "UserFactory"]
