"""The bench's cast and one case's journey through the real services and flow, as the tests and ``seed_demo`` drive it.

``World`` is one authority (Olomouc) with its supervisors, OSPOD coordinators and three partners. ``case_story``
takes one report as far as its stage says: filed (waiting in the triage queue), triaged into a case, inputs asked,
inputs given, assessment written, plan submitted, plan approved. Every name and text is fictional.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.utils import timezone
from viewflow.workflow.models import Task

from casework.compartments import Compartment
from casework.models import Case, Municipality, Organisation, Report, ResidenceMunicipality, Role, Sector, User
from casework.services import ChildIdentity, ReportDetails, case_note_add, report_triage
from casework.services.assessments import (
    InputRequest,
    assessment_input_provide,
    assessment_inputs_request,
    assessment_write,
)
from casework.services.plans import plan_approve, plan_in_work, plan_save, plan_submit
from tests.factories.cases import add_member
from tests.factories.children import synthetic_birth_number
from tests.factories.people import MunicipalityFactory, OrganisationFactory, UserFactory
from workflows import tasks
from workflows.flows import CaseFlow, ReportFlow, report_receive

#: The stages a seeded story can stop at, in order.
STAGES = ("reported", "triaged", "asked", "inputs", "assessed", "submitted", "approved")
FACTS = "Dítě chodí do školy hladové a často chybí; zkušební oznámení {n}."


@dataclass
class World:
    municipality: Municipality
    ospod: Organisation
    supervisors: list[User]
    coordinators: list[User]
    teacher: User
    doctor: User
    social_worker: User
    extra: dict[str, Any] = field(default_factory=dict)


def build_world(*, coordinators: int = 4) -> World:
    municipality = MunicipalityFactory.create(code="OM", name="Olomouc")
    ResidenceMunicipality.objects.get_or_create(orp=municipality, name="Olomouc")
    ospod = OrganisationFactory.create(name="OSPOD Olomouc", sector=Sector.OSPOD, municipality=municipality)
    school = OrganisationFactory.create(name="ZŠ Lipová", sector=Sector.SCHOOL, municipality=municipality)
    clinic = OrganisationFactory.create(name="Ordinace MUDr. Zkušební", sector=Sector.HEALTH, municipality=municipality)
    service = OrganisationFactory.create(name="SAS Zkušební", sector=Sector.SERVICE, municipality=municipality)
    return World(
        municipality=municipality,
        ospod=ospod,
        supervisors=[
            UserFactory.create(username=f"vedouci{i}", role=Role.SUPERVISOR, organisation=ospod) for i in (1, 2)
        ],
        coordinators=[
            UserFactory.create(username=f"koord{i}", role=Role.OSPOD_WORKER, organisation=ospod)
            for i in range(1, coordinators + 1)
        ],
        teacher=UserFactory.create(username="ucitelka", role=Role.PARTNER, organisation=school),
        doctor=UserFactory.create(username="pediatr", role=Role.PARTNER, organisation=clinic),
        social_worker=UserFactory.create(username="sas", role=Role.PARTNER, organisation=service),
    )


def load_world() -> World:
    """The cast of a database :func:`build_world` seeded (for the measuring process)."""
    users = User.objects.select_related("organisation")
    municipality = Municipality.objects.get(code="OM")
    return World(
        municipality=municipality,
        ospod=Organisation.objects.get(name="OSPOD Olomouc", municipality=municipality),
        supervisors=[users.get(username="vedouci1"), users.get(username="vedouci2")],
        coordinators=list(users.filter(username__regex=r"^koord[0-9]+$").order_by("username")),
        teacher=users.get(username="ucitelka"),
        doctor=users.get(username="pediatr"),
        social_worker=users.get(username="sas"),
    )


#: Stories numbered from here are the measured ones: born in 2021-2023, apart from every seeded (and copied) child.
MEASURED_FROM = 1_000_000


def _born(n: int) -> datetime.date:
    if n >= MEASURED_FROM:
        return datetime.date(2021, 1, 1) + datetime.timedelta(days=n % 1000)
    return datetime.date(2010, 1, 1) + datetime.timedelta(days=(n * 37) % 4000)


def _serial(n: int) -> int:
    return (n // 1000) % 900 + 1 if n >= MEASURED_FROM else (n // 4000) % 900 + 1


def _birth_number(born: datetime.date, *, female: bool, serial: int) -> str:
    while True:
        try:
            return synthetic_birth_number(born, female=female, serial=serial)
        except ValueError:  # this serial needs the pre-1986 check-digit exception
            serial += 1


def child_of(n: int) -> ChildIdentity:
    """The fictional child of report ``n`` (a unique birth number per ``n``)."""
    born = _born(n)
    return ChildIdentity(
        given_name=("Vít", "Ema", "Jan", "Lucie")[n % 4],
        family_name=f"Zkušebný{n}",
        date_of_birth=born,
        birth_number=_birth_number(born, female=n % 2 == 1, serial=_serial(n)),
        address=f"Lipová {n % 90 + 1}, 779 00 Olomouc",
    )


def file_report(world: World, n: int) -> Report:
    child = child_of(n)
    details = ReportDetails(
        facts=FACTS.format(n=n),
        child_given_name=child.given_name,
        child_family_name=child.family_name,
        child_date_of_birth=child.date_of_birth,
        child_birth_number=child.birth_number,
        child_address=child.address,
    )
    return report_receive(filed_by=world.teacher, details=details)


def _open_task(case: Case, node: Any, owner: User | None = None) -> Any:
    found = Task.objects.filter(process__caseprocess__case=case, flow_task=node, status__in=tasks.OPEN_STATUSES)
    if owner is not None:
        found = found.filter(owner=owner)
    return found.get()


def triage(world: World, report: Report, n: int, coordinator: User, supervisor: User) -> Case:
    task = Task.objects.get(process__reportprocess__report=report, flow_task=ReportFlow.triage)
    tasks.task_claim(task=task, user=supervisor)
    task.refresh_from_db()
    report.refresh_from_db()
    tasks.task_complete(
        task=task,
        user=supervisor,
        work=partial(
            report_triage,
            report=report,
            decided_by=supervisor,
            urgent=False,
            at_risk=True,
            coordinator=coordinator,
            child=child_of(n),
        ),
        purpose="triage report",
    )
    report.refresh_from_db()
    assert report.case_id is not None
    case = Case.objects.get(pk=report.case_id)
    for member in (world.teacher, world.doctor):
        add_member(case, member, coordinator)
    return case


def ask_inputs(world: World, case: Case) -> None:
    coordinator = case.coordinator
    due = timezone.localdate() + datetime.timedelta(days=14)
    members = [world.teacher, world.doctor]
    tasks.task_complete(
        task=_open_task(case, CaseFlow.request_inputs),
        user=coordinator,
        work=lambda: assessment_inputs_request(
            case=case, by=coordinator, requests=[InputRequest(member=m, due_on=due) for m in members]
        ),
        purpose="request assessment inputs",
    )


def give_inputs(world: World, case: Case) -> None:
    for member, text in ((world.teacher, "Chodí pozdě, domácí úkoly chybí."), (world.doctor, "Očkování v pořádku.")):
        task = _open_task(case, CaseFlow.provide_input, member)
        tasks.task_complete(
            task=task,
            user=member,
            work=partial(assessment_input_provide, assessment_input=CaseFlow.input_of(task), by=member, text=text),
            purpose="provide assessment input",
        )


def assess(case: Case) -> None:
    coordinator = case.coordinator
    tasks.task_complete(
        task=_open_task(case, CaseFlow.write_assessment),
        user=coordinator,
        work=lambda: assessment_write(
            case=case,
            by=coordinator,
            child_needs="Pravidelná strava a klid na učení.",
            parenting_capacity="Matka se snaží, chybí jí podpora.",
            family_environment="Malý byt, babička pomáhá.",
            child_views="Chce zůstat doma.",
        ),
        purpose="write assessment",
    )


def submit_plan(case: Case) -> None:
    coordinator = case.coordinator
    draft = _open_task(case, CaseFlow.draft_plan)
    plan = plan_in_work(case)
    assert plan is not None
    plan_save(
        plan=plan,
        by=coordinator,
        goals=["Dítě chodí do školy každý den.", "Rodina spolupracuje se SAS."],
        support_offered="SAS dvakrát týdně",
        child_views="Chce bydlet doma.",
        parents_views="Matka souhlasí.",
        next_review_on=None,
    )
    tasks.task_complete(
        task=draft, user=coordinator, work=lambda: plan_submit(plan=plan, by=coordinator), purpose="submit"
    )


def approve_plan(case: Case, supervisor: User) -> None:
    approval = _open_task(case, CaseFlow.approve_plan)
    tasks.task_claim(task=approval, user=supervisor)
    approval.refresh_from_db()
    plan = plan_in_work(case)
    assert plan is not None
    review_on = timezone.localdate() + datetime.timedelta(days=180)
    tasks.task_complete(
        task=approval,
        user=supervisor,
        work=lambda: plan_approve(plan=plan, by=supervisor, next_review_on=review_on),
        purpose="decide plan",
    )


def case_story(world: World, n: int, stage: str, *, note: bool = True) -> Report:
    """Report ``n`` taken as far as ``stage`` (one of :data:`STAGES`) through the services and the flow."""
    upto = STAGES.index(stage)
    report = file_report(world, n)
    if upto < 1:
        return report
    coordinator = world.coordinators[n % len(world.coordinators)]
    case = triage(world, report, n, coordinator, world.supervisors[n % 2])
    if note:
        case_note_add(case=case, author=coordinator, compartment=Compartment.SOCIAL, text=f"Návštěva {n}.")
    steps = [
        lambda: ask_inputs(world, case),
        lambda: give_inputs(world, case),
        lambda: assess(case),
        lambda: submit_plan(case),
        lambda: approve_plan(case, world.supervisors[(n + 1) % 2]),
    ]
    for step in steps[: upto - 1]:
        step()
    return report


def stage_of(n: int) -> str:
    """The seeded mix: a tenth waits in triage, most cases run to an approved plan, the rest stop on the way."""
    return ("reported", "triaged", "asked", "inputs", "assessed", "submitted", "approved", "approved", "approved",
            "approved")[n % 10]  # fmt: skip
