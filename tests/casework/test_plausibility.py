"""Plausibility rules for dates (casework.plausibility): each rule on its own at its edges, with frozen time, and
through the services and forms that use it, so no path writes an implausible date.

"Today" is Friday 4 December 2026 in Prague throughout, unless a test says otherwise.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext

from casework import plausibility
from casework.case_forms import TeamMemberAddForm
from casework.compartments import Compartment
from casework.conference_forms import ConferenceDecisionForm
from casework.forms import ChildRegistrationForm
from casework.models import Case, Child, Conference, ConferenceDecision, Report, TeamMembership, User
from casework.services import ReportDetails, child_create, conference_decision_add, report_file
from casework.services.assessments import InputRequest, assessment_inputs_request
from permissions.models import Consent
from tests.casework.test_conference_services import held
from tests.factories import add_member, open_case, record_consent, team_role
from tests.factories.cases import CLASS_TEACHER
from tests.factories.children import register_child, synthetic_birth_number

TODAY = datetime.date(2026, 12, 4)
DAY = datetime.timedelta(days=1)
EIGHTEEN_YEARS_AGO = datetime.date(2008, 12, 4)


@pytest.fixture
def frozen() -> Iterator[None]:
    """Noon in Prague on TODAY; the case tests open their case under it."""
    with time_machine.travel(f"{TODAY.isoformat()} 12:00 +01:00", tick=False):
        yield


@pytest.fixture
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


# --- The rules at their edges ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "plausible"),
    [
        (TODAY, True),  # born today: a child of 0 years
        (TODAY + DAY, False),  # tomorrow: not born yet
        (EIGHTEEN_YEARS_AGO, False),  # 18th birthday today: an adult from its first moment
        (EIGHTEEN_YEARS_AGO + DAY, True),  # 18th birthday tomorrow: still a child today
        (datetime.date(1899, 5, 1), False),  # the reported 1899
    ],
)
def test_a_childs_date_of_birth_lies_within_the_last_18_years(
    frozen: None, english: None, born: datetime.date, plausible: bool
) -> None:
    assert (plausibility.child_date_of_birth_problem(born) is None) is plausible


def test_the_messages_say_what_is_wrong_with_the_date_of_birth(frozen: None, english: None) -> None:
    assert plausibility.child_date_of_birth_problem(TODAY + DAY) == "The date of birth cannot be in the future."
    assert plausibility.child_date_of_birth_problem(EIGHTEEN_YEARS_AGO) == (
        "With this date of birth the person is 18 years old: a child is younger than 18. Check the date of birth."
    )
    assert "127 years old" in str(plausibility.child_date_of_birth_problem(datetime.date(1899, 5, 1)))


def test_someone_born_on_29_february_comes_of_age_on_28_february_in_a_common_year() -> None:
    born = datetime.date(2008, 2, 29)
    assert plausibility.child_date_of_birth_problem(born, today=datetime.date(2026, 2, 27)) is None
    assert plausibility.child_date_of_birth_problem(born, today=datetime.date(2026, 2, 28)) is not None
    assert plausibility.age_in_years(born, datetime.date(2026, 2, 27)) == 17
    assert plausibility.age_in_years(born, datetime.date(2026, 2, 28)) == 18


def test_the_earliest_date_of_birth_of_a_child_is_the_day_after_eighteen_years_ago(frozen: None) -> None:
    earliest = plausibility.earliest_child_birth_date()
    assert earliest == EIGHTEEN_YEARS_AGO + DAY
    assert plausibility.child_date_of_birth_problem(earliest) is None
    assert plausibility.child_date_of_birth_problem(earliest - DAY) is not None


@pytest.mark.parametrize(("due", "plausible"), [(TODAY - DAY, False), (TODAY, True), (TODAY + DAY, True)])
def test_a_due_date_is_today_or_later(frozen: None, due: datetime.date, plausible: bool) -> None:
    assert (plausibility.due_date_problem(due) is None) is plausible


@pytest.mark.parametrize(("offset", "plausible"), [(-1, False), (0, True), (1, True)])
def test_a_day_of_a_case_is_not_before_it_opened(english: None, offset: int, plausible: bool) -> None:
    problem = plausibility.case_day_problem(TODAY + offset * DAY, TODAY)
    assert (problem is None) is plausible
    if not plausible:
        assert problem == "The date cannot be before the case opened (4 Dec 2026)."


def test_the_day_a_case_opened_is_its_day_in_prague() -> None:
    # 23:30 UTC on 3 December is half past midnight on 4 December in Prague.
    opened_at = datetime.datetime(2026, 12, 3, 23, 30, tzinfo=datetime.UTC)
    assert plausibility.case_opened_on(opened_at) == TODAY


# --- The child register and reports ------------------------------------------------------------------------------


def _register(coordinator: User, born: datetime.date) -> Child:
    assert coordinator.organisation is not None
    return child_create(
        municipality=coordinator.organisation.municipality,
        given_name="Tereza",
        family_name="Zkušební",
        date_of_birth=born,
        birth_number=synthetic_birth_number(born, female=True),
        address="Lipová 3, 779 00 Olomouc",
        representatives=[],
        created_by=coordinator,
    )


def test_the_register_refuses_a_child_who_turns_18_today_and_nothing_is_saved(frozen: None, coordinator: User) -> None:
    with pytest.raises(ValidationError) as caught:
        _register(coordinator, EIGHTEEN_YEARS_AGO)
    assert caught.value.message_dict == {
        "date_of_birth": [plausibility.child_date_of_birth_problem(EIGHTEEN_YEARS_AGO)]
    }
    assert not Child.objects.exists()
    assert _register(coordinator, EIGHTEEN_YEARS_AGO + DAY).pk is not None


def test_the_register_form_shows_the_rule_as_a_field_error(frozen: None) -> None:
    data = {
        "given_name": "",
        "family_name": "Zkušební",
        "date_of_birth": "1899-05-01",
        "birth_number": "",
        "address": "",
    }
    form = ChildRegistrationForm(data)
    assert not form.is_valid()
    assert form.errors["date_of_birth"] == [plausibility.child_date_of_birth_problem(datetime.date(1899, 5, 1))]
    # The other fields' errors come with it, all at once.
    assert "given_name" in form.errors
    assert "date_of_birth" not in ChildRegistrationForm({**data, "date_of_birth": TODAY.isoformat()}).errors


def test_a_report_about_a_child_born_in_1899_is_refused(frozen: None, teacher: User) -> None:
    details = ReportDetails(
        facts="Dítě chodí do školy bez svačiny a ve špinavém oblečení.",
        child_given_name="Tereza",
        child_family_name="Zkušební",
        child_date_of_birth=datetime.date(1899, 5, 1),
    )
    with pytest.raises(ValidationError) as caught:
        report_file(filed_by=teacher, details=details)
    assert set(caught.value.message_dict) == {"child_date_of_birth"}
    assert not Report.objects.exists()
    born_tomorrow = ReportDetails(**{**details.__dict__, "child_date_of_birth": TODAY + DAY})
    with pytest.raises(ValidationError) as caught:
        report_file(filed_by=teacher, details=born_tomorrow)
    assert caught.value.message_dict == {"child_date_of_birth": [gettext("The date of birth cannot be in the future.")]}
    ok = ReportDetails(**{**details.__dict__, "child_date_of_birth": EIGHTEEN_YEARS_AGO + DAY})
    assert report_file(filed_by=teacher, details=ok).pk is not None


# --- Days of a case -----------------------------------------------------------------------------------------------


@pytest.fixture
def case(frozen: None, coordinator: User) -> Case:
    """Opened at noon on TODAY."""
    return open_case(coordinator=coordinator, child=register_child(by=coordinator))


def test_a_membership_cannot_start_before_the_case_opened(case: Case, coordinator: User, teacher: User) -> None:
    with pytest.raises(ValidationError) as caught:
        add_member(case, teacher, coordinator, valid_from=TODAY - DAY)
    assert set(caught.value.message_dict) == {"valid_from"}
    assert not TeamMembership.objects.filter(case=case).exists()
    assert add_member(case, teacher, coordinator, valid_from=TODAY).valid_from == TODAY


def test_a_membership_backdated_to_the_day_the_case_opened_is_accepted_later(
    case: Case, coordinator: User, teacher: User
) -> None:
    with time_machine.travel("2027-01-15 09:00 +01:00", tick=False):
        with pytest.raises(ValidationError):
            add_member(case, teacher, coordinator, valid_from=datetime.date(2026, 1, 1))
        assert add_member(case, teacher, coordinator, valid_from=TODAY).valid_from == TODAY


def test_the_team_form_refuses_a_first_day_before_the_case_opened(case: Case, teacher: User) -> None:
    role = team_role(CLASS_TEACHER)
    data = {"user": teacher.pk, "team_role": role.pk, "valid_from": (TODAY - DAY).isoformat()}
    form = TeamMemberAddForm(data, case=case)
    assert not form.is_valid()
    assert form.errors["valid_from"] == [plausibility.case_day_problem(TODAY - DAY, TODAY)]


def test_an_agreement_to_share_cannot_predate_the_case(case: Case, coordinator: User) -> None:
    with pytest.raises(ValidationError) as caught:
        record_consent(case, coordinator, compartment=Compartment.HEALTH, given_on=TODAY - DAY)
    assert set(caught.value.message_dict) == {"given_on"}
    assert not Consent.objects.filter(case=case).exists()
    assert record_consent(case, coordinator, given_on=TODAY).given_on == TODAY


# --- Due dates -----------------------------------------------------------------------------------------------------


def test_an_input_cannot_be_due_yesterday(case: Case, coordinator: User, teacher: User) -> None:
    add_member(case, teacher, coordinator)
    with pytest.raises(ValidationError) as caught:
        assessment_inputs_request(
            case=case, by=coordinator, requests=[InputRequest(member=teacher, due_on=TODAY - DAY)]
        )
    assert caught.value.message_dict == {"due": [gettext("A due date cannot be in the past.")]}
    assert len(assessment_inputs_request(case=case, by=coordinator, requests=[InputRequest(teacher, TODAY)])) == 1


def test_a_conference_decision_cannot_be_due_in_the_past(case: Case, coordinator: User, teacher: User) -> None:
    add_member(case, teacher, coordinator)
    conference: Conference = held(case, coordinator, teacher)
    # Held two days ago (the 2nd), recorded today: the day after the conference has passed already.
    Conference.objects.filter(pk=conference.pk).update(
        starts_at=datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    )
    conference.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        conference_decision_add(
            conference=conference,
            by=coordinator,
            text="Škola zajistí doučování.",
            owner_user=teacher,
            due_on=TODAY - DAY,
        )
    assert caught.value.message_dict == {"due_on": [gettext("A due date cannot be in the past.")]}
    assert not ConferenceDecision.objects.filter(conference=conference).exists()
    decision = conference_decision_add(
        conference=conference, by=coordinator, text="Škola zajistí doučování.", owner_user=teacher, due_on=TODAY
    )
    assert decision.due_on == TODAY


def test_the_decision_form_refuses_a_past_due_date(frozen: None) -> None:
    form = ConferenceDecisionForm({"text": "Doučování.", "owner": "", "due_on": "2026-12-03"}, owners=[])
    assert not form.is_valid()
    assert form.errors["due_on"] == [gettext("A due date cannot be in the past.")]
