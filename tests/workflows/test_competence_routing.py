"""Local competence (§ 61): a report lands in the triage queue of the ORP of the child's permanent residence, or of
the place where the child was found; an ORP outside the product gets the report forwarded with a cover letter; a
birth number registered in another ORP gets a neutral answer and a "is this child known" request."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from casework.models import (
    CompetenceBasis,
    KnownChildAnswer,
    KnownChildRequest,
    Municipality,
    Report,
    ResidenceMunicipality,
    Role,
    User,
)
from casework.services.competence import (
    competence_ensure_defaults,
    known_child_request_answer,
    known_child_request_create,
)
from notifications.models import Kind, Notification
from permissions.models import AuditEvent
from tests.factories import UserFactory
from tests.factories.children import register_child
from workflows import selectors

from .conftest import (
    BIRTH_NUMBER,
    BORN,
    CHILD_FAMILY,
    FACTS,
    child_identity,
    client_for,
    file_report,
    form_data,
    html,
    triage,
    triage_task,
)

pytestmark = pytest.mark.django_db

PRAGUE = ZoneInfo("Europe/Prague")
MORNING = datetime.datetime(2026, 4, 14, 9, 30, tzinfo=PRAGUE)


@pytest.fixture(autouse=True)
def region(db: None) -> None:
    """The Olomouc Region's table (a transactional test's flush may have removed the migration's rows)."""
    competence_ensure_defaults()


@pytest.fixture
def prostejov_worker(foreign_supervisor: User) -> User:
    """An OSPOD worker of Prostějov (beside its supervisor, ``foreign_supervisor``)."""
    return UserFactory.create(
        username="pracovnice_pv", role=Role.OSPOD_WORKER, organisation=foreign_supervisor.organisation
    )


def _queue(user: User) -> list[str | None]:
    return [row.report_reference for row in selectors.team_queue(user=user, task_type="triage").rows]


# --- Routing --------------------------------------------------------------------------------------------------------

ROUTES = [
    # (residence, found elsewhere, found place, competent ORP code, forwarded to, basis)
    ("Olomouc", False, "", "OM", None, CompetenceBasis.RESIDENCE),
    ("Bystrovany", False, "", "OM", None, CompetenceBasis.RESIDENCE),
    ("Plumlov", False, "", "PV", None, CompetenceBasis.RESIDENCE),
    ("prostějov", False, "", "PV", None, CompetenceBasis.RESIDENCE),
    # § 61(3)(a), (4): a child living in Olomouc found without care in Plumlov → Prostějov acts.
    ("Olomouc", True, "Plumlov", "PV", None, CompetenceBasis.FOUND),
    ("", True, "Plumlov", "PV", None, CompetenceBasis.FOUND),
    # A child of Plumlov found in Olomouc → Olomouc.
    ("Plumlov", True, "Olomouc", "OM", None, CompetenceBasis.FOUND),
    # Přerov does not use the product: the filer's authority receives it, marked for forwarding.
    ("Kojetín", False, "", "OM", "PR", CompetenceBasis.RESIDENCE),
    ("Olomouc", True, "Tovačov", "OM", "PR", CompetenceBasis.FOUND),
]


@pytest.mark.parametrize(("residence", "found_elsewhere", "found_place", "code", "forward", "basis"), ROUTES)
def test_report_goes_to_the_orp_of_residence_or_where_the_child_was_found(
    teacher: User,
    supervisor: User,
    foreign_supervisor: User,
    residence: str,
    found_elsewhere: bool,
    found_place: str,
    code: str,
    forward: str | None,
    basis: str,
) -> None:
    with time_machine.travel(MORNING, tick=False):
        report = file_report(
            teacher,
            residence_municipality=residence,
            found_elsewhere=found_elsewhere,
            found_municipality=found_place,
        )
    assert report.municipality.code == code
    assert report.competence_basis == basis
    assert (report.forward_to.code if report.forward_to else None) == forward
    assert report.reference.startswith(f"{code} OZN 2026/")
    assert report.received_at == MORNING
    competent_supervisor, other_supervisor = (
        (supervisor, foreign_supervisor) if code == "OM" else (foreign_supervisor, supervisor)
    )
    assert _queue(competent_supervisor) == [report.reference]
    assert _queue(other_supervisor) == []
    told = set(Notification.objects.filter(kind=Kind.REPORT_RECEIVED).values_list("recipient_id", flat=True))
    assert told == {competent_supervisor.pk}


def test_report_without_a_municipality_from_staff_stays_with_their_authority(coordinator: User) -> None:
    report = file_report(coordinator, channel="phone", notifier_kind="other_person", notifier_name="Soused")
    assert report.municipality.code == "OM"
    assert report.competence_basis == ""
    assert report.forward_to is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"residence_municipality": "Neexistov"}, "residence_municipality"),
        (
            {"residence_municipality": "Olomouc", "found_elsewhere": True, "found_municipality": ""},
            "found_municipality",
        ),
        (
            {"residence_municipality": "", "found_elsewhere": True, "found_municipality": "Atlantida"},
            "found_municipality",
        ),
    ],
)
def test_unknown_municipality_is_a_field_error_and_nothing_is_written(
    teacher: User, supervisor: User, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        file_report(teacher, **overrides)
    assert field in raised.value.message_dict
    assert Report.objects.count() == 0
    assert Notification.objects.count() == 0


def test_same_municipality_name_in_two_orps_asks_to_choose(teacher: User, supervisor: User) -> None:
    ResidenceMunicipality.objects.create(orp=Municipality.objects.get(code="PR"), name="Babice")
    with pytest.raises(ValidationError) as raised:
        file_report(teacher, residence_municipality="Babice")
    assert "residence_municipality" in raised.value.message_dict


def test_partner_form_requires_where_the_child_lives_and_offers_the_list(
    teacher: User, supervisor: User, foreign_supervisor: User
) -> None:
    client = client_for(teacher)
    page = html(client.get(reverse("report_create")))
    assert 'list="municipalities"' in page
    assert '<option value="Plumlov">' in page
    response = client.post(reverse("report_create"), form_data(residence_municipality=""))
    assert response.status_code == 200
    assert 'id="id_residence_municipality_error"' in html(response)
    assert Report.objects.count() == 0
    typo = client.post(reverse("report_create"), form_data(residence_municipality="Olomoucc"))
    assert typo.status_code == 200
    assert 'id="id_residence_municipality_error"' in html(typo)
    assert Report.objects.count() == 0
    filed = client.post(reverse("report_create"), form_data(residence_municipality="Plumlov"))
    assert filed.status_code == 302
    assert Report.objects.get().municipality.code == "PV"


# --- Forwarding to an ORP outside the product -------------------------------------------------------------------------


def test_cover_letter_for_a_report_forwarded_to_an_orp_outside_the_product(teacher: User, supervisor: User) -> None:
    Municipality.objects.filter(code="PR").update(ospod_address="Magistrát města Přerova, Bratrská 34, 750 02 Přerov")
    report = file_report(teacher, residence_municipality="Kojetín")
    detail = html(client_for(supervisor).get(reverse("report_detail", args=[report.pk])))
    assert reverse("report_cover_letter", args=[report.pk]) in detail
    letter = client_for(supervisor).get(reverse("report_cover_letter", args=[report.pk]))
    assert letter.status_code == 200
    text = html(letter)
    assert report.reference in text
    assert "Přerov" in text
    assert "Bratrská 34" in text
    assert "Kojetín" in text
    # The letter names the file, never its content.
    assert FACTS not in text
    assert CHILD_FAMILY not in text
    # The partner who filed it and another authority get the same 404 as for a report that does not exist.
    assert client_for(teacher).get(reverse("report_cover_letter", args=[report.pk])).status_code == 404
    routed = file_report(teacher, residence_municipality="Olomouc")
    assert client_for(supervisor).get(reverse("report_cover_letter", args=[routed.pk])).status_code == 404


# --- A birth number registered in another ORP -------------------------------------------------------------------------


def test_birth_number_of_another_orp_gets_a_neutral_answer_and_a_known_child_request(
    teacher: User, supervisor: User, coordinator: User, foreign_supervisor: User, prostejov_worker: User
) -> None:
    register_child(by=prostejov_worker, birth_number=BIRTH_NUMBER, born=BORN, address="Plumlov 3")
    report = file_report(teacher, residence_municipality="Olomouc")
    task = triage_task(report)
    client = client_for(supervisor)
    client.post(reverse("task_claim", args=[task.pk]))
    page = html(client.get(reverse("task_detail", args=[task.pk])))
    # Neutral: no "already registered", no name of the other ORP, the offer to ask.
    assert reverse("known_child_ask", args=[report.pk]) in page
    assert "Prostějov" not in page
    with pytest.raises(ValidationError) as raised:
        triage(report, supervisor, coordinator=coordinator, child=child_identity())
    message = " ".join(raised.value.message_dict["birth_number"])
    assert "Prostějov" not in message
    assert KnownChildRequest.objects.count() == 0

    asked = client.post(reverse("known_child_ask", args=[report.pk]))
    assert asked.status_code == 302
    request = KnownChildRequest.objects.get()
    assert (request.requesting_municipality.code, request.asked_municipality.code) == ("OM", "PV")
    note = Notification.objects.get(kind=Kind.KNOWN_CHILD_ASKED)
    assert note.recipient_id == foreign_supervisor.pk
    assert note.case_reference == report.reference
    assert note.object_type == "casework.knownchildrequest"
    assert AuditEvent.objects.filter(object_type="casework.knownchildrequest", purpose="ask about known child").exists()
    # Asking twice does not ask twice.
    client.post(reverse("known_child_ask", args=[report.pk]))
    assert KnownChildRequest.objects.count() == 1

    # Only the asked ORP's supervisors answer: the asker's staff and the asked ORP's workers are refused.
    for outsider in (supervisor, prostejov_worker):
        with pytest.raises(PermissionDenied):
            known_child_request_answer(request=request, answer=KnownChildAnswer.OPEN_CASE, by=outsider)
    with pytest.raises(ValidationError):
        known_child_request_answer(request=request, answer="maybe", by=foreign_supervisor)
    competence_page = html(client_for(foreign_supervisor).get(reverse("competence")))
    assert reverse("known_child_answer", args=[request.pk]) in competence_page
    client_for(foreign_supervisor).post(
        reverse("known_child_answer", args=[request.pk]), {f"k{request.pk}-answer": KnownChildAnswer.NO_OPEN_CASE}
    )
    request.refresh_from_db()
    assert request.answer == KnownChildAnswer.NO_OPEN_CASE
    assert request.answered_by_id == foreign_supervisor.pk
    answered = Notification.objects.get(kind=Kind.KNOWN_CHILD_ANSWERED)
    assert answered.recipient_id == supervisor.pk
    assert AuditEvent.objects.filter(object_type="casework.knownchildrequest", purpose="answer known child").exists()
    # The asker now sees which authority answered what.
    mine = html(client.get(reverse("competence")))
    assert "Prostějov" in mine


def test_known_child_request_needs_a_number_registered_elsewhere(teacher: User, supervisor: User) -> None:
    report = file_report(teacher, residence_municipality="Olomouc")
    with pytest.raises(ValidationError) as raised:
        known_child_request_create(report=report, birth_number=BIRTH_NUMBER, by=supervisor)
    assert "birth_number" in raised.value.message_dict
    assert KnownChildRequest.objects.count() == 0
