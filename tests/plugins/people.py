"""The cast of the tests: an ORP with OSPOD staff and partners, and a second ORP whose staff must see none of it."""

from __future__ import annotations

import pytest

from casework.models import Municipality, Organisation, Role, Sector, User
from tests.factories import MunicipalityFactory, OrganisationFactory, UserFactory


@pytest.fixture
def olomouc(db: None) -> Municipality:
    return MunicipalityFactory.create(code="OM", name="Olomouc")


@pytest.fixture
def prostejov(db: None) -> Municipality:
    return MunicipalityFactory.create(code="PV", name="Prostějov")


@pytest.fixture
def ospod(olomouc: Municipality) -> Organisation:
    return OrganisationFactory.create(name="OSPOD Olomouc", sector=Sector.OSPOD, municipality=olomouc)


@pytest.fixture
def school(olomouc: Municipality) -> Organisation:
    return OrganisationFactory.create(name="ZŠ Testovací", sector=Sector.SCHOOL, municipality=olomouc)


@pytest.fixture
def coordinator(ospod: Organisation) -> User:
    return UserFactory.create(username="koord", role=Role.OSPOD_WORKER, organisation=ospod)


@pytest.fixture
def supervisor(ospod: Organisation) -> User:
    return UserFactory.create(username="vedouci", role=Role.SUPERVISOR, organisation=ospod)


@pytest.fixture
def teacher(school: Organisation) -> User:
    return UserFactory.create(username="ucitelka", role=Role.PARTNER, organisation=school)


@pytest.fixture
def dpo(ospod: Organisation) -> User:
    return UserFactory.create(username="dpo", role=Role.DPO, organisation=ospod)


@pytest.fixture
def administrator(ospod: Organisation) -> User:
    return UserFactory.create(username="admin1", role=Role.ADMINISTRATOR, organisation=ospod)


@pytest.fixture
def second_supervisor(ospod: Organisation) -> User:
    """Another head of the same OSPOD department: the second pair of eyes."""
    return UserFactory.create(username="vedouci2", role=Role.SUPERVISOR, organisation=ospod)


@pytest.fixture
def foreign_supervisor(prostejov: Municipality) -> User:
    """The head of a neighbouring ORP's OSPOD department."""
    org = OrganisationFactory.create(name="OSPOD Prostějov", sector=Sector.OSPOD, municipality=prostejov)
    return UserFactory.create(username="vedouci_pv", role=Role.SUPERVISOR, organisation=org)


@pytest.fixture
def foreign_worker(prostejov: Municipality) -> User:
    org = OrganisationFactory.create(name="OSPOD Prostějov", sector=Sector.OSPOD, municipality=prostejov)
    return UserFactory.create(username="cizi", role=Role.OSPOD_WORKER, organisation=org)
