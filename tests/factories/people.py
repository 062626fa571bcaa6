"""Factories for ORPs, organisations and users.

Call ``UserFactory.create(...)`` (not ``UserFactory(...)``) where the type matters: factory_boy types ``create`` as
returning the model, while mypy takes the plain call for a factory instance.

``UserFactory`` keeps the organisation consistent with the role (OSPOD staff in an OSPOD organisation, partners
elsewhere), so a test that only says ``UserFactory(role=Role.SUPERVISOR)`` gets a user the model would accept. The
password is :data:`TEST_PASSWORD` for every user. An administrator gets staff status and exactly the permissions
``casework.admin.administrator_permissions`` names, as seed_demo gives them.
"""

from __future__ import annotations

from typing import Any

import factory
from factory.django import DjangoModelFactory

from casework.admin import administrator_permissions
from casework.models import Municipality, Organisation, Role, Sector, User

TEST_PASSWORD = "pw-test-12345"

_SECTOR_FOR_ROLE = {
    Role.OSPOD_WORKER: Sector.OSPOD,
    Role.SUPERVISOR: Sector.OSPOD,
    Role.PARTNER: Sector.SCHOOL,
    Role.DPO: Sector.OTHER,
    Role.ADMINISTRATOR: Sector.OTHER,
    Role.REGIONAL_OFFICE: Sector.OTHER,
}


class MunicipalityFactory(DjangoModelFactory[Municipality]):
    class Meta:
        model = Municipality
        django_get_or_create = ("code",)

    code = "OM"
    name = factory.LazyAttribute(lambda m: "Olomouc" if m.code == "OM" else f"ORP {m.code}")


class OrganisationFactory(DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organizace {n}")
    sector = Sector.SCHOOL
    municipality = factory.SubFactory(MunicipalityFactory)


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"uzivatel{n}")
    first_name = "Alena"
    last_name = factory.Sequence(lambda n: f"Zkušební{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@test.example.org")
    role = Role.PARTNER
    organisation = factory.SubFactory(
        OrganisationFactory, sector=factory.LazyAttribute(lambda o: _SECTOR_FOR_ROLE[Role(o.factory_parent.role)])
    )
    job_title = ""
    is_staff = factory.LazyAttribute(lambda u: u.role == Role.ADMINISTRATOR)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def administrator_access(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and obj.role == Role.ADMINISTRATOR:
            obj.user_permissions.add(*administrator_permissions())

    @classmethod
    def _after_postgeneration(cls, instance: User, create: bool, results: dict[str, Any] | None = None) -> None:
        if create:
            instance.save()
