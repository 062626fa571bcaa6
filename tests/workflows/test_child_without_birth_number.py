"""Children without a birth number (a newborn, a foreign or unaccompanied child, a number nobody knows): triage opens
their case by name and date of birth; the number is added later, a duplicate is offered as a merge that a supervisor
other than the proposer approves, and the merge keeps both histories. Possible-duplicate hints come from a keyed
blind index of name and date of birth, for the authority's OSPOD staff only. Every name and number is fictional."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from casework.models import (
    Case,
    CaseStatus,
    Child,
    ChildMerge,
    ChildMergeGround,
    ChildMergeStatus,
    Report,
    ReportStatus,
    User,
)
from casework.selectors import child_find_by_birth_number
from casework.selectors.cases import open_case_of_child
from casework.selectors.children import identity_index
from casework.selectors.identity import child_possible_duplicates, children_matching_identity
from casework.services import child_add_birth_number, child_create, child_merge_decide, child_merge_propose
from permissions import gate
from permissions.access import load_case_access
from permissions.models import AuditEvent
from tests.factories.cases import open_case
from tests.factories.children import register_child, synthetic_birth_number

from .conftest import BORN, CHILD_FAMILY, CHILD_GIVEN, child_identity, client_for, file_report, html, triage

pytestmark = pytest.mark.django_db

PRAGUE = ZoneInfo("Europe/Prague")
NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=PRAGUE)
NUMBER = synthetic_birth_number(BORN, serial=731)


def _without_number(by: User, **overrides: object) -> Child:
    values: dict[str, object] = {
        "municipality": by.organisation.municipality,  # type: ignore[union-attr]
        "given_name": CHILD_GIVEN,
        "family_name": CHILD_FAMILY,
        "date_of_birth": BORN,
        "birth_number": "",
        "address": "",
        "representatives": [],
        "created_by": by,
    }
    values.update(overrides)
    return child_create(**values)  # type: ignore[arg-type]


# --- Triage and case opening without a birth number -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "estimated", "other"),
    [
        (BORN, False, ""),  # the notifier knew the date of birth, not the number
        (datetime.date(2025, 12, 30), False, ""),  # a newborn, no number issued yet
        (datetime.date(2012, 1, 1), True, "cestovní pas UA FX000000 (smyšlený)"),  # a foreign child, age estimated
    ],
)
def test_triage_opens_the_case_of_a_child_without_a_birth_number(
    teacher: User, supervisor: User, coordinator: User, born: datetime.date, estimated: bool, other: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        report = file_report(teacher, child_birth_number="", child_date_of_birth=born)
        triage(
            report,
            supervisor,
            coordinator=coordinator,
            child=child_identity(
                birth_number="", date_of_birth=born, date_of_birth_estimated=estimated, other_identifiers=other
            ),
        )
    assert report.status == ReportStatus.CASE_OPENED
    assert report.child is not None
    child = report.child
    assert (child.birth_number_index, child.date_of_birth_estimated) == (None, estimated)
    assert child.identity_index == identity_index(CHILD_GIVEN, CHILD_FAMILY, born)
    case = open_case_of_child(child=child)
    assert case is not None
    assert (case.coordinator, case.opened_at) == (coordinator, NOW)
    shown = gate.read(coordinator, child, ["birth_number", "date_of_birth", "other_identifiers"], purpose="test")
    assert shown.values == {
        "birth_number": None,
        "date_of_birth": born.isoformat(),
        "other_identifiers": other or None,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"date_of_birth": None}, "date_of_birth"),  # neither a number nor a date
        ({"date_of_birth": datetime.date(2026, 3, 3)}, "date_of_birth"),  # in the future
        ({"given_name": ""}, "given_name"),
        ({"birth_number": "150505/7310"}, "birth_number"),  # a mistyped number is not silently dropped
    ],
)
def test_a_child_without_a_number_still_needs_a_name_and_a_plausible_date(
    coordinator: User, overrides: dict[str, object], field: str
) -> None:
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as caught:
        _without_number(coordinator, **overrides)
    assert field in caught.value.message_dict
    assert not Child.objects.exists()


def test_the_triage_page_offers_a_registered_child_with_the_same_name_and_date(
    teacher: User, supervisor: User, coordinator: User
) -> None:
    known = _without_number(coordinator, given_name="VÍT", family_name="Zkusebny")  # same child, typed differently
    report = file_report(teacher, child_birth_number="")
    from workflows import tasks

    from .conftest import triage_task

    task = triage_task(report)
    tasks.task_claim(task=task, user=supervisor)
    client = client_for(supervisor)
    page = html(client.get(reverse("task_detail", kwargs={"task_id": task.pk})))
    assert str(known.pk) in page
    response = client.post(
        reverse("task_detail", kwargs={"task_id": task.pk}),
        {
            "urgent": "standard",
            "at_risk": "yes",
            "coordinator": str(coordinator.pk),
            "given_name": CHILD_GIVEN,
            "family_name": CHILD_FAMILY,
            "date_of_birth": BORN.isoformat(),
            "same_as": str(known.pk),
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.child_id == known.pk
    assert Child.objects.count() == 1


# --- Blind-index hints -----------------------------------------------------------------------------------------------


def test_hints_match_by_blind_index_for_the_authoritys_ospod_staff_only(
    coordinator: User, supervisor: User, teacher: User, foreign_worker: User
) -> None:
    first = _without_number(coordinator)
    second = _without_number(coordinator, given_name="  vít ", family_name="ZKUŠEBNÝ")
    _without_number(coordinator, date_of_birth=BORN + datetime.timedelta(days=1))  # another child

    assert child_possible_duplicates(user=coordinator, child=first) == [second]
    assert child_possible_duplicates(user=supervisor, child=second) == [first]
    for outsider in (teacher, foreign_worker):
        assert child_possible_duplicates(user=outsider, child=first) == []
        assert (
            children_matching_identity(
                user=outsider,
                municipality_id=first.municipality_id,
                given_name=CHILD_GIVEN,
                family_name=CHILD_FAMILY,
                date_of_birth=BORN,
            )
            == []
        )


def test_the_hint_index_is_keyed_and_holds_no_plaintext(coordinator: User) -> None:
    child = _without_number(coordinator)
    assert child.identity_index is not None
    assert re.fullmatch(r"[0-9a-f]{64}", child.identity_index)
    with connection.cursor() as cursor:
        cursor.execute("SELECT identity_index FROM casework_child WHERE id = %s", [child.pk.hex])
        rows = cursor.fetchall() or []
    if not rows:  # PostgreSQL stores the uuid natively
        with connection.cursor() as cursor:
            cursor.execute("SELECT identity_index FROM casework_child WHERE id = %s", [child.pk])
            rows = cursor.fetchall()
    stored = rows[0][0]
    assert CHILD_FAMILY.lower() not in stored
    assert BORN.isoformat() not in stored
    with override_settings(BLIND_INDEX_KEY="b" * 44):
        assert identity_index(CHILD_GIVEN, CHILD_FAMILY, BORN) != stored


def test_only_ospod_staff_of_the_authority_see_hints_on_the_child_page(
    coordinator: User, supervisor: User, foreign_worker: User
) -> None:
    first = _without_number(coordinator)
    _without_number(coordinator)
    page = html(client_for(supervisor).get(reverse("child_detail", kwargs={"child_id": first.pk})))
    assert 'id="duplicates-heading"' in page
    assert client_for(foreign_worker).get(reverse("child_detail", kwargs={"child_id": first.pk})).status_code == 404


# --- Adding the birth number later; duplicate; merge ----------------------------------------------------------------


def test_adding_the_number_later_makes_the_child_findable_and_is_audited(coordinator: User) -> None:
    child = _without_number(coordinator)
    result = child_add_birth_number(child=child, birth_number=NUMBER, by=coordinator)
    assert (result.recorded, result.merge) == (True, None)
    assert child_find_by_birth_number(user=coordinator, birth_number=NUMBER) == child
    write = AuditEvent.objects.filter(actor=coordinator, purpose="add birth number", action="write").get()
    assert write.field_names == ["birth_number"]


def test_an_estimated_date_gives_way_to_the_numbers_an_exact_one_must_agree(coordinator: User) -> None:
    estimated = _without_number(coordinator, date_of_birth=datetime.date(2015, 1, 1), date_of_birth_estimated=True)
    child_add_birth_number(child=estimated, birth_number=NUMBER, by=coordinator)
    estimated.refresh_from_db()
    assert not estimated.date_of_birth_estimated
    assert gate.read(coordinator, estimated, ["date_of_birth"], purpose="test").get("date_of_birth") == "2015-05-05"

    exact = _without_number(coordinator, date_of_birth=datetime.date(2015, 1, 2))
    with pytest.raises(ValidationError) as caught:
        child_add_birth_number(child=exact, birth_number=synthetic_birth_number(BORN), by=coordinator)
    assert "date_of_birth" in caught.value.message_dict
    exact.refresh_from_db()
    assert exact.birth_number_index is None


def test_a_number_already_registered_proposes_a_merge_and_records_nothing(coordinator: User) -> None:
    registered = register_child(by=coordinator, born=BORN, birth_number=NUMBER, female=False)
    unnumbered = _without_number(coordinator)
    result = child_add_birth_number(child=unnumbered, birth_number=NUMBER, by=coordinator)
    assert result.recorded is False
    assert result.merge is not None
    assert (result.merge.source, result.merge.target, result.merge.ground, result.merge.status) == (
        unnumbered,
        registered,
        ChildMergeGround.BIRTH_NUMBER,
        ChildMergeStatus.PENDING,
    )
    unnumbered.refresh_from_db()
    assert (unnumbered.birth_number_index, unnumbered.merged_into_id) == (None, None)


def test_a_supervisor_who_did_not_propose_approves_and_both_histories_are_kept(
    coordinator: User, supervisor: User, second_supervisor: User, teacher: User
) -> None:
    registered = register_child(by=coordinator, born=BORN, birth_number=NUMBER, female=False)
    unnumbered = _without_number(coordinator)
    closed = open_case(coordinator=coordinator, child=registered)
    Case.objects.filter(pk=closed.pk).update(
        status=CaseStatus.CLOSED, closed_at=NOW, close_reason="goals_met"
    )  # the registered child's earlier, closed file
    report = file_report(teacher, child_birth_number="")
    triage(report, supervisor, coordinator=coordinator, child=child_identity(birth_number="", same_as=unnumbered.pk))
    assert report.child_id == unnumbered.pk
    assert report.case is not None
    moved = report.case
    merge = child_add_birth_number(child=unnumbered, birth_number=NUMBER, by=supervisor).merge
    assert merge is not None

    for who in (supervisor, coordinator):  # the proposer (four eyes) and a worker who is no supervisor
        with pytest.raises(PermissionDenied):
            child_merge_decide(merge=merge, by=who, approve=True)
    decided = child_merge_decide(merge=merge, by=second_supervisor, approve=True)

    assert (decided.status, decided.decided_by) == (ChildMergeStatus.APPROVED, second_supervisor)
    unnumbered.refresh_from_db()
    assert (unnumbered.merged_into_id, unnumbered.merged_at is not None) == (registered.pk, True)
    assert set(registered.cases.values_list("pk", flat=True)) == {closed.pk, moved.pk}
    assert open_case_of_child(child=registered) == moved
    assert Report.objects.get(pk=report.pk).child_id == registered.pk
    # Access afterwards: the coordinator still leads the moved case; the entry that carries on finds it.
    assert load_case_access(coordinator, Case.objects.get(pk=moved.pk)).visible
    assert child_find_by_birth_number(user=coordinator, birth_number=NUMBER) == registered
    # The merged entry's own identity and audit rows stay readable where they were.
    assert gate.read(coordinator, unnumbered, ["given_name"], purpose="test").get("given_name") == CHILD_GIVEN
    assert AuditEvent.objects.filter(object_id=str(unnumbered.pk), purpose="register child").exists()
    assert AuditEvent.objects.filter(case_id=moved.pk, purpose="decide merge of register entries").exists()
    page = html(client_for(coordinator).get(reverse("child_detail", kwargs={"child_id": registered.pk})))
    assert moved.reference in page


def test_a_merge_of_two_children_with_open_cases_is_refused_and_nothing_changes(
    coordinator: User, supervisor: User, second_supervisor: User
) -> None:
    registered = register_child(by=coordinator, born=BORN, birth_number=NUMBER, female=False)
    unnumbered = _without_number(coordinator)
    first = open_case(coordinator=coordinator, child=registered)
    second = open_case(coordinator=coordinator, child=unnumbered)
    merge = child_add_birth_number(child=unnumbered, birth_number=NUMBER, by=supervisor).merge
    assert merge is not None
    with pytest.raises(ValidationError) as caught:
        child_merge_decide(merge=merge, by=second_supervisor, approve=True)
    assert first.reference in " ".join(caught.value.messages)
    merge.refresh_from_db()
    unnumbered.refresh_from_db()
    assert merge.status == ChildMergeStatus.PENDING
    assert unnumbered.merged_into_id is None
    assert (Case.objects.get(pk=first.pk).child_id, Case.objects.get(pk=second.pk).child_id) == (
        registered.pk,
        unnumbered.pk,
    )


def test_a_rejected_merge_keeps_the_entries_apart(coordinator: User, supervisor: User, second_supervisor: User) -> None:
    first = _without_number(coordinator)
    second = _without_number(coordinator)
    merge = child_merge_propose(source=first, target=second, by=coordinator)
    assert merge.ground == ChildMergeGround.NAME_AND_BIRTH_DATE
    with pytest.raises(ValidationError):
        child_merge_propose(source=first, target=second, by=supervisor)  # one pending merge per entry
    child_merge_decide(merge=merge, by=supervisor, approve=False)
    first.refresh_from_db()
    assert first.merged_into_id is None
    assert ChildMerge.objects.get().status == ChildMergeStatus.REJECTED
    assert Report.objects.count() == 0
