"""Access oversight (Kontrola přístupů): the case timeline, the per-person report, filters, exports and verification.

Every protected field of a case, its notes, a consent, a share and a report carries a canary; the coordinator reads
them all (and the audit records it), then the oversight pages and both exports are checked for the canary. They show
who, role, organisation, action, field names, purpose and outcome — and never the content.
"""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pytest_django import DjangoAssertNumQueries

from casework.models import Case, Municipality, Organisation, Role, Sector, User
from casework.services import ReportDetails, report_file
from permissions import audit
from permissions.models import AuditAction, AuditEvent, AuditOutcome, AuditVerification, VerificationTrigger
from permissions.oversight import BREAK_GLASS_PURPOSE_PREFIX
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.cases import add_member, open_case, record_consent, share, write_note

pytestmark = pytest.mark.django_db

CANARY = "KANARKAOVERSIGHT"
NOTE_COMPARTMENTS = ("social", "school", "health", "services", "other", "child_voice")
TABLE = AuditEvent._meta.db_table


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field_errors(page: str) -> str:
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S))


def xlsx_text(content: bytes) -> str:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        "\t".join("" if cell is None else str(cell) for cell in row)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


@pytest.fixture
def canary_case(coordinator: User, teacher: User, supervisor: User) -> Case:
    """A case whose every protected field holds the canary, read in full by its coordinator (audited)."""
    case = open_case(
        coordinator=coordinator,
        given_name=f"{CANARY}Jméno",
        family_name=f"{CANARY}Příjmení",
        address=f"{CANARY} ulice 1, Olomouc",
    )
    add_member(case, teacher, coordinator)
    for compartment in NOTE_COMPARTMENTS:
        write_note(case, coordinator, compartment, f"{CANARY} {compartment} poznámka")
    record_consent(case, coordinator, given_by_name=f"{CANARY} Matka")
    share(case, coordinator, with_user=teacher, compartment="services", purpose=f"{CANARY} účel")
    report_file(
        filed_by=teacher,
        details=ReportDetails(
            facts=f"{CANARY} co škola viděla",
            child_given_name=f"{CANARY}Dítě",
            child_family_name=f"{CANARY}Rodina",
            child_date_of_birth=datetime.date(2015, 6, 1),
            child_address=f"{CANARY} adresa",
        ),
    )
    # The coordinator and the supervisor read the whole file; the teacher tries the sharing page and is refused.
    assert client_for(coordinator).get(reverse("case_detail", args=[case.pk])).status_code == 200
    page = client_for(supervisor).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert CANARY in page  # the canary is really there to be leaked
    client_for(teacher).get(reverse("case_sharing", args=[case.pk]))
    return case


@pytest.fixture
def foreign_case(prostejov: Municipality) -> Case:
    org = OrganisationFactory.create(name="OSPOD Prostějov", sector=Sector.OSPOD, municipality=prostejov)
    worker = UserFactory.create(username="cizi-koord", role=Role.OSPOD_WORKER, organisation=org)
    case = open_case(coordinator=worker, given_name=f"{CANARY}Cizí")
    client_for(worker).get(reverse("case_detail", args=[case.pk]))
    return case


@pytest.fixture
def foreign_supervisor(prostejov: Municipality) -> User:
    org = OrganisationFactory.create(name="OSPOD PV vedení", sector=Sector.OSPOD, municipality=prostejov)
    return UserFactory.create(username="cizi-vedouci", role=Role.SUPERVISOR, organisation=org)


@pytest.fixture
def dpo_elsewhere(olomouc: Municipality) -> User:
    """The DPO sits in the regional office, not in an OSPOD."""
    org = OrganisationFactory.create(name="Krajský úřad", sector=Sector.OTHER, municipality=olomouc)
    return UserFactory.create(username="poverenec", role=Role.DPO, organisation=org)


# --- The case timeline --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["supervisor", "dpo_elsewhere"])
def test_case_timeline_lists_every_access_and_no_content(
    viewer: str, canary_case: Case, coordinator: User, teacher: User, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(viewer)
    response = client_for(user).get(reverse("oversight_case", args=[canary_case.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert CANARY not in page
    rows = re.findall(r'<tr data-seq="(\d+)">', page)
    expected = list(
        AuditEvent.objects.filter(case_id=canary_case.pk).order_by("-seq").values_list("seq", flat=True)[:50]
    )
    assert [int(seq) for seq in rows] == expected
    assert coordinator.username in page
    assert teacher.username in page
    assert "given_name" in page  # field names are shown, values never
    assert canary_case.reference in page
    assert "case page" in page or "case file" in page  # the purpose the gate recorded


def test_case_timeline_shows_refusals_and_roles(canary_case: Case, supervisor: User, teacher: User) -> None:
    denied = AuditEvent.objects.filter(case_id=canary_case.pk, actor=teacher, outcome=AuditOutcome.DENIED)
    assert denied.exists()
    response = client_for(supervisor).get(
        reverse("oversight_case", args=[canary_case.pk]), {"outcome": "denied", "action": "deny"}
    )
    page = response.content.decode()
    assert [int(s) for s in re.findall(r'<tr data-seq="(\d+)">', page)] == sorted(
        denied.values_list("seq", flat=True), reverse=True
    )
    assert str(Role.PARTNER.label) in page
    assert teacher.organisation is not None
    assert teacher.organisation.name in page


def test_break_glass_column_follows_the_audit_row(canary_case: Case, supervisor: User, coordinator: User) -> None:
    event = audit.record_committed(
        actor=supervisor,
        action=AuditAction.READ,
        object_type="casework.case",
        object_id=canary_case.pk,
        fields=["given_name"],
        purpose=f"{BREAK_GLASS_PURPOSE_PREFIX}: night duty",
        outcome=AuditOutcome.ALLOWED,
        case_id=canary_case.pk,
    )
    page = client_for(supervisor).get(reverse("oversight_case", args=[canary_case.pk])).content.decode()
    row = re.search(rf'<tr data-seq="{event.seq}">(.*?)</tr>', page, re.S)
    assert row is not None
    assert "<strong>" in row.group(1)
    others = re.findall(r'<tr data-seq="(\d+)">(.*?)</tr>', page, re.S)
    assert all("<strong>" not in body for seq, body in others if int(seq) != event.seq)


# --- The per-person report ----------------------------------------------------------------------------------------


def test_person_report_lists_what_they_accessed(
    canary_case: Case, foreign_case: Case, coordinator: User, dpo_elsewhere: User
) -> None:
    response = client_for(dpo_elsewhere).get(reverse("oversight_person", args=[coordinator.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert CANARY not in page
    seqs = [int(s) for s in re.findall(r'<tr data-seq="(\d+)">', page)]
    assert seqs == list(AuditEvent.objects.filter(actor=coordinator).order_by("-seq").values_list("seq", flat=True))


# --- Who may look --------------------------------------------------------------------------------------------------


def test_supervisor_sees_only_their_authority(
    canary_case: Case, foreign_case: Case, supervisor: User, foreign_supervisor: User, coordinator: User
) -> None:
    client = client_for(foreign_supervisor)
    assert client.get(reverse("oversight_case", args=[canary_case.pk])).status_code == 404
    assert client.get(reverse("oversight_case_export", args=[canary_case.pk])).status_code == 404
    assert client.get(reverse("oversight_person", args=[coordinator.pk])).status_code == 404
    assert client.get(reverse("oversight_person_export", args=[coordinator.pk])).status_code == 404
    index = client_for(supervisor).get(reverse("oversight")).content.decode()
    assert canary_case.reference in index
    assert foreign_case.reference not in index
    assert "cizi-koord" not in index


def test_dpo_sees_every_authority_and_may_narrow_it(
    canary_case: Case, foreign_case: Case, dpo_elsewhere: User, prostejov: Municipality
) -> None:
    client = client_for(dpo_elsewhere)
    index = client.get(reverse("oversight")).content.decode()
    assert canary_case.reference in index
    assert foreign_case.reference in index
    narrowed = client.get(reverse("oversight"), {"municipality": prostejov.pk}).content.decode()
    assert foreign_case.reference in narrowed
    assert canary_case.reference not in narrowed
    assert client.get(reverse("oversight_case", args=[foreign_case.pk])).status_code == 200


@pytest.mark.parametrize("role", [Role.OSPOD_WORKER, Role.PARTNER, Role.ADMINISTRATOR])
def test_other_roles_are_refused(role: str, canary_case: Case, coordinator: User, ospod: Organisation) -> None:
    user = coordinator if role == Role.OSPOD_WORKER else UserFactory.create(role=role)
    client = client_for(user)
    for url in (
        reverse("oversight"),
        reverse("oversight_export"),
        reverse("oversight_case", args=[canary_case.pk]),
        reverse("oversight_case_export", args=[canary_case.pk]),
        reverse("oversight_person", args=[coordinator.pk]),
        reverse("oversight_anomalies"),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("oversight_verify")).status_code == 403
    assert not AuditVerification.objects.exists()


def test_anonymous_is_sent_to_login(canary_case: Case) -> None:
    response = Client().get(reverse("oversight_case", args=[canary_case.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Filters -------------------------------------------------------------------------------------------------------


def test_bad_filters_give_field_errors_all_at_once(canary_case: Case, supervisor: User) -> None:
    response = client_for(supervisor).get(
        reverse("oversight_case", args=[canary_case.pk]),
        {"date_from": "2026-05-10", "date_to": "2026-05-01", "action": "steal", "outcome": "maybe"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    errors = field_errors(page)
    assert errors.count("<li>") == 3  # the period, the action and the outcome
    assert 'data-seq="' not in page  # a filter that means nothing shows nothing


def test_period_filter_uses_local_days(canary_case: Case, supervisor: User) -> None:
    today = timezone.localdate()
    client = client_for(supervisor)
    url = reverse("oversight_case", args=[canary_case.pk])
    assert (
        'data-seq="' in client.get(url, {"date_from": today.isoformat(), "date_to": today.isoformat()}).content.decode()
    )
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    assert 'data-seq="' not in client.get(url, {"date_to": yesterday}).content.decode()


# --- Exports -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_case_export_has_the_rows_no_content_and_is_audited(
    fmt: str, canary_case: Case, dpo_elsewhere: User, coordinator: User
) -> None:
    expected = AuditEvent.objects.filter(case_id=canary_case.pk).count()
    response = client_for(dpo_elsewhere).get(reverse("oversight_case_export", args=[canary_case.pk]), {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    if fmt == "csv":
        text = response.content.decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
    else:
        text = xlsx_text(response.content)
        lines = [line.split("\t") for line in text.splitlines()]
    assert CANARY not in text
    export = AuditEvent.objects.filter(actor=dpo_elsewhere, action=AuditAction.EXPORT).get()
    # The header, the export's own row (recorded before the file is written: no audit row, no file), every row.
    assert len(lines) == 2 + expected
    assert lines[1][0] == str(export.seq)
    assert coordinator.username in text
    assert canary_case.reference in text
    assert export.case_id == canary_case.pk
    assert export.purpose == f"access oversight export ({fmt})"
    # The export shows in the case's timeline like any access.
    page = client_for(dpo_elsewhere).get(reverse("oversight_case", args=[canary_case.pk])).content.decode()
    assert f'data-seq="{export.seq}"' in page


def test_person_and_index_exports_have_no_content(canary_case: Case, supervisor: User, coordinator: User) -> None:
    client = client_for(supervisor)
    for url in (reverse("oversight_person_export", args=[coordinator.pk]), reverse("oversight_export")):
        for fmt in ("csv", "xlsx"):
            response = client.get(url, {"format": fmt})
            text = response.content.decode("utf-8-sig") if fmt == "csv" else xlsx_text(response.content)
            assert response.status_code == 200
            assert CANARY not in text
            assert coordinator.username in text
    assert AuditEvent.objects.filter(actor=supervisor, action=AuditAction.EXPORT).count() == 4


def test_export_of_bad_filters_is_not_made(canary_case: Case, supervisor: User) -> None:
    response = client_for(supervisor).get(
        reverse("oversight_case_export", args=[canary_case.pk]), {"date_from": "nonsense"}
    )
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_spreadsheet_formulas_are_neutralised(canary_case: Case, supervisor: User, ospod: Organisation) -> None:
    UserFactory.create(username="=cmd", role=Role.OSPOD_WORKER, organisation=ospod)
    trickster = User.objects.get(username="=cmd")
    client_for(trickster).get(reverse("case_detail", args=[canary_case.pk]))
    body = client_for(supervisor).get(reverse("oversight_export"), {"format": "csv"}).content.decode("utf-8-sig")
    assert "'=cmd" in body
    assert "\n=cmd" not in body
    assert ",=cmd" not in body


# --- Paging with a constant number of queries ----------------------------------------------------------------------


def _grow_chain(case: Case, actor: User, rows: int) -> None:
    audit.record_many_committed(
        actor=actor,
        entries=[
            audit.Entry(AuditAction.READ, "casework.case", case.pk, ["given_name"], "case page", "allowed", case.pk)
            for _ in range(rows)
        ],
    )


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("page_name", ["oversight", "oversight_case", "oversight_person"])
def test_pages_have_a_constant_number_of_queries(
    page_name: str,
    canary_case: Case,
    coordinator: User,
    supervisor: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    targets: dict[str, list[object]] = {
        "oversight": [],
        "oversight_case": [canary_case.pk],
        "oversight_person": [coordinator.pk],
    }
    args = targets[page_name]
    url = reverse(page_name, args=args)
    client = client_for(supervisor)
    client.get(url)  # warm the session
    _grow_chain(canary_case, coordinator, 5)
    small = _count_queries(client, url)
    _grow_chain(canary_case, coordinator, 400)
    large = _count_queries(client, url)
    assert small == large
    expected = {"oversight": 9, "oversight_case": 7, "oversight_person": 7}[page_name]  # + the break-glass count
    with django_assert_num_queries(expected):
        client.get(url)


def test_older_pages_continue_where_the_last_ended(canary_case: Case, coordinator: User, supervisor: User) -> None:
    _grow_chain(canary_case, coordinator, 120)
    client = client_for(supervisor)
    url = reverse("oversight_case", args=[canary_case.pk])
    seen: list[int] = []
    next_url: str | None = url
    while next_url:
        page = client.get(next_url).content.decode()
        seen += [int(s) for s in re.findall(r'<tr data-seq="(\d+)">', page)]
        older = re.search(r'<a href="\?([^"]*before=\d+[^"]*)">', page)
        next_url = f"{url}?{older.group(1).replace('&amp;', '&')}" if older else None
    assert seen == list(
        AuditEvent.objects.filter(case_id=canary_case.pk).order_by("-seq").values_list("seq", flat=True)
    )


# --- Verifying the chain -------------------------------------------------------------------------------------------


def test_verify_button_runs_the_verifier_and_shows_the_result(canary_case: Case, supervisor: User) -> None:
    client = client_for(supervisor)
    response = client.post(reverse("oversight_verify"), follow=True)
    run = AuditVerification.objects.get()
    assert run.intact
    assert run.trigger == VerificationTrigger.ON_DEMAND
    assert run.run_by == supervisor
    assert run.rows == AuditEvent.objects.count()
    assert "data-chain-intact" in response.content.decode()


def test_verify_names_the_first_broken_row(
    canary_case: Case, dpo_elsewhere: User, audit_triggers_dropped: None
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET purpose = %s WHERE seq = 3", ["nothing to see"])  # noqa: S608
    page = client_for(dpo_elsewhere).post(reverse("oversight_verify"), follow=True).content.decode()
    run = AuditVerification.objects.get()
    assert not run.intact
    assert run.broken_seq == 3
    assert "data-chain-broken" in page
    assert "3" in page


def test_scheduled_verification_is_shown(canary_case: Case, supervisor: User) -> None:
    from django.core.management import call_command

    call_command("verify_audit_periodic", stdout=io.StringIO())
    run = AuditVerification.objects.get()
    assert run.trigger == VerificationTrigger.SCHEDULED
    assert run.run_by is None
    page = client_for(supervisor).get(reverse("oversight")).content.decode()
    assert "data-chain-intact" in page


def test_operators_verify_audit_stays_as_it_was(canary_case: Case) -> None:
    """The operators' command reports and exits; only the scheduled run and the button keep results."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith("OK:")
    assert not AuditVerification.objects.exists()
