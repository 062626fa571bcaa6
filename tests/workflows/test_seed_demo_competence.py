"""The demo shows local competence: a second authority (Prostějov) with its own staff, the duty roster of both, and
a report filed in Olomouc about a child living in Plumlov waiting in Prostějov's queue for its worker on duty."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from casework.models import DutyShift, Municipality, Report, ResidenceMunicipality, User
from permissions.access import is_on_duty, load_report_access
from workflows import selectors


@pytest.mark.django_db
def test_demo_routes_a_report_to_the_second_authority_and_its_worker_on_duty_may_triage_it() -> None:
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent: nothing doubles
    assert (
        Municipality.objects.filter(
            code__in=["OM", "PV", "PR", "SU", "JE", "HR", "KO", "LI", "LT", "MO", "ST", "UN", "ZA"]
        ).count()
        == 13
    )
    assert ResidenceMunicipality.objects.get(name="Plumlov").orp.code == "PV"
    prostejov = Municipality.objects.get(code="PV")
    [report] = Report.objects.filter(municipality=prostejov)
    assert report.recorded_by.username == "vychovny"
    assert report.residence_municipality is not None
    assert report.residence_municipality.name == "Plumlov"
    assert report.urgent_suggested
    duty_pv, supervisor_pv = User.objects.get(username="koordinator_pv"), User.objects.get(username="vedouci_pv")
    assert DutyShift.objects.filter(worker=duty_pv).count() == 1
    assert DutyShift.objects.filter(worker__username="koordinatorka2").count() == 1
    assert is_on_duty(duty_pv.pk, prostejov.pk)
    assert load_report_access(duty_pv, report).may_triage
    queue = [row.report_reference for row in selectors.team_queue(user=duty_pv, task_type="triage").rows]
    assert queue == [report.reference]
    assert report.reference in [row.report_reference for row in selectors.team_queue(user=supervisor_pv).rows]
    olomouc_supervisor = User.objects.get(username="vedouci")
    assert report.reference not in [row.report_reference for row in selectors.team_queue(user=olomouc_supervisor).rows]
