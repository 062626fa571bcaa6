"""Retention and the shredding review: the year-end rule, proposals, decisions, crypto-shredding and the archive.

Every name and text is fictional. The canaries are unique strings written into the file's protected fields; after
destruction nobody can read them, and before it they never appear on the review pages or in the audit chain.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from casework.compartments import Compartment
from casework.crypto.errors import CryptoError, KeyDestroyedError
from casework.models import (
    Case,
    CaseNote,
    Child,
    CloseReason,
    DataKey,
    ExecutionStep,
    KeepReason,
    KeyOwnerType,
    Municipality,
    Organisation,
    Report,
    RetentionReview,
    ReviewDecision,
    ReviewState,
    Role,
    SubstituteCare,
    User,
)
from casework.sealing import Keyring, open_values
from casework.services import case_close
from casework.services.reports import ReportDetails, report_file
from casework.services.retention import (
    retention_decide,
    retention_due,
    retention_due_on,
    retention_execute,
    retention_propose,
)
from permissions import gate
from permissions.access import access_case_by_id
from permissions.models import AuditEvent
from tests.factories.cases import ospod_staff, school_partner, write_note
from tests.factories.children import register_child

pytestmark = pytest.mark.django_db

NOTE_CANARY = "Kanárek-poznámka-5521"
REPORT_CANARY = "Kanárek-oznámení-8830"
CHILD_CANARY = "Kanárková-9147"


def _close_in(case: Case, by: User, closed_on: datetime.date, *, substitute_care: str = "") -> Case:
    """Close through the service, then move the closure to a (fictional) day in the past."""
    case_close(case=case, closed_by=by, reason=CloseReason.GOALS_MET)
    moment = timezone.make_aware(datetime.datetime.combine(closed_on, datetime.time(10, 0)))
    Case.objects.filter(pk=case.pk).update(closed_at=moment, substitute_care=substitute_care)
    case.refresh_from_db()
    return case


def _old_file(
    coordinator: User,
    supervisor: User,
    *,
    closed_on: datetime.date = datetime.date(2009, 6, 30),
    born: datetime.date = datetime.date(2001, 4, 2),
    substitute_care: str = "",
    partner: User | None = None,
) -> Case:
    from casework.services import case_open

    # The file is made when it was (fictional) current: a child of that time, a case opened a year before closing.
    with time_machine.travel(datetime.datetime.combine(closed_on, datetime.time(9, 0)) - datetime.timedelta(days=365)):
        child = register_child(by=coordinator, family_name=CHILD_CANARY, born=born)
        case = case_open(child=child, coordinator=coordinator, opened_by=supervisor, reason="report")
        write_note(case, coordinator, Compartment.SOCIAL, f"Rodina {NOTE_CANARY}")
        if partner is not None:
            report = report_file(
                filed_by=partner,
                details=ReportDetails(
                    facts=f"Pozorování {REPORT_CANARY}",
                    child_given_name="Eliška",
                    child_family_name=CHILD_CANARY,
                    child_date_of_birth=born,
                ),
            )
            Report.objects.filter(pk=report.pk).update(case=case)
    return _close_in(case, supervisor, closed_on, substitute_care=substitute_care)


@pytest.fixture
def records_officer(ospod: Organisation) -> User:
    return ospod_staff(ospod, username="spisovna", is_records_officer=True)


@pytest.fixture
def old_case(coordinator: User, supervisor: User, olomouc: Municipality) -> Case:
    return _old_file(coordinator, supervisor, partner=school_partner(municipality=olomouc))


def _counts() -> tuple[int, int, int, int]:
    return (
        RetentionReview.objects.count(),
        AuditEvent.objects.count(),
        DataKey.objects.filter(destroyed_at__isnull=False).count(),
        Case.objects.filter(file_destroyed_at__isnull=False).count(),
    )


def _decide(review: RetentionReview, by: User, decision: str = ReviewDecision.DESTROY, **kw: Any) -> RetentionReview:
    return retention_decide(review=review, by=by, decision=decision, decision_reference="SK 3/2026", **kw)


def _client(user: User) -> Client:
    """Logged in, the page language pinned to English (the words the tests look for)."""
    client = Client()
    client.force_login(user)
    client.cookies.load({"django_language": "en"})
    return client


# --- The rule -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "majority", "due"),
    [
        (datetime.date(2010, 1, 1), None, datetime.date(2026, 1, 1)),
        (datetime.date(2010, 12, 31), None, datetime.date(2026, 1, 1)),
        # Adopted or fostered: 15 years after the year of coming of age, when that is later…
        (datetime.date(2010, 6, 1), 2015, datetime.date(2031, 1, 1)),
        # …and never shorter than the basic period.
        (datetime.date(2010, 6, 1), 2004, datetime.date(2026, 1, 1)),
    ],
)
def test_period_ends_with_the_fifteenth_calendar_year_after_leaving_the_register(
    left: datetime.date, majority: int | None, due: datetime.date
) -> None:
    assert retention_due_on(left_register_on=left, comes_of_age_year=majority) == due


def test_a_file_is_proposed_on_the_first_of_january_and_not_a_day_earlier(coordinator: User, supervisor: User) -> None:
    case = _old_file(coordinator, supervisor, closed_on=datetime.date(2010, 12, 31))
    with time_machine.travel(
        datetime.datetime(2025, 12, 31, 23, 30, tzinfo=datetime.UTC) - datetime.timedelta(hours=1)
    ):
        assert timezone.localdate() == datetime.date(2025, 12, 31)
        assert retention_propose() == []
    with time_machine.travel(datetime.datetime(2025, 12, 31, 23, 30, tzinfo=datetime.UTC)):
        assert timezone.localdate() == datetime.date(2026, 1, 1)  # Prague is an hour ahead
        proposed = retention_propose()
    assert [item.case_id for item in proposed] == [case.pk]
    review = RetentionReview.objects.get(case=case)
    assert review.state == ReviewState.PROPOSED
    assert review.due_on == datetime.date(2026, 1, 1)


def test_a_file_closed_late_on_new_years_eve_in_prague_counts_in_the_new_year(
    coordinator: User, supervisor: User
) -> None:
    case = _old_file(coordinator, supervisor)
    # 31 December 2009, 23:30 UTC is 1 January 2010 in Prague: the child left the register in 2010.
    Case.objects.filter(pk=case.pk).update(closed_at=datetime.datetime(2009, 12, 31, 23, 30, tzinfo=datetime.UTC))
    assert retention_due(today=datetime.date(2025, 12, 31)) == []
    assert [d.due_on for d in retention_due(today=datetime.date(2026, 1, 1))] == [datetime.date(2026, 1, 1)]


def test_an_adopted_child_s_file_is_kept_until_fifteen_years_after_they_come_of_age(
    coordinator: User, supervisor: User
) -> None:
    case = _old_file(
        coordinator,
        supervisor,
        closed_on=datetime.date(2005, 3, 1),
        born=datetime.date(2003, 5, 5),  # comes of age in 2021
        substitute_care=SubstituteCare.ADOPTION,
    )
    assert retention_due(today=datetime.date(2036, 12, 31)) == []
    due = retention_due(today=datetime.date(2037, 1, 1))
    assert [(d.case_id, d.due_on) for d in due] == [(case.pk, datetime.date(2037, 1, 1))]
    # The date of birth was read through the gate, as the system, and audited (field name only).
    read = AuditEvent.objects.filter(action="read", object_type="casework.child", actor__isnull=True).last()
    assert read is not None
    assert read.field_names == ["date_of_birth"]
    assert read.case_id == case.pk


def test_closure_records_adoption_and_the_approval_puts_it_on_the_case(coordinator: User, supervisor: User) -> None:
    from casework.services.lifecycle import closure_approve, closure_request

    child = register_child(by=coordinator)
    from casework.services import case_open

    case = case_open(child=child, coordinator=coordinator, opened_by=supervisor, reason="report")
    with pytest.raises(ValidationError) as refused:
        closure_request(
            case=case, by=coordinator, reason=CloseReason.GOALS_MET, final_evaluation="Hotovo.", substitute_care="zoo"
        )
    assert "substitute_care" in refused.value.message_dict
    proposal = closure_request(
        case=case,
        by=coordinator,
        reason=CloseReason.GOALS_MET,
        final_evaluation="Hotovo.",
        substitute_care=SubstituteCare.FOSTER_CARE,
    )
    closure_approve(request=proposal, by=supervisor)
    case.refresh_from_db()
    assert case.substitute_care == SubstituteCare.FOSTER_CARE


# --- The command: dry run, proposals, reruns --------------------------------------------------------------------


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("apply_retention", *args, stdout=out)
    return out.getvalue()


def test_dry_run_lists_what_would_be_proposed_and_changes_nothing(old_case: Case) -> None:
    before = _counts()
    output = _run("--dry-run")
    assert f"Would propose {old_case.reference}" in output
    assert "Would propose 1 file(s)" in output
    assert _counts() == before
    assert CHILD_CANARY not in output
    assert NOTE_CANARY not in output


def test_a_second_run_is_a_no_op(old_case: Case) -> None:
    assert "Proposed 1 file(s)" in _run()
    after_first = _counts()
    assert "Proposed 0 file(s)" in _run()
    assert _counts() == after_first
    proposal = AuditEvent.objects.get(object_type="casework.retentionreview")
    assert proposal.actor_id is None
    assert proposal.case_id == old_case.pk
    assert proposal.field_names == ["state"]


def test_an_open_case_and_a_recent_file_are_never_proposed(coordinator: User, supervisor: User) -> None:
    from casework.services import case_open

    case_open(child=register_child(by=coordinator), coordinator=coordinator, opened_by=supervisor, reason="report")
    _old_file(coordinator, supervisor, closed_on=datetime.date(2011, 1, 1))
    assert retention_due(today=datetime.date(2026, 12, 31)) == []


def test_nothing_is_destroyed_without_a_decision(old_case: Case) -> None:
    _run()
    review = RetentionReview.objects.get(case=old_case)
    keys_before = DataKey.objects.filter(destroyed_at__isnull=False).count()
    with pytest.raises(ValidationError):
        retention_execute(review=review)
    _run()
    _run()
    assert DataKey.objects.filter(destroyed_at__isnull=False).count() == keys_before
    assert Case.objects.get(pk=old_case.pk).file_destroyed_at is None


# --- Deciding -----------------------------------------------------------------------------------------------------


def test_only_a_supervisor_or_the_records_officer_of_the_authority_decides(
    old_case: Case, coordinator: User, records_officer: User, ospod: Organisation, prostejov: Municipality
) -> None:
    retention_propose()
    review = RetentionReview.objects.get(case=old_case)
    from tests.factories import OrganisationFactory, UserFactory

    other_ospod = OrganisationFactory.create(name="OSPOD Prostějov", sector="ospod", municipality=prostejov)
    refused = [
        coordinator,  # an OSPOD worker without the flag
        ospod_staff(other_ospod, role=Role.SUPERVISOR),  # another authority's supervisor
        ospod_staff(other_ospod, is_records_officer=True),  # another authority's records officer
        UserFactory.create(role=Role.DPO, organisation=ospod, is_records_officer=True),
        UserFactory.create(role=Role.ADMINISTRATOR, organisation=None, is_records_officer=True),
    ]
    for user in refused:
        with pytest.raises(PermissionDenied):
            _decide(review, user)
        denial = AuditEvent.objects.filter(actor=user, action="deny").last()
        assert denial is not None
        assert denial.case_id == old_case.pk
    assert RetentionReview.objects.get(pk=review.pk).state == ReviewState.PROPOSED
    decided = _decide(
        review,
        records_officer,
        ReviewDecision.KEEP,
        keep_reason=KeepReason.PROCEEDINGS,
        keep_until=timezone.localdate() + datetime.timedelta(days=400),
    )
    assert decided.state == ReviewState.KEPT
    assert decided.decided_by == records_officer


def test_bad_decisions_get_field_errors_and_change_nothing(old_case: Case, supervisor: User) -> None:
    retention_propose()
    review = RetentionReview.objects.get(case=old_case)
    today = timezone.localdate()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"decision": "burn"}, "decision"),
        ({"decision": ReviewDecision.DESTROY, "decision_reference": ""}, "decision_reference"),
        ({"decision": ReviewDecision.TRANSFER, "decision_reference": "<script>"}, "decision_reference"),
        ({"decision": ReviewDecision.KEEP, "keep_until": today + datetime.timedelta(days=9)}, "keep_reason"),
        ({"decision": ReviewDecision.KEEP, "keep_reason": KeepReason.OTHER, "keep_until": today}, "keep_until"),
        (
            {
                "decision": ReviewDecision.KEEP,
                "keep_reason": KeepReason.OTHER,
                "keep_until": today.replace(year=today.year + 40),
            },
            "keep_until",
        ),
    ]
    for arguments, field in cases:
        with pytest.raises(ValidationError) as error:
            retention_decide(review=review, by=supervisor, **arguments)
        assert field in error.value.message_dict, arguments
    assert RetentionReview.objects.get(pk=review.pk).state == ReviewState.PROPOSED


def test_a_proposal_is_decided_once(old_case: Case, supervisor: User, records_officer: User) -> None:
    retention_propose()
    review = RetentionReview.objects.get(case=old_case)
    _decide(review, supervisor)
    with pytest.raises(ValidationError) as error:
        _decide(review, records_officer, ReviewDecision.TRANSFER)
    assert "decision" in error.value.message_dict


def test_kept_longer_it_is_proposed_again_when_the_day_comes(old_case: Case, supervisor: User) -> None:
    retention_propose()
    review = RetentionReview.objects.get(case=old_case)
    until = timezone.localdate() + datetime.timedelta(days=30)
    _decide(review, supervisor, ReviewDecision.KEEP, keep_reason=KeepReason.ARCHIVE_REQUEST, keep_until=until)
    assert retention_propose() == []
    assert retention_propose(today=until - datetime.timedelta(days=1)) == []
    again = retention_propose(today=until)
    assert [item.again for item in again] == [True]
    review.refresh_from_db()
    assert review.state == ReviewState.PROPOSED
    assert review.decided_by is None
    assert retention_propose(today=until) == []


# --- Destruction --------------------------------------------------------------------------------------------------


def test_after_destruction_nobody_can_decrypt_the_file(old_case: Case, supervisor: User, coordinator: User) -> None:
    retention_propose()
    review = _decide(RetentionReview.objects.get(case=old_case), supervisor)
    assert review.state == ReviewState.DECIDED
    done = retention_execute(review=review)
    assert done.state == ReviewState.EXECUTED
    assert done.step == ExecutionStep.SHREDDED

    report = Report.objects.get(case=old_case)
    for owner_type, owner_id in (
        (KeyOwnerType.CASE, old_case.pk),
        (KeyOwnerType.REPORT, report.pk),
        (KeyOwnerType.CHILD, old_case.child_id),
    ):
        keys = DataKey.objects.filter(owner_type=owner_type, owner_id=owner_id)
        assert keys.exists(), owner_type
        assert not keys.filter(wrapped_key__isnull=False).exists(), owner_type
    note = CaseNote.objects.get(case=old_case)
    for row, field in ((note, "text"), (report, "facts"), (Child.objects.get(pk=old_case.child_id), "family_name")):
        with pytest.raises(KeyDestroyedError) as error:
            open_values(row, [field], Keyring())
        assert str(row.seal_owner_id()) in str(error.value)  # ids, never a value
    # Through the gate, for the coordinator who could read everything: a loud error, not an empty value.
    accessed = access_case_by_id(coordinator, old_case.pk, purpose="test")
    with pytest.raises(CryptoError):
        gate.read_case(coordinator, accessed, [note], ["text"], purpose="test")
    shredded_child = Child.objects.get(pk=old_case.child_id)
    assert shredded_child.shredded_at is not None
    assert shredded_child.birth_number_index is None
    assert _verify_audit().startswith("OK")


def _verify_audit() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_destruction_is_idempotent_and_audited_once(old_case: Case, supervisor: User) -> None:
    retention_propose()
    review = _decide(RetentionReview.objects.get(case=old_case), supervisor)
    retention_execute(review=review)
    after = _counts()
    retention_execute(review=review)
    assert "Proposed 0 file(s)" in _run()
    assert _counts() == after
    shreds = AuditEvent.objects.filter(field_names=["crypto_shred"]).order_by("seq")
    assert {e.object_type for e in shreds} == {"casework.case", "casework.report", "casework.child"}
    assert all("SK 3/2026" in e.purpose and e.actor_id is None for e in shreds)


def test_a_child_with_another_file_still_kept_keeps_their_identity(coordinator: User, supervisor: User) -> None:
    old = _old_file(coordinator, supervisor)
    from casework.services import case_open

    case_open(child=old.child, coordinator=coordinator, opened_by=supervisor, reason="report")  # known again
    retention_propose()
    retention_execute(review=_decide(RetentionReview.objects.get(case=old), supervisor))
    child = Child.objects.get(pk=old.child_id)
    assert child.shredded_at is None
    assert open_values(child, ["family_name"], Keyring())["family_name"] == CHILD_CANARY
    assert not DataKey.objects.filter(owner_id=old.pk, wrapped_key__isnull=False).exists()


def test_the_case_page_shows_the_stub_to_those_who_could_see_the_case(
    old_case: Case, supervisor: User, coordinator: User, records_officer: User
) -> None:
    retention_propose()
    retention_execute(review=_decide(RetentionReview.objects.get(case=old_case), supervisor))
    for user, expected in ((coordinator, 200), (supervisor, 200), (records_officer, 404)):
        client = _client(user)
        response = client.get(f"/cases/{old_case.pk}/")
        assert response.status_code == expected, user
        body = response.content.decode()
        assert NOTE_CANARY not in body
        assert CHILD_CANARY not in body
        if expected == 200:
            assert "destroyed after a shredding review" in body
            assert "SK 3/2026" in body
            listing = client.get("/cases/?status=all").content.decode()
            assert old_case.reference not in listing


# --- Transfer to the archive ----------------------------------------------------------------------------------------


def test_a_transfer_exports_the_whole_file_first_then_destroys_it(
    old_case: Case, records_officer: User, settings: Any, tmp_path: Path
) -> None:
    settings.ARCHIVE_EXPORT_DIR = tmp_path
    retention_propose()
    review = _decide(RetentionReview.objects.get(case=old_case), records_officer, ReviewDecision.TRANSFER)
    done = retention_execute(review=review)
    assert done.state == ReviewState.EXECUTED
    assert done.archive_package
    package = tmp_path / done.archive_package
    assert CHILD_CANARY not in done.archive_package
    assert oct(package.stat().st_mode & 0o777) == "0o600"
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["content.json", "index.html", "metadata.json"]
        metadata = json.loads(archive.read("metadata.json"))
        content = archive.read("content.json").decode()
        page = archive.read("index.html").decode()
    assert metadata["case"]["reference"] == old_case.reference
    assert metadata["shredding_review"]["decision_reference"] == "SK 3/2026"
    for canary in (NOTE_CANARY, REPORT_CANARY, CHILD_CANARY):
        assert canary in content
        assert canary in page
    assert "<script" not in page
    export = AuditEvent.objects.get(action="export", case_id=old_case.pk)
    assert export.field_names == ["archive_package"]
    assert export.actor_id is None
    reads = AuditEvent.objects.filter(
        action="read", case_id=old_case.pk, actor__isnull=True, purpose__contains="archive"
    )
    assert {e.object_type for e in reads} >= {"casework.casenote", "casework.report", "casework.child"}
    assert export.seq < AuditEvent.objects.get(object_type="casework.case", field_names=["crypto_shred"]).seq
    with pytest.raises(KeyDestroyedError):
        open_values(CaseNote.objects.get(case=old_case), ["text"], Keyring())


def test_a_transfer_interrupted_after_the_export_does_not_export_twice(
    old_case: Case, supervisor: User, settings: Any, tmp_path: Path
) -> None:
    settings.ARCHIVE_EXPORT_DIR = tmp_path
    retention_propose()
    review = _decide(RetentionReview.objects.get(case=old_case), supervisor, ReviewDecision.TRANSFER)

    def crash(_: RetentionReview) -> None:
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        retention_execute(review=review, on_keys_destroyed=crash)
    half = RetentionReview.objects.get(pk=review.pk)
    assert half.state == ReviewState.DECIDED
    assert half.step == ExecutionStep.EXPORTED
    # The shredding rolled back whole: every key is still there.
    assert not DataKey.objects.filter(destroyed_at__isnull=False).exists()
    assert "Carried out the decision (transfer)" in _run()
    assert AuditEvent.objects.filter(action="export").count() == 1
    assert RetentionReview.objects.get(pk=review.pk).state == ReviewState.EXECUTED


# --- The review pages ---------------------------------------------------------------------------------------------


def test_review_pages_show_references_and_dates_never_content(old_case: Case, records_officer: User) -> None:
    retention_propose()
    review = RetentionReview.objects.get(case=old_case)
    client = _client(records_officer)
    listing = client.get("/retention/").content.decode()
    detail = client.get(f"/retention/{review.pk}/").content.decode()
    assert old_case.reference in listing
    assert "Record the decision" in detail
    for body in (listing, detail):
        assert NOTE_CANARY not in body
        assert CHILD_CANARY not in body
        assert REPORT_CANARY not in body


def test_deciding_on_the_page_destroys_and_shows_what_was_done(old_case: Case, supervisor: User) -> None:
    retention_propose()
    review = RetentionReview.objects.get(case=old_case)
    client = _client(supervisor)
    bad = client.post(f"/retention/{review.pk}/", {"decision": "destroy", "decision_reference": ""})
    assert bad.status_code == 200
    assert RetentionReview.objects.get(pk=review.pk).state == ReviewState.PROPOSED
    response = client.post(f"/retention/{review.pk}/", {"decision": "destroy", "decision_reference": "SK 3/2026"})
    assert response.status_code == 302
    assert RetentionReview.objects.get(pk=review.pk).state == ReviewState.EXECUTED
    assert Case.objects.get(pk=old_case.pk).file_destroyed_at is not None


def test_the_dpo_sees_every_authority_s_reviews_read_only(old_case: Case, ospod: Organisation) -> None:
    from tests.factories import UserFactory

    retention_propose()
    review = RetentionReview.objects.get(case=old_case)
    dpo = UserFactory.create(role=Role.DPO, organisation=ospod)
    client = _client(dpo)
    page = client.get(f"/retention/{review.pk}/").content.decode()
    assert old_case.reference in page
    assert "Record the decision" not in page
    assert (
        client.post(f"/retention/{review.pk}/", {"decision": "destroy", "decision_reference": "X 1"}).status_code == 403
    )
    assert RetentionReview.objects.get(pk=review.pk).state == ReviewState.PROPOSED


@pytest.mark.parametrize("size", [3, 60])
def test_the_review_list_pages_by_key_in_one_statement(
    size: int, coordinator: User, supervisor: User, django_assert_num_queries: Any
) -> None:
    child = register_child(by=coordinator)
    from casework.services import case_open

    case = case_open(child=child, coordinator=coordinator, opened_by=supervisor, reason="report")
    _close_in(case, supervisor, datetime.date(2005, 1, 1))
    template = Case.objects.get(pk=case.pk)
    rows = []
    for number in range(size):
        copy = Case.objects.create(
            municipality=template.municipality,
            year=2004,
            number=1000 + number,
            reference=f"OM 2004/{1000 + number}",
            child=child,
            status="closed",
            coordinator=coordinator,
            opened_by=coordinator,
            open_reason="report",
            closed_at=template.closed_at,
            closed_by=supervisor,
            close_reason=CloseReason.GOALS_MET,
        )
        rows.append(RetentionReview(case=copy, due_on=datetime.date(2021, 1, 1), proposed_at=timezone.now()))
    RetentionReview.objects.bulk_create(rows)
    from casework.selectors.retention import retention_review_page

    with django_assert_num_queries(1):
        page = retention_review_page(user=supervisor, tab="proposed")
    assert len(page.rows) == min(size, 50)
    if size > 50:
        with django_assert_num_queries(1):
            rest = retention_review_page(user=supervisor, tab="proposed", after=page.next_after)
        assert len(rest.rows) == size - 50
        assert not rest.next_after
        assert {r.id for r in rest.rows}.isdisjoint({r.id for r in page.rows})


# --- Killed mid-destruction (kill -9, PostgreSQL) -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
def test_a_destruction_killed_mid_transaction_resumes_and_never_leaves_half_a_file(
    transactional_db: None, coordinator: User, supervisor: User
) -> None:
    import os
    import select
    import signal
    import subprocess
    import sys
    import time

    case = _old_file(coordinator, supervisor)
    retention_propose()
    review = _decide(RetentionReview.objects.get(case=case), supervisor)
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "RETENTION_PAUSE_IN_SHRED_SECONDS": "120",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "apply_retention"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    seen = ""
    while "Destroying the keys" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1)
        if ready:
            line = process.stdout.readline()
            if not line:
                break
            seen += line
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert "Destroying the keys" in seen, (seen, process.stderr.read() if process.stderr else "")

    # Killed inside the destruction's transaction: the database rolled it back whole. Nothing is half-shredded.
    deadline = time.monotonic() + 30
    while DataKey.objects.filter(destroyed_at__isnull=False).exists() and time.monotonic() < deadline:
        time.sleep(0.2)  # the server notices the dead client; its transaction never committed
    assert not DataKey.objects.filter(destroyed_at__isnull=False).exists()
    assert RetentionReview.objects.get(pk=review.pk).state == ReviewState.DECIDED
    assert Case.objects.get(pk=case.pk).file_destroyed_at is None
    note = CaseNote.objects.get(case=case)
    assert NOTE_CANARY in (open_values(note, ["text"], Keyring())["text"] or "")

    # The next run carries the decision out, once.
    assert "Carried out the decision (destroy)" in _run()
    assert RetentionReview.objects.get(pk=review.pk).state == ReviewState.EXECUTED
    with pytest.raises(KeyDestroyedError):
        open_values(CaseNote.objects.get(case=case), ["text"], Keyring())
    assert "Carried out" not in _run()
    assert _verify_audit().startswith("OK")


def test_the_records_officer_finds_the_review_in_the_menu_and_a_plain_worker_does_not(
    records_officer: User, coordinator: User
) -> None:
    officer = _client(records_officer)
    page = officer.get("/no-such-page/")
    assert "/retention/" in {item["url"] for item in page.context["nav_items"]}
    assert officer.get("/retention/").status_code == 200
    worker = _client(coordinator)
    assert "/retention/" not in {item["url"] for item in worker.get("/no-such-page/").context["nav_items"]}
    assert worker.get("/retention/").status_code == 403


def test_lists_that_name_cases_show_a_destroyed_file_by_reference_alone(
    old_case: Case, supervisor: User, coordinator: User
) -> None:
    from casework.selectors.child_labels import child_label_texts

    assert str(old_case.pk) in child_label_texts(coordinator, [old_case.pk], "test")
    retention_propose()
    retention_execute(review=_decide(RetentionReview.objects.get(case=old_case), supervisor))
    assert child_label_texts(coordinator, [old_case.pk], "test") == {}
