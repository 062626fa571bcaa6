"""Filing a report (oznámení): the partner's form, OSPOD's phone and anonymous entries, what is required, who hears of
it, where it lands — and that its text is ciphertext at rest and never comes back to the partner who filed it."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from viewflow.workflow.models import Process, Task

from casework.models import DataKey, KeyOwnerType, Report, ReportChannel, ReportStatus, Role, User
from casework.services import report_file
from notifications.models import Kind, Notification
from permissions.models import AuditEvent
from tests.factories import UserFactory
from tests.factories.cases import other_partner
from tests.scan import find_in_database
from workflows import selectors
from workflows.flows import ReportFlow, report_receive
from workflows.models import Deadline, DeadlineKind

from .conftest import (
    BIRTH_NUMBER,
    BORN,
    CHILD_ADDRESS,
    CHILD_FAMILY,
    CHILD_GIVEN,
    FACTS,
    NEIGHBOUR,
    NEIGHBOUR_PHONE,
    client_for,
    details,
    field_errors,
    file_report,
    form_data,
    html,
    triage_task,
)

pytestmark = pytest.mark.django_db

NOTHING_SAVED_CS = "Opravte prosím chyby níže. Nic nebylo uloženo."
PROTECTED = [FACTS, CHILD_GIVEN, CHILD_FAMILY, CHILD_ADDRESS, BIRTH_NUMBER, BIRTH_NUMBER.replace("/", "")]


def _main(page: str) -> str:
    """The page's content, without the shell around it (whose forms carry tokens and the current address)."""
    found = re.search(r"<main.*?</main>", page, re.S)
    return found.group(0) if found else ""


def _nothing_written() -> None:
    assert Report.objects.count() == 0
    assert Process.objects.count() == 0
    assert Task.objects.count() == 0
    assert Deadline.objects.count() == 0
    assert Notification.objects.count() == 0
    assert DataKey.objects.filter(owner_type=KeyOwnerType.REPORT).count() == 0


# --- A partner files -----------------------------------------------------------------------------------------------


def test_partner_files_a_report_and_the_supervisors_get_it(teacher: User, supervisor: User, coordinator: User) -> None:
    client = client_for(teacher)
    assert "Podat oznámení" in html(client.get(reverse("report_create")))
    response = client.post(reverse("report_create"), form_data(feedback_requested="on"))

    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("report_filed", kwargs={"report_id": report.pk})
    assert report.channel == ReportChannel.WEB_FORM
    assert report.notifier_kind == "school"
    assert report.notifier_user == teacher
    assert report.recorded_by == teacher
    assert report.municipality == teacher.organisation.municipality  # type: ignore[union-attr]
    assert report.status == ReportStatus.RECEIVED
    assert report.feedback_requested
    assert report.reference == f"OM OZN {report.year}/0001"

    # The supervisors hear of it (the coordinator doesn't), by number only.
    notice = Notification.objects.get(kind=Kind.REPORT_RECEIVED)
    assert notice.recipient == supervisor
    assert notice.case_reference == report.reference
    assert (notice.object_type, notice.object_id) == ("casework.report", str(report.pk))
    assert not notice.urgent
    # … and its triage waits in their team queue, with a deadline from the authority's urgency times.
    task = triage_task(report)
    assert task.owner is None
    assert [row.task_id for row in selectors.team_queue(user=supervisor).rows] == [task.pk]
    assert selectors.team_queue(user=coordinator).rows == []
    assert Deadline.objects.get(task=task).kind == DeadlineKind.TRIAGE
    # The filing is audited by field name.
    written = AuditEvent.objects.get(object_type="casework.report", action="write")
    assert "facts" in written.field_names
    assert written.actor_id == teacher.pk


def test_the_success_page_and_the_filers_list_never_echo_the_report(teacher: User) -> None:
    client = client_for(teacher)
    response = client.post(reverse("report_create"), form_data(feedback_requested="on"), follow=True)
    page = html(response)
    report = Report.objects.get()
    assert report.reference in page
    for text in PROTECTED:
        assert text not in page
        assert text not in response.redirect_chain[-1][0]  # nor in a URL
    listing = html(client.get(reverse("report_list")))
    assert report.reference in listing
    assert "přijato" in listing
    for text in PROTECTED:
        assert text not in listing


def test_the_filer_does_not_read_the_report_back_and_others_get_404(
    teacher: User, paediatrician: User, coordinator: User, dpo: User
) -> None:
    report = file_report(teacher)
    administrator = UserFactory.create(role=Role.ADMINISTRATOR)
    detail = reverse("report_detail", kwargs={"report_id": report.pk})
    missing = reverse("report_detail", kwargs={"report_id": "00000000-0000-4000-8000-000000000000"})
    for user in (teacher, paediatrician, coordinator, dpo, administrator):
        client = client_for(user)
        response = client.get(detail)
        assert response.status_code == 404, user.username
        assert FACTS not in html(response)
        assert _main(html(response)) == _main(html(client.get(missing)))  # no existence oracle
    assert client_for(paediatrician).get(reverse("report_filed", kwargs={"report_id": report.pk})).status_code == 404
    denials = AuditEvent.objects.filter(object_type="casework.report", object_id=str(report.pk), action="deny")
    assert {e.actor_id for e in denials} == {teacher.pk, paediatrician.pk, coordinator.pk, dpo.pk, administrator.pk}


def test_the_report_is_ciphertext_at_rest(teacher: User, coordinator: User) -> None:
    client_for(teacher).post(reverse("report_create"), form_data())
    report_receive(
        filed_by=coordinator,
        details=details(channel=ReportChannel.PHONE, notifier_kind="other_person", notifier_name=NEIGHBOUR),
    )
    assert Report.objects.count() == 2
    # The partner's own name is in the user table, of course; as the notifier of this report it is sealed.
    as_notifier = f"{teacher.display_name()}, {teacher.organisation}"
    assert find_in_database([*PROTECTED, NEIGHBOUR, as_notifier]) == []


def test_urgency_hints_make_the_supervisors_notification_urgent(teacher: User, supervisor: User) -> None:
    client_for(teacher).post(reverse("report_create"), form_data(urgency_hints=["injury"]))
    report = Report.objects.get()
    assert report.urgent_suggested
    assert report.urgency_hints == ["injury"]
    assert Notification.objects.get(recipient=supervisor).urgent


def test_another_authoritys_supervisor_neither_hears_of_it_nor_sees_it(teacher: User, foreign_supervisor: User) -> None:
    report = file_report(teacher)
    assert not Notification.objects.filter(recipient=foreign_supervisor).exists()
    assert selectors.team_queue(user=foreign_supervisor).rows == []
    page = client_for(foreign_supervisor).get(reverse("report_detail", kwargs={"report_id": report.pk}))
    assert page.status_code == 404


# --- Bad input: clear field errors, nothing saved ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ({"child_given_name": ""}, "child_given_name"),
        ({"child_family_name": ""}, "child_family_name"),
        ({"child_date_of_birth": "", "child_birth_number": ""}, "child_date_of_birth"),
        ({"facts": "   "}, "facts"),
    ],
)
def test_missing_child_details_or_facts_are_field_errors_and_nothing_is_saved(
    teacher: User, supervisor: User, missing: dict[str, str], field: str
) -> None:
    response = client_for(teacher).post(reverse("report_create"), form_data(**missing))
    assert response.status_code == 200
    page = html(response)
    assert NOTHING_SAVED_CS in page
    assert field in response.context["form"].errors
    assert field_errors(page)
    _nothing_written()


def test_name_and_either_birth_number_or_date_of_birth_suffice(teacher: User) -> None:
    client = client_for(teacher)
    client.post(reverse("report_create"), form_data(child_birth_number="", child_address=""))
    client.post(reverse("report_create"), form_data(child_date_of_birth=""))
    assert Report.objects.count() == 2


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"child_birth_number": "150505/7315"}, "child_birth_number"),  # check digit
        ({"child_date_of_birth": "2015-05-06"}, "child_date_of_birth"),  # disagrees with the birth number
        ({"child_date_of_birth": "2099-01-01", "child_birth_number": ""}, "child_date_of_birth"),
    ],
)
def test_a_wrong_birth_number_or_date_is_a_field_error(teacher: User, bad: dict[str, str], field: str) -> None:
    response = client_for(teacher).post(reverse("report_create"), form_data(**bad))
    assert field in response.context["form"].errors
    _nothing_written()


def test_the_service_refuses_missing_details_with_field_errors(teacher: User) -> None:
    with pytest.raises(ValidationError) as caught:
        report_receive(
            filed_by=teacher,
            details=details(child_given_name="", child_birth_number="", child_date_of_birth=None, facts=""),
        )
    assert set(caught.value.message_dict) == {"child_given_name", "child_date_of_birth", "facts"}
    _nothing_written()


# --- OSPOD staff enter phone, letter and anonymous reports ---------------------------------------------------------


def test_ospod_staff_get_the_channel_and_notifier_fields_partners_do_not(teacher: User, coordinator: User) -> None:
    staff_form = html(client_for(coordinator).get(reverse("report_create")))
    partner_form = html(client_for(teacher).get(reverse("report_create")))
    for name in ("channel", "notifier_name", "received_at"):
        assert f'name="{name}"' in staff_form
        assert f'name="{name}"' not in partner_form
    assert "anonymous" in staff_form


def test_staff_enter_a_neighbours_phone_call(coordinator: User, supervisor: User) -> None:
    response = client_for(coordinator).post(
        reverse("report_create"),
        form_data(
            channel="phone",
            notifier_kind="other_person",
            notifier_name=NEIGHBOUR,
            notifier_contact=NEIGHBOUR_PHONE,
        ),
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.channel, report.notifier_kind, report.notifier_user, report.recorded_by) == (
        "phone",
        "other_person",
        None,
        coordinator,
    )
    assert Notification.objects.get(kind=Kind.REPORT_RECEIVED).recipient == supervisor


def test_staff_enter_an_anonymous_letter_without_a_name(coordinator: User) -> None:
    client = client_for(coordinator)
    named = client.post(
        reverse("report_create"), form_data(channel="anonymous", notifier_kind="anonymous", notifier_name="Někdo")
    )
    assert "notifier_name" in named.context["form"].errors
    mismatched = client.post(reverse("report_create"), form_data(channel="anonymous", notifier_kind="other_person"))
    assert "notifier_kind" in mismatched.context["form"].errors
    with_feedback = client.post(
        reverse("report_create"), form_data(channel="letter", notifier_kind="anonymous", feedback_requested="on")
    )
    assert "feedback_requested" in with_feedback.context["form"].errors
    _nothing_written()
    ok = client.post(reverse("report_create"), form_data(channel="anonymous", notifier_kind="anonymous"))
    assert ok.status_code == 302
    report = Report.objects.get()
    assert report.notifier_name is None
    assert report.notifier_contact is None


def test_only_a_mandated_notifier_may_ask_for_feedback(coordinator: User, olomouc: object) -> None:
    police = other_partner(municipality=olomouc)
    client = client_for(police)
    refused = client.post(reverse("report_create"), form_data(notifier_kind="other_person", feedback_requested="on"))
    assert "feedback_requested" in refused.context["form"].errors
    _nothing_written()
    accepted = client.post(reverse("report_create"), form_data(notifier_kind="state_body", feedback_requested="on"))
    assert accepted.status_code == 302
    assert Report.objects.get().notifier_kind == "state_body"
    neighbour = client_for(coordinator).post(
        reverse("report_create"),
        form_data(channel="phone", notifier_kind="other_person", notifier_name=NEIGHBOUR, feedback_requested="on"),
    )
    assert "feedback_requested" in neighbour.context["form"].errors


def test_a_letter_received_earlier_keeps_its_date(coordinator: User) -> None:
    response = client_for(coordinator).post(
        reverse("report_create"),
        form_data(
            channel="letter",
            notifier_kind="health",
            notifier_name="Nemocnice Zkušebná, MUDr. Test",
            received_at="2026-01-05T09:30",
        ),
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.received_at.date() == datetime.date(2026, 1, 5)
    assert report.reference.endswith("2026/0001")


# --- Who may not file ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.DPO, Role.ADMINISTRATOR])
def test_the_dpo_and_the_administrator_cannot_file(role: Role, olomouc: object) -> None:
    user = UserFactory.create(role=role)
    assert client_for(user).get(reverse("report_create")).status_code == 403
    with pytest.raises(PermissionDenied):
        report_file(filed_by=user, details=details())
    with pytest.raises(PermissionDenied):
        report_receive(filed_by=user, details=details())
    assert AuditEvent.objects.filter(actor=user, action="deny", object_type="casework.report").count() == 2
    _nothing_written()


def test_the_flow_is_started_in_the_filings_transaction(teacher: User, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("the flow could not start")

    monkeypatch.setattr(ReportFlow.start, "run", broken)
    with pytest.raises(RuntimeError):
        file_report(teacher)
    _nothing_written()


def test_the_filers_list_shows_only_their_own_reports(teacher: User, paediatrician: User) -> None:
    mine = file_report(teacher)
    theirs = file_report(paediatrician, child_given_name="Ema")
    listing = html(client_for(teacher).get(reverse("report_list")))
    assert mine.reference in listing
    assert theirs.reference not in listing
    assert BORN.isoformat() not in listing


def _more_of_the_same(report: Report, count: int) -> list[Report]:
    """``count`` more rows like ``report`` (one a minute older each), without the flow: the list reads dates,
    references and statuses only, so the copies may share the original's envelopes (never opened here)."""
    copies = []
    for n in range(1, count + 1):
        row = Report.objects.get(pk=report.pk)
        row.pk = uuid.uuid4()
        row.number = report.number + n
        row.reference = Report.format_reference(report.municipality.code, report.year, row.number)
        row.received_at = report.received_at - datetime.timedelta(minutes=n)
        copies.append(row)
    Report.objects.bulk_create(copies)
    return copies


def test_the_filers_list_pages_by_key_in_a_fixed_number_of_queries(
    teacher: User, django_assert_num_queries: object
) -> None:
    """Pinned at two sizes (1 and 121 reports: three pages), on the first and a later page; every report once."""
    first = file_report(teacher)
    client = client_for(teacher)
    client.get(reverse("report_list"))

    def count(url: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    small = count(reverse("report_list"))
    _more_of_the_same(first, 120)
    assert count(reverse("report_list")) == small
    seen: list[str] = []
    url: str | None = reverse("report_list")
    while url:
        page = html(client.get(url))
        seen += re.findall(r'<th scope="row">([^<]+)</th>', page)
        older = re.search(r'<a rel="next" href="\?after=([0-9a-f.]+)"', page)
        if older:
            assert count(f"{reverse('report_list')}?after={older.group(1)}") == small
        url = f"{reverse('report_list')}?after={older.group(1)}" if older else None
    expected = list(
        Report.objects.filter(recorded_by=teacher).order_by("-received_at", "-id").values_list("reference", flat=True)
    )
    assert seen == expected
    assert len(seen) == 121
    with django_assert_num_queries(small):  # type: ignore[operator]
        client.get(reverse("report_list"))
