"""The cast and helpers of the report (oznámení) tests: a school teacher who reports, the authority's supervisors and a
coordinator, a supervisor of another authority, and reports filed through the real services and flow.

Every name, birth number and text is fictional.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from viewflow.workflow.models import Task

from casework.models import Municipality, Report, ResidenceMunicipality, Role, Sector, User
from casework.services import ChildIdentity, ReportDetails, report_triage
from tests.factories import MunicipalityFactory, OrganisationFactory, UserFactory
from tests.factories.children import synthetic_birth_number
from workflows import tasks
from workflows.flows import ReportFlow, report_receive

BORN = datetime.date(2015, 5, 5)
BIRTH_NUMBER = synthetic_birth_number(BORN, serial=731)
FACTS = "Vít chodí do školy hladový a v pondělí měl modřiny na obou předloktích."
CHILD_GIVEN = "Vít"
CHILD_FAMILY = "Zkušebný"
CHILD_ADDRESS = "Lipová 12, 779 00 Olomouc"
NEIGHBOUR = "Marie Sousedová"
NEIGHBOUR_PHONE = "+420 600 111 222"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return str(response.content.decode())


def field_errors(page: str) -> str:
    """The text of every error list on the page."""
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S))


def details(**overrides: Any) -> ReportDetails:
    values: dict[str, Any] = {
        "facts": FACTS,
        "child_given_name": CHILD_GIVEN,
        "child_family_name": CHILD_FAMILY,
        "child_date_of_birth": BORN,
        "child_birth_number": BIRTH_NUMBER,
        "child_address": CHILD_ADDRESS,
    }
    values.update(overrides)
    return ReportDetails(**values)


def form_data(**overrides: Any) -> dict[str, Any]:
    """What the intake form posts for the report of :func:`details` (a child living in Olomouc)."""
    ResidenceMunicipality.objects.get_or_create(orp=MunicipalityFactory.create(code="OM"), name="Olomouc")
    data: dict[str, Any] = {
        "residence_municipality": "Olomouc",
        "facts": FACTS,
        "child_given_name": CHILD_GIVEN,
        "child_family_name": CHILD_FAMILY,
        "child_date_of_birth": BORN.isoformat(),
        "child_birth_number": BIRTH_NUMBER,
        "child_address": CHILD_ADDRESS,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def file_report(by: User, **overrides: Any) -> Report:
    return report_receive(filed_by=by, details=details(**overrides))


def triage_task(report: Report) -> Any:
    return Task.objects.get(process__reportprocess__report=report, flow_task=ReportFlow.triage)


def feedback_task(report: Report) -> Any:
    return Task.objects.get(process__reportprocess__report=report, flow_task=ReportFlow.send_feedback)


def child_identity(**overrides: Any) -> ChildIdentity:
    values: dict[str, Any] = {
        "given_name": CHILD_GIVEN,
        "family_name": CHILD_FAMILY,
        "date_of_birth": BORN,
        "birth_number": BIRTH_NUMBER,
        "address": CHILD_ADDRESS,
    }
    values.update(overrides)
    return ChildIdentity(**values)


def triage(report: Report, supervisor: User, **decision: Any) -> Any:
    """Take the report's triage and complete it as ``supervisor`` through the flow (as the triage page does)."""
    task = triage_task(report)
    if task.owner_id is None:
        tasks.task_claim(task=task, user=supervisor)
        task.refresh_from_db()
    arguments: dict[str, Any] = {"urgent": False, "at_risk": True, "coordinator": None, "child": child_identity()}
    arguments.update(decision)
    tasks.task_complete(
        task=task,
        user=supervisor,
        work=lambda: report_triage(report=report, decided_by=supervisor, **arguments),
        purpose="triage report",
    )
    report.refresh_from_db()
    return task


@pytest.fixture
def dpo(olomouc: Municipality) -> User:
    org = OrganisationFactory.create(name="Pověřenec", sector=Sector.OTHER, municipality=olomouc)
    return UserFactory.create(username="poverenec", role=Role.DPO, organisation=org)


@pytest.fixture
def paediatrician(olomouc: Municipality) -> User:
    org = OrganisationFactory.create(name="Ordinace MUDr. Zkušební", sector=Sector.HEALTH, municipality=olomouc)
    return UserFactory.create(username="pediatr", role=Role.PARTNER, organisation=org)
