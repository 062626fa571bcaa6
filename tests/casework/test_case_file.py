"""The case file (``casework.selectors.case_file.case_disclosed`` and the case page): the whole file as far as the
viewer may read it — tasks, reports, the assessment with the team's inputs, conferences, the plan, notes, what
happened — each part through the gate, a withheld part said without counts, and a fixed number of queries whatever
the file's size. Fictional data only."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from casework.models import (
    Assessment,
    AssessmentInput,
    AssessmentOutcome,
    Case,
    Conference,
    ConferenceDecision,
    ConferenceInvitee,
    ConferenceStatus,
    InputStatus,
    Report,
    TeamMembership,
    User,
)
from casework.sealing import seal_values
from casework.selectors.case_file import CaseView, case_disclosed
from permissions.access import access_case_by_id
from permissions.models import AuditEvent
from tests.factories.cases import add_member, open_case, write_note
from tests.workflows.conftest import FACTS, file_report

from .test_plan_views import GOAL_SCHOOL, client_for, make_action, make_plan, page_text

pytestmark = pytest.mark.django_db

NEEDS = "Potřebuje klidné místo na učení a pravidelné jídlo."
CHILD_VIEWS = "Chce zůstat ve své třídě."
TEACHER_INPUT = "Ve škole je Vít soustředěný, chybí mu svačiny."
DOCTOR_INPUT = "Očkování v pořádku, zhubnul o dvě kila."
MINUTES = "Rodina souhlasí s docházkou do poradny."
DECISION = "Matka zajistí svačiny."
ACTION = "Doučování dvakrát týdně"
NOTE = "Telefonát s matkou"

#: The case page, pinned at one and at fifty items per section (the same number: nothing grows with the file). Each
#: section is one query for its rows plus, where it reads sealed text, one committed gate batch (a savepoint, the
#: chain head, the insert) and a key load; the page adds the session, the user, the case, the viewer's standing and
#: the notifications badge. A partner's standing needs her membership and shares; she reads less, so fewer batches.
CASE_FILE_QUERIES_COORDINATOR = 78  # with the lead's referrals section (one query)
CASE_FILE_QUERIES_TEACHER = 58


@pytest.fixture
def doctor(olomouc: Any) -> User:
    from tests.factories.cases import health_partner

    return health_partner(municipality=olomouc, username="lekarka")


@pytest.fixture
def case(coordinator: User, teacher: User, doctor: User) -> Case:
    case = open_case(coordinator=coordinator, given_name="Vít", family_name="Zkušebný")
    add_member(case, teacher, coordinator)
    add_member(case, doctor, coordinator)
    return case


def _membership(case: Case, user: User) -> TeamMembership:
    return TeamMembership.objects.get(case=case, user=user)


def give_input(case: Case, member: User, text: str, *, by: User, compartment: str) -> AssessmentInput:
    """A provided input, sealed as ``assessment_input_provide`` writes it."""
    item = AssessmentInput(
        case=case,
        membership=_membership(case, member),
        member=member,
        author_organisation=member.organisation,
        compartment=compartment,
        status=InputStatus.PROVIDED,
        requested_by=by,
        due_at=timezone.now() + datetime.timedelta(days=7),
        provided_at=timezone.now(),
    )
    seal_values(item, {"text": text})
    item.save()
    return item


def write_assessment(case: Case, author: User, needs: str = NEEDS) -> Assessment:
    previous = Assessment.objects.filter(case=case).order_by("-version").first()
    row = Assessment(case=case, author=author)
    if previous is not None:  # a re-assessment: the next version, naming the one before it
        row.version, row.previous, row.outcome = previous.version + 1, previous, AssessmentOutcome.REVISED
    seal_values(
        row,
        {
            "child_needs": needs,
            "parenting_capacity": "Matka se snaží.",
            "family_environment": "Malý byt, tři sourozenci.",
            "child_views": CHILD_VIEWS,
        },
    )
    row.save()
    return row


def hold_conference(case: Case, coordinator: User, *, invite: User | None = None, n: int = 0) -> Conference:
    conference = Conference(
        case=case,
        starts_at=timezone.now() - datetime.timedelta(days=n + 1),
        place="OSPOD Olomouc, zasedačka 2",
        status=ConferenceStatus.HELD,
        organised_by=coordinator,
        held_at=timezone.now() - datetime.timedelta(days=n + 1),
    )
    seal_values(conference, {"minutes": MINUTES})
    conference.save()
    decision = ConferenceDecision(
        case=case,
        conference=conference,
        created_by=coordinator,
        owner_user=coordinator,
        due_on=timezone.localdate() + datetime.timedelta(days=14),
    )
    seal_values(decision, {"text": DECISION})
    decision.save()
    if invite is not None:
        invitee = ConferenceInvitee(case=case, conference=conference, user=invite)
        seal_values(invitee, {})
        invitee.save()
    return conference


def grow(case: Case, coordinator: User, supervisor: User, teacher: User, doctor: User, size: int) -> None:
    """``size`` items in every section of the file."""
    for n in range(size):
        report = file_report(teacher)
        Report.objects.filter(pk=report.pk).update(case=case)
        give_input(case, teacher, f"{TEACHER_INPUT} {n}", by=coordinator, compartment="school")
        give_input(case, doctor, f"{DOCTOR_INPUT} {n}", by=coordinator, compartment="health")
        write_assessment(case, coordinator, needs=f"{NEEDS} {n}")
        hold_conference(case, coordinator, invite=teacher, n=n)
        write_note(case, coordinator, "school", f"{NOTE} {n}")
        write_note(case, coordinator, "social", f"{NOTE} sociální {n}")
    plan = make_plan(case, drafted_by=coordinator, approved_by=supervisor, goals=[GOAL_SCHOOL])
    for n in range(size):
        make_action(plan, f"{ACTION} {n}", owner_user=teacher, position=n)


def file_for(user: User, case: Case, **kwargs: Any) -> CaseView:
    return case_disclosed(user=user, case=access_case_by_id(user, case.pk, purpose="case page"), purpose="case page")


# --- The query count ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 50])
def test_the_case_file_runs_the_same_number_of_queries_whatever_its_size(
    size: int,
    case: Case,
    coordinator: User,
    supervisor: User,
    teacher: User,
    doctor: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    grow(case, coordinator, supervisor, teacher, doctor, size)
    url = reverse("case_detail", kwargs={"case_id": case.pk})
    for user, expected in ((coordinator, CASE_FILE_QUERIES_COORDINATOR), (teacher, CASE_FILE_QUERIES_TEACHER)):
        client = client_for(user)
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200
        view: CaseView = response.context["file"]
        # Every section holds something at both sizes, and at most its page (a longer file is linked, not loaded).
        assert 1 <= len(view.conferences.rows) <= 5  # type: ignore[union-attr]
        assert 1 <= len(view.assessment.inputs) <= 5  # type: ignore[union-attr]
        assert 1 <= len(view.plan.actions) <= 5  # type: ignore[union-attr]
        assert view.timeline.rows  # type: ignore[union-attr]
        if user == coordinator:
            assert 1 <= len(view.reports.rows) <= 5  # type: ignore[union-attr]
            assert view.tasks.rows  # type: ignore[union-attr]
            assert view.reports.more is (size > 5)  # type: ignore[union-attr]


# --- What each role reads -----------------------------------------------------------------------------------------


@pytest.fixture
def full_file(case: Case, coordinator: User, supervisor: User, teacher: User, doctor: User) -> Case:
    grow(case, coordinator, supervisor, teacher, doctor, 1)
    return case


def test_the_coordinator_reads_the_whole_file(full_file: Case, coordinator: User) -> None:
    view = file_for(coordinator, full_file)
    assert view.reports is not None
    assert view.reports.visible
    assert view.reports.rows[0].facts == FACTS
    # Who reported stays on the report's own page (§§ 55, 57): the file links to it.
    assert not hasattr(view.reports.rows[0], "notifier_name")
    assessment = view.assessment
    assert assessment is not None
    assert assessment.current is not None
    assert next(p.text for p in assessment.current.parts) == f"{NEEDS} 0"
    assert not assessment.withheld
    inputs = {i.text: i for i in assessment.inputs}
    assert set(inputs) == {f"{TEACHER_INPUT} 0", f"{DOCTOR_INPUT} 0"}
    teacher_input = inputs[f"{TEACHER_INPUT} 0"]
    assert teacher_input.role
    assert teacher_input.author
    assert teacher_input.provided_at is not None
    conference = view.conferences.rows[0]  # type: ignore[union-attr]
    assert conference.minutes == MINUTES
    assert [d.text for d in conference.decisions] == [DECISION]
    assert [a.what for a in view.plan.actions] == [f"{ACTION} 0"]  # type: ignore[union-attr]
    with translation.override("en"):
        labels = [str(e.label) for e in view.timeline.rows]  # type: ignore[union-attr]
    assert "The case was opened" in labels
    assert "A note was written" in labels
    assert view.tasks is not None
    assert view.tasks.everyone


def test_a_teacher_reads_her_own_input_and_not_the_rest(full_file: Case, teacher: User) -> None:
    view = file_for(teacher, full_file)
    assessment = view.assessment
    assert assessment is not None
    assert [(i.text, i.own) for i in assessment.inputs] == [(f"{TEACHER_INPUT} 0", True)]
    # The doctor's input and the social part of the assessment are hidden: said so, never how much.
    assert assessment.withheld
    assert assessment.current is not None
    assert all(p.text is None for p in assessment.current.parts)
    assert view.reports is not None
    assert not view.reports.visible
    assert view.reports.rows == ()
    conference = view.conferences.rows[0]  # type: ignore[union-attr]
    assert not conference.record
    assert conference.minutes is None
    assert conference.decisions == ()
    assert [a.what for a in view.plan.actions] == [f"{ACTION} 0"]  # type: ignore[union-attr]
    assert view.tasks is not None
    assert not view.tasks.everyone
    assert view.timeline is not None
    assert view.timeline.partial
    assert "A note was written" not in [str(e.label) for e in view.timeline.rows]


def test_the_doctor_does_not_read_the_teachers_input(full_file: Case, doctor: User) -> None:
    view = file_for(doctor, full_file)
    assert view.assessment is not None
    assert [i.text for i in view.assessment.inputs] == [f"{DOCTOR_INPUT} 0"]
    # Not invited to the conference: the section says some are hidden.
    assert view.conferences is not None
    assert view.conferences.rows == ()
    assert view.conferences.withheld


def test_the_case_file_reads_are_audited(full_file: Case, coordinator: User) -> None:
    file_for(coordinator, full_file)
    read = AuditEvent.objects.filter(actor=coordinator, action="read", purpose="case page")
    types = set(read.values_list("object_type", flat=True))
    assert {"casework.assessment", "casework.assessmentinput", "casework.report", "casework.conference"} <= types
    assert {"casework.conferencedecision", "casework.plan", "casework.casenote"} <= types


def test_a_teacher_reads_are_audited_with_the_denials(full_file: Case, teacher: User) -> None:
    file_for(teacher, full_file)
    denied = AuditEvent.objects.filter(actor=teacher, action="deny", purpose="case page")
    assert {"casework.assessment", "casework.assessmentinput"} <= set(denied.values_list("object_type", flat=True))


# --- The page -----------------------------------------------------------------------------------------------------


def _page(user: User, case: Case, query: str = "") -> str:
    response = client_for(user).get(reverse("case_detail", kwargs={"case_id": case.pk}) + query)
    assert response.status_code == 200
    return page_text(response)


def test_the_case_page_shows_the_file_in_order(full_file: Case, coordinator: User) -> None:
    body = _page(coordinator, full_file)
    order = [
        'id="tasks-heading"',
        'id="reports-heading"',
        'id="assessment-heading"',
        'id="conferences-heading"',
        'id="plan-section-heading"',
        'id="notes-heading"',
        'id="timeline-heading"',
    ]
    positions = [body.index(marker) for marker in order]
    assert positions == sorted(positions)
    report = Report.objects.get(case=full_file)
    assert reverse("report_detail", kwargs={"report_id": report.pk}) in body
    for text in (f"{NEEDS} 0", f"{TEACHER_INPUT} 0", f"{DOCTOR_INPUT} 0", MINUTES, DECISION, FACTS):
        assert text in body


def test_the_teachers_case_page_says_what_is_hidden_without_counts(full_file: Case, teacher: User) -> None:
    body = _page(teacher, full_file)
    assert f"{TEACHER_INPUT} 0" in body
    for secret in (f"{NEEDS} 0", CHILD_VIEWS, f"{DOCTOR_INPUT} 0", MINUTES, DECISION, FACTS):
        assert secret not in body
    hidden = re.findall(r'<p class="withheld" role="note">([^<]*)</p>', body)
    assert hidden, "the withheld parts are announced"
    assert not any(re.search(r"\d", sentence) for sentence in hidden)


def test_a_long_section_shows_its_newest_items_and_links_to_all(
    case: Case, coordinator: User, supervisor: User, teacher: User, doctor: User
) -> None:
    grow(case, coordinator, supervisor, teacher, doctor, 7)
    body = _page(coordinator, case)
    assert f"{NOTE} 6" in body
    assert f"{NOTE} 0" not in body
    assert "?show=notes#notes-school" in body
    everything = _page(coordinator, case, "?show=notes")
    assert f"{NOTE} 0" in everything
    assert f"{NOTE} 6" in everything
    assessment = _page(coordinator, case, "?show=assessment")
    assert f"{TEACHER_INPUT} 0" in assessment
    assert f"{TEACHER_INPUT} 0" not in body


def test_a_stranger_still_gets_404(full_file: Case, foreign_worker: User) -> None:
    response = client_for(foreign_worker).get(reverse("case_detail", kwargs={"case_id": full_file.pk}))
    assert response.status_code == 404
