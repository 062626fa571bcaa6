"""Children registered before the statistics fields existed get them once, through the gate, audited as a system
read with the purpose "statistics" (docs/adr/0030)."""

from __future__ import annotations

import datetime

import pytest

from casework.models import Child, Role, Sector
from casework.services.children import fill_statistics_fields
from permissions.models import AuditEvent
from tests.factories.cases import organisation, ospod_staff
from tests.factories.children import register_child
from tests.factories.people import MunicipalityFactory


@pytest.mark.django_db
def test_fill_derives_year_and_sex_through_the_gate_once() -> None:
    worker = ospod_staff(organisation(Sector.OSPOD, MunicipalityFactory.create(code="OM")), role=Role.OSPOD_WORKER)
    girl = register_child(by=worker, born=datetime.date(2016, 4, 4), female=True)
    boy = register_child(by=worker, given_name="Adam", born=datetime.date(2019, 5, 5), female=False)
    Child.objects.filter(pk__in=[girl.pk, boy.pk]).update(birth_year=None, sex="")
    before = AuditEvent.objects.count()

    assert fill_statistics_fields() == 2

    assert Child.objects.filter(pk=girl.pk).values_list("birth_year", "sex").get() == (2016, "F")
    assert Child.objects.filter(pk=boy.pk).values_list("birth_year", "sex").get() == (2019, "M")
    reads = AuditEvent.objects.filter(purpose="statistics")
    assert AuditEvent.objects.count() == before + 2
    assert reads.count() == 2
    assert {event.actor_id for event in reads} == {None}
    assert all(set(event.field_names) == {"birth_number", "date_of_birth"} for event in reads)
    assert fill_statistics_fields() == 0  # idempotent: nothing left to read
    assert AuditEvent.objects.filter(purpose="statistics").count() == 2
