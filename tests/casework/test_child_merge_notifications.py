"""A proposed merge of two child register entries reaches the supervisors who may decide it, and the decision reaches
the proposer — in the transaction of the change, with ids only (never the child's name or birth number)."""

from __future__ import annotations

import datetime
from html import escape
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import Child, ChildMerge, SupervisorCover, User
from casework.services import child_add_birth_number, child_create, child_merge_decide, child_merge_propose
from notifications.consumers import _payload
from notifications.models import Kind, Notification
from tests.factories.cases import open_case
from tests.factories.children import register_child, synthetic_birth_number

pytestmark = pytest.mark.django_db

BORN = datetime.date(2016, 4, 11)
GIVEN, FAMILY = "Radovan", "Slučovaný"
NUMBER = synthetic_birth_number(BORN, serial=417)


def _without_number(by: User) -> Child:
    return child_create(
        municipality=by.organisation.municipality,  # type: ignore[union-attr]
        given_name=GIVEN,
        family_name=FAMILY,
        date_of_birth=BORN,
        birth_number="",
        address="",
        representatives=[],
        created_by=by,
    )


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _told(kind: str) -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def _assert_carries_ids_only(row: Notification, merge: ChildMerge) -> None:
    assert (row.case_id, row.case_reference, row.object_type, row.object_id) == (
        None,
        "",
        "casework.childmerge",
        str(merge.pk),
    )
    payload = str(_payload(row, unread=1))  # what the socket carries
    for secret in (GIVEN, FAMILY, NUMBER, NUMBER.replace("/", "")):
        assert secret not in payload
        assert secret not in row.text


def test_a_proposal_tells_the_authoritys_supervisors_but_not_the_proposer_or_anyone_else(
    coordinator: User, supervisor: User, second_supervisor: User, foreign_supervisor: User, teacher: User
) -> None:
    first, second = _without_number(coordinator), _without_number(coordinator)

    merge = child_merge_propose(source=first, target=second, by=coordinator)

    assert _told(Kind.CHILD_MERGE_PROPOSED) == {supervisor.pk, second_supervisor.pk}
    for row in Notification.objects.filter(kind=Kind.CHILD_MERGE_PROPOSED):
        _assert_carries_ids_only(row, merge)


def test_a_supervisor_who_proposes_is_not_told_only_the_other_one_four_eyes(
    coordinator: User, supervisor: User, second_supervisor: User
) -> None:
    register_child(by=coordinator, born=BORN, birth_number=NUMBER, female=False)
    unnumbered = _without_number(coordinator)

    merge = child_add_birth_number(child=unnumbered, birth_number=NUMBER, by=supervisor).merge

    assert merge is not None
    assert _told(Kind.CHILD_MERGE_PROPOSED) == {second_supervisor.pk}


def test_a_refused_proposal_tells_nobody(coordinator: User, supervisor: User) -> None:
    first = _without_number(coordinator)
    with pytest.raises(ValidationError):
        child_merge_propose(source=first, target=first, by=coordinator)
    second = _without_number(coordinator)
    child_merge_propose(source=first, target=second, by=coordinator)
    with pytest.raises(ValidationError):  # one pending merge per entry: the second proposal writes nothing
        child_merge_propose(source=first, target=second, by=coordinator)
    assert Notification.objects.filter(kind=Kind.CHILD_MERGE_PROPOSED).count() == 1


@pytest.mark.parametrize("approve", [True, False])
def test_the_decision_tells_the_proposer_and_not_the_decider(
    coordinator: User, supervisor: User, second_supervisor: User, approve: bool
) -> None:
    first, second = _without_number(coordinator), _without_number(coordinator)
    merge = child_merge_propose(source=first, target=second, by=coordinator)

    child_merge_decide(merge=merge, by=supervisor, approve=approve)

    [row] = Notification.objects.filter(kind=Kind.CHILD_MERGE_DECIDED)
    assert row.recipient_id == coordinator.pk
    _assert_carries_ids_only(row, merge)


def test_a_refused_decision_tells_nobody(coordinator: User, supervisor: User, second_supervisor: User) -> None:
    register_child(by=coordinator, born=BORN, birth_number=NUMBER, female=False)
    registered = Child.objects.get(birth_number_index__isnull=False)
    unnumbered = _without_number(coordinator)
    open_case(coordinator=coordinator, child=registered)
    open_case(coordinator=coordinator, child=unnumbered)
    merge = child_merge_propose(source=unnumbered, target=registered, by=coordinator)

    with pytest.raises(PermissionDenied):  # not a supervisor
        child_merge_decide(merge=merge, by=coordinator, approve=True)
    with pytest.raises(ValidationError):  # both have an open case: nothing is written, nobody is told
        child_merge_decide(merge=merge, by=supervisor, approve=True)

    assert not Notification.objects.filter(kind=Kind.CHILD_MERGE_DECIDED).exists()


def test_the_notifications_lead_to_the_entry_where_the_merge_is_decided_then_to_the_one_that_remains(
    coordinator: User, supervisor: User
) -> None:
    first, second = _without_number(coordinator), _without_number(coordinator)
    merge = child_merge_propose(source=first, target=second, by=coordinator)
    proposed = Notification.objects.get(kind=Kind.CHILD_MERGE_PROPOSED, recipient=supervisor)
    to_decide = reverse("child_detail", kwargs={"child_id": first.pk}) + "#duplicates-heading"

    opened = _client(supervisor).get(reverse("notification_open", kwargs={"notification_id": proposed.pk}))
    assert (opened.status_code, opened["Location"]) == (302, to_decide)
    page = _client(supervisor).get(to_decide.split("#")[0]).content.decode()
    assert reverse("child_merge_decide", kwargs={"merge_id": merge.pk}) in page  # the approve/reject form is there

    child_merge_decide(merge=merge, by=supervisor, approve=True)
    decided = Notification.objects.get(kind=Kind.CHILD_MERGE_DECIDED)
    opened = _client(coordinator).get(reverse("notification_open", kwargs={"notification_id": decided.pk}))
    assert (opened.status_code, opened["Location"]) == (302, reverse("child_detail", kwargs={"child_id": second.pk}))
    # A proposal decided in the meantime leads to the entry that remains too.
    opened = _client(supervisor).get(reverse("notification_open", kwargs={"notification_id": proposed.pk}))
    assert opened["Location"] == reverse("child_detail", kwargs={"child_id": second.pk})


def test_the_list_and_the_email_name_no_child(
    coordinator: User, supervisor: User, mailoutbox: list[Any], settings: Any
) -> None:
    first, second = _without_number(coordinator), _without_number(coordinator)
    child_merge_propose(source=first, target=second, by=coordinator)

    body = _client(supervisor).get(reverse("notification_list")).content.decode()
    assert escape(str(Kind.CHILD_MERGE_PROPOSED.label)) in body  # the kind's sentence: no case, no child
    call_command("notifications_email", "--digest")
    [message] = mailoutbox
    for secret in (GIVEN, FAMILY):
        assert secret not in body
        assert secret not in message.body + message.subject


def test_a_deputy_standing_in_for_the_authoritys_supervisor_is_told_and_finds_the_decision_on_the_childs_page(
    coordinator: User, supervisor: User, foreign_supervisor: User
) -> None:
    """The supervisor of another authority, named deputy while the authority's own is away, is told of the proposal
    and finds the approve/reject form where the notification leads (the child's page, and the register's list)."""
    now = timezone.now()
    SupervisorCover.objects.create(
        supervisor=supervisor,
        deputy=foreign_supervisor,
        municipality_id=supervisor.organisation.municipality_id,  # type: ignore[union-attr]
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=3),
        created_by=supervisor,
    )
    first, second = _without_number(coordinator), _without_number(coordinator)
    merge = child_merge_propose(source=first, target=second, by=coordinator)
    assert foreign_supervisor.pk in _told(Kind.CHILD_MERGE_PROPOSED)
    proposed = Notification.objects.get(kind=Kind.CHILD_MERGE_PROPOSED, recipient=foreign_supervisor)
    client = _client(foreign_supervisor)
    opened = client.get(reverse("notification_open", kwargs={"notification_id": proposed.pk}))
    page = client.get(opened["Location"].split("#")[0])
    assert page.status_code == 200
    decide = reverse("child_merge_decide", kwargs={"merge_id": merge.pk})
    assert decide in page.content.decode()
    listed = client.get(reverse("child_search")).content.decode()  # the register's list of merges to decide
    assert 'id="merges-heading"' in listed
    assert reverse("child_detail", kwargs={"child_id": first.pk}) in listed
