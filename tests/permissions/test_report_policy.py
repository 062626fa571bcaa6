"""Who reads a report (oznámení), enumerated like the case policy: pure decisions, no database.

The notifier compartment of a report is read by the supervisors of the receiving authority and by the coordinator of
the case it led to — nobody else: not the partner who filed it, not another authority, not the DPO or administrator.
"""

from __future__ import annotations

import uuid

import pytest

from casework.compartments import Compartment
from casework.models import Role, Sector
from permissions.policy import Relationship, ReportFacts, Subject, relationship_to_report, report_access

OLOMOUC, PROSTEJOV = 1, 2


def _subject(user_id: int, role: str, sector: str | None, municipality_id: int | None, active: bool = True) -> Subject:
    return Subject(
        user_id=user_id,
        role=role,
        sector=sector,
        municipality_id=municipality_id,
        organisation_id=user_id * 10,
        active=active,
    )


SUPERVISOR = _subject(1, Role.SUPERVISOR, Sector.OSPOD, OLOMOUC)
COORDINATOR = _subject(2, Role.OSPOD_WORKER, Sector.OSPOD, OLOMOUC)
COLLEAGUE = _subject(3, Role.OSPOD_WORKER, Sector.OSPOD, OLOMOUC)
FILER = _subject(4, Role.PARTNER, Sector.SCHOOL, OLOMOUC)
FOREIGN_SUPERVISOR = _subject(5, Role.SUPERVISOR, Sector.OSPOD, PROSTEJOV)
DPO = _subject(6, Role.DPO, Sector.OTHER, OLOMOUC)
ADMINISTRATOR = _subject(7, Role.ADMINISTRATOR, None, None)
FORMER_SUPERVISOR = _subject(8, Role.SUPERVISOR, Sector.OSPOD, OLOMOUC, active=False)


def _facts(*, with_case: bool) -> ReportFacts:
    return ReportFacts(
        report_id=uuid.uuid4(),
        municipality_id=OLOMOUC,
        recorded_by_id=FILER.user_id or 0,
        case_id=uuid.uuid4() if with_case else None,
        case_municipality_id=OLOMOUC if with_case else None,
        case_coordinator_id=COORDINATOR.user_id if with_case else None,
    )


H, N = Relationship.REPORT_HANDLER, Relationship.NONE


@pytest.mark.parametrize(
    ("who", "subject", "before_case", "with_case"),
    [
        ("supervisor of the receiving authority", SUPERVISOR, H, H),
        ("coordinator of the case it led to", COORDINATOR, N, H),
        ("another OSPOD worker of the authority", COLLEAGUE, N, N),
        ("the partner who filed it", FILER, N, N),
        ("another authority's supervisor", FOREIGN_SUPERVISOR, N, N),
        ("the DPO", DPO, N, N),
        ("the administrator", ADMINISTRATOR, N, N),
        ("a deactivated supervisor", FORMER_SUPERVISOR, N, N),
    ],
)
def test_relationship_to_report(who: str, subject: Subject, before_case: Relationship, with_case: Relationship) -> None:
    assert relationship_to_report(subject, _facts(with_case=False)) is before_case, who
    assert relationship_to_report(subject, _facts(with_case=True)) is with_case, who


@pytest.mark.parametrize("compartment", list(Compartment))
def test_a_handler_reads_only_the_notifier_compartment(compartment: Compartment) -> None:
    access = report_access(SUPERVISOR, _facts(with_case=False))
    assert access.may_read_compartment(compartment) == (compartment is Compartment.NOTIFIER)
    assert not report_access(FILER, _facts(with_case=False)).may_read_compartment(compartment)


def test_only_supervisors_triage_and_the_filer_sees_only_that_it_is_theirs() -> None:
    facts = _facts(with_case=True)
    assert report_access(SUPERVISOR, facts).may_triage
    assert not report_access(COORDINATOR, facts).may_triage
    assert report_access(COORDINATOR, facts).may_send_feedback
    filer = report_access(FILER, facts)
    assert filer.is_filer
    assert not filer.visible
