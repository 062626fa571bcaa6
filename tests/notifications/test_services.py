"""Writing notifications: in the caller's transaction, pushed after commit, and written by every service that
creates work for someone (or takes access away)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from casework.compartments import Compartment
from casework.models import Case, CloseReason, HandoverReason, MembershipEndReason, Organisation, User
from casework.services import case_close, coordinator_handover, team_member_end
from notifications.models import NO_REFERENCE_KINDS, Kind, Notification, kind_text
from notifications.services import notify, notify_many
from permissions.sharing import consent_withdraw, share_revoke
from tests.factories import add_member, open_case, ospod_staff, partner, record_consent, share

pytestmark = pytest.mark.django_db


class ChangeFailed(Exception):
    """The change the notification belongs to failed after the notification was written."""


def _rows(user: User) -> list[tuple[str, str, str]]:
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", "case_reference", "object_type")
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What services hand to the channel layer (run the on_commit callbacks to see it)."""
    messages: list[tuple[str, dict[str, Any]]] = []
    layer = get_channel_layer()

    async def record(group: str, message: dict[str, Any]) -> None:
        messages.append((group, message))

    monkeypatch.setattr(layer, "group_send", record)
    return messages


def test_notify_outside_a_transaction_is_a_programming_error(teacher: User) -> None:
    # The test's own transaction wraps everything; leave it to see what a caller without one would get.
    connection = transaction.get_connection()
    atomic = connection.atomic_blocks[:]
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(transaction.TransactionManagementError):
            notify(recipient_id=teacher.pk, kind=Kind.TASK_ASSIGNED)
    finally:
        connection.in_atomic_block = saved
        connection.atomic_blocks = atomic
    assert not Notification.objects.exists()


def test_notify_writes_the_row_and_pushes_only_its_id_after_commit(
    teacher: User, sent: list[tuple[str, dict[str, Any]]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        row = notify(recipient_id=teacher.pk, kind=Kind.TASK_ASSIGNED, case_reference="OM 2026/0007")
        assert sent == []  # nothing before commit
    assert row is not None
    assert len(callbacks) == 1
    assert sent == [(f"user.{teacher.pk}", {"type": "notification.new", "id": row.pk})]
    assert (row.kind, row.case_reference, row.delivered_at, row.read_at) == (
        "task_assigned",
        "OM 2026/0007",
        None,
        None,
    )


def test_a_rolled_back_transaction_writes_and_pushes_nothing(
    teacher: User, sent: list[tuple[str, dict[str, Any]]], django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(ChangeFailed),
        transaction.atomic(),
    ):
        notify(recipient_id=teacher.pk, kind=Kind.TASK_ASSIGNED)
        raise ChangeFailed
    assert callbacks == []
    assert sent == []
    assert not Notification.objects.exists()


def test_the_actor_is_not_notified_and_recipients_get_one_row_each(coordinator: User, teacher: User) -> None:
    with transaction.atomic():
        assert notify(recipient_id=coordinator.pk, kind=Kind.TASK_ASSIGNED, actor_id=coordinator.pk) is None
        rows = notify_many(
            recipient_ids=[teacher.pk, coordinator.pk, teacher.pk], kind=Kind.PLAN_APPROVED, actor_id=coordinator.pk
        )
    assert [row.recipient_id for row in rows] == [teacher.pk]
    assert Notification.objects.count() == 1


def test_an_unknown_kind_is_refused(teacher: User) -> None:
    with pytest.raises(ValueError, match="unknown notification kind"), transaction.atomic():
        notify(recipient_id=teacher.pk, kind="free text about the child")


def test_escalations_are_urgent_whatever_the_caller_says(teacher: User) -> None:
    with transaction.atomic():
        escalation = notify(recipient_id=teacher.pk, kind=Kind.ESCALATION)
        ordinary = notify(recipient_id=teacher.pk, kind=Kind.TASK_ASSIGNED)
        triage = notify(recipient_id=teacher.pk, kind=Kind.REPORT_RECEIVED, urgent=True)
    assert [r.urgent for r in (escalation, ordinary, triage) if r is not None] == [True, False, True]


def test_a_push_failure_is_logged_with_ids_and_swallowed(
    teacher: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    async def broken(group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("redis://secret-host:6379 refused")

    monkeypatch.setattr(get_channel_layer(), "group_send", broken)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        row = notify(recipient_id=teacher.pk, kind=Kind.TASK_ASSIGNED)
    assert row is not None
    assert Notification.objects.get(pk=row.pk).delivered_at is None
    assert f"push failed for ids [{row.pk}]" in caplog.text
    assert "ConnectionError" in caplog.text
    assert "secret-host" not in caplog.text  # the exception's class, never its message


def test_every_kind_has_a_czech_and_an_english_sentence() -> None:
    from django.utils import translation

    for kind in Kind.values:
        if kind in NO_REFERENCE_KINDS:  # the label is the sentence; no case is named
            with translation.override("en"):
                english = kind_text(kind, "OM 2026/0042")
                assert "OM 2026/0042" not in english
            with translation.override("cs"):
                czech = kind_text(kind, "OM 2026/0042")
            assert czech != english, kind
            continue
        with translation.override("en"):
            english = kind_text(kind, "OM 2026/0042")
        with translation.override("cs"):
            czech = kind_text(kind, "OM 2026/0042")
        # "oznámení" is the legal report (a new one, one triaged on duty); a notification is "upozornění"
        if kind not in (Kind.REPORT_RECEIVED, Kind.DUTY_TRIAGE):
            assert "oznámen" not in czech.lower(), kind
        assert "OM 2026/0042" in english
        assert "OM 2026/0042" in czech
        assert czech != english, kind
    with translation.override("cs"):
        assert kind_text(Kind.MEMBERSHIP_ADDED, "OM 2026/0042") == "Byli jste přidáni do týmu případu OM 2026/0042."


# --- The services that notify --------------------------------------------------------------------------------------


def test_opening_a_case_tells_the_coordinator_unless_they_opened_it(coordinator: User, supervisor: User) -> None:
    case = open_case(coordinator=coordinator, opened_by=supervisor)
    assert _rows(coordinator) == [("case_assigned", case.reference, "")]
    open_case(coordinator=supervisor, given_name="Adam")
    assert _rows(supervisor) == []


def test_a_handover_tells_the_new_coordinator(coordinator: User, ospod: Organisation) -> None:
    colleague = ospod_staff(ospod)
    case = open_case(coordinator=coordinator)
    coordinator_handover(case=case, to=colleague, by=coordinator, reason=HandoverReason.WORKLOAD)
    # The case, and the coordinator's open task of the case flow that moved with it (asking the team for inputs).
    assert sorted(_rows(colleague)) == [
        ("case_assigned", case.reference, ""),
        ("task_assigned", case.reference, "viewflow.task"),
    ]
    assert _rows(coordinator) == []


def test_team_changes_tell_the_member(coordinator: User, teacher: User) -> None:
    case = open_case(coordinator=coordinator)
    membership = add_member(case, teacher, coordinator)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
    assert _rows(teacher) == [
        ("membership_added", case.reference, "casework.teammembership"),
        ("membership_ended", case.reference, "casework.teammembership"),
    ]
    row = Notification.objects.get(recipient=teacher, kind=Kind.MEMBERSHIP_ENDED)
    assert (row.case_id, row.object_id) == (case.pk, str(membership.pk))
    assert not row.links_to_case  # the member cannot open it any more


def test_closing_a_case_tells_every_member_whose_membership_ended(coordinator: User, teacher: User) -> None:
    case = open_case(coordinator=coordinator)
    doctor = partner("health", municipality=case.municipality)
    add_member(case, teacher, coordinator)
    add_member(case, doctor, coordinator)
    case_close(case=case, closed_by=coordinator, reason=CloseReason.GOALS_MET)
    for member in (teacher, doctor):
        assert _rows(member)[-1] == ("membership_ended", case.reference, "")
    assert _rows(coordinator) == []


def test_sharing_tells_the_member_or_every_member_of_the_organisation(coordinator: User, teacher: User) -> None:
    case: Case = open_case(coordinator=coordinator)
    colleague = partner("school", org=teacher.organisation)
    outsider = partner("school", org=teacher.organisation)  # same school, not on the team
    add_member(case, teacher, coordinator)
    add_member(case, colleague, coordinator)
    doctor = partner("health", municipality=case.municipality)
    add_member(case, doctor, coordinator)
    Notification.objects.all().delete()

    to_teacher = share(case, coordinator, with_user=teacher, compartment=Compartment.SERVICES)
    assert teacher.organisation is not None
    to_school = share(case, coordinator, with_organisation=teacher.organisation, compartment=Compartment.SERVICES)
    assert _rows(teacher) == [("share_granted", case.reference, "permissions.share")] * 2
    assert _rows(colleague) == [("share_granted", case.reference, "permissions.share")]
    assert _rows(outsider) == []

    share_revoke(share=to_teacher, revoked_by=coordinator)
    share_revoke(share=to_school, revoked_by=coordinator)
    assert [kind for kind, _, _ in _rows(teacher)] == [
        "share_granted",
        "share_granted",
        "share_revoked",
        "share_revoked",
    ]
    assert [kind for kind, _, _ in _rows(colleague)] == ["share_granted", "share_revoked"]

    consent = record_consent(case, coordinator, compartment=Compartment.HEALTH)
    share(case, coordinator, with_user=teacher, compartment=Compartment.HEALTH, consent=consent)
    consent_withdraw(consent=consent, withdrawn_by=coordinator)
    assert [kind for kind, _, _ in _rows(teacher)][-2:] == ["share_granted", "share_revoked"]
    assert _rows(doctor) == []
