"""The parents' and the child's acquaintance with, or participation in, each version of the plan (IPOD; Decree No.
473/2012 Coll., § 2): who (a relation, no name), when, how — recorded per version by the case's lead, audited,
listed on the version's page.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import AcquaintancePerson, AcquaintanceWay, Case, Plan, PlanAcquaintance, User
from casework.services.plans import plan_acquaintance_record, plan_draft_start
from permissions.models import AuditEvent
from tests.factories import add_member, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    opened = open_case(coordinator=coordinator)
    add_member(opened, teacher, coordinator)
    return opened


@pytest.fixture
def plan(case: Case, coordinator: User) -> Plan:
    return plan_draft_start(case=case, by=coordinator)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_each_version_keeps_its_own_record(case: Case, plan: Plan, coordinator: User) -> None:
    today = timezone.localdate()
    mother = plan_acquaintance_record(
        plan=plan, by=coordinator, person=AcquaintancePerson.MOTHER, on=today, way=AcquaintanceWay.TOOK_PART
    )
    plan_acquaintance_record(
        plan=plan, by=coordinator, person=AcquaintancePerson.CHILD, on=today, way=AcquaintanceWay.CHILD_FORM
    )
    assert sorted(PlanAcquaintance.objects.filter(plan=plan).values_list("person", "way")) == [
        (AcquaintancePerson.CHILD, AcquaintanceWay.CHILD_FORM),
        (AcquaintancePerson.MOTHER, AcquaintanceWay.TOOK_PART),
    ]
    event = AuditEvent.objects.get(object_type="casework.planacquaintance", object_id=str(mother.pk))
    assert (event.actor_id, event.purpose, event.field_names) == (
        coordinator.pk,
        "record plan acquaintance",
        ["on", "person", "way"],
    )
    # Another version (here: another case's plan) starts with none.
    other = plan_draft_start(
        case=open_case(coordinator=coordinator, given_name="Jiné", family_name="Dítě"), by=coordinator
    )
    assert not PlanAcquaintance.objects.filter(plan=other).exists()


def test_bad_input_is_refused_field_by_field_and_nothing_is_written(plan: Plan, coordinator: User) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        plan_acquaintance_record(plan=plan, by=coordinator, person="neighbour", on=tomorrow, way="")
    assert set(error.value.message_dict) == {"person", "on", "way"}
    assert not PlanAcquaintance.objects.exists()


def test_only_the_lead_records_it(plan: Plan, teacher: User) -> None:
    with pytest.raises(PermissionDenied):
        plan_acquaintance_record(
            plan=plan, by=teacher, person=AcquaintancePerson.FATHER, on=timezone.localdate(), way=AcquaintanceWay.COPY
        )
    assert not PlanAcquaintance.objects.exists()
    assert AuditEvent.objects.filter(actor=teacher, purpose="record plan acquaintance", outcome="denied").exists()


def test_the_version_page_records_and_lists_it(case: Case, plan: Plan, coordinator: User) -> None:
    url = reverse("case_plan_acquaintance", kwargs={"case_id": case.pk, "plan_id": plan.pk})
    version = reverse("case_plan_version", kwargs={"case_id": case.pk, "plan_id": plan.pk})
    lead = _client(coordinator)
    refused = lead.post(url, {"person": AcquaintancePerson.FATHER, "on": "", "way": AcquaintanceWay.COPY})
    assert refused.status_code == 200
    assert not PlanAcquaintance.objects.exists()
    today = timezone.localdate().isoformat()
    done = lead.post(url, {"person": AcquaintancePerson.FATHER, "on": today, "way": AcquaintanceWay.COPY})
    assert done.status_code == 302
    assert done["Location"] == version
    page = lead.get(version).content.decode()
    assert 'id="acquaintance-heading"' in page
    assert PlanAcquaintance.objects.get(plan=plan).recorded_by_id == coordinator.pk
