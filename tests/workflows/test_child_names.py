"""The child beside every case number (issue 17): the inbox, the task pages, the plan board and the notification list
name the child (and give their age) next to the case reference, read through the gate for viewers whose policy allows
the case basics — one batched read per page, audited, with a fixed number of queries — while the notification rows
themselves carry no name. And a notification opens what it announces, which answers 404 to someone who lost access.

Every name and text is fictional.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, MembershipEndReason, TeamMembership, User
from casework.selectors.child_labels import child_labels
from casework.services import team_member_end
from casework.services.conferences import conference_schedule
from notifications.models import Kind, Notification
from permissions.models import AuditEvent
from tests.casework.test_plan_views import make_plan
from tests.factories.cases import add_member, open_case

from .conftest import client_for, html
from .test_case_flow import input_task, request

pytestmark = pytest.mark.django_db

#: The paediatrician's inbox with names: session, user, the badge, my tasks, the team queue; the cases and the
#: viewer's standing on them (memberships, shares); one gate read (its audit write and key loads).
INBOX_PAGE_QUERIES = 15
#: Session, user, the list's page (by key, no COUNT: ADR 0027), the digest choice, the badge; the cases and the
#: viewer's standing on them; one gate read (its audit write and key loads).
NOTIFICATION_LIST_QUERIES = 15

#: Fictional children, one per case: (given name, family name, date of birth, female).
CHILDREN = [
    ("Eliška", "Nováková", datetime.date(2014, 3, 9), True),
    ("Tomáš", "Dvořák", datetime.date(2016, 7, 21), False),
    ("Anna", "Malá", datetime.date(2012, 1, 15), True),
    ("Petr", "Veselý", datetime.date(2018, 11, 2), False),
]


def _age(born: datetime.date) -> int:
    today = timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def cases_with_inputs(coordinator: User, member: User, count: int) -> list[Case]:
    """``count`` cases, each with another child, ``member`` on the team and asked for an input (a task each)."""
    opened = []
    for given, family, born, female in CHILDREN[:count]:
        case = open_case(coordinator=coordinator, given_name=given, family_name=family, born=born, female=female)
        add_member(case, member, coordinator)
        request(case, coordinator, [member])
        opened.append(case)
    return opened


# --- The read model --------------------------------------------------------------------------------------------------


def test_labels_name_the_child_and_age_and_each_read_is_audited(coordinator: User, paediatrician: User) -> None:
    first, second = cases_with_inputs(coordinator, paediatrician, 2)
    before = AuditEvent.objects.count()
    labels = child_labels(user=paediatrician, case_ids=[first.pk, second.pk, first.pk, None], purpose="inbox")
    assert labels[first.pk].name == "Eliška Nováková"
    assert labels[first.pk].age == _age(CHILDREN[0][2])
    assert labels[second.pk].name == "Tomáš Dvořák"
    reads = AuditEvent.objects.filter(actor=paediatrician, purpose="inbox", action="read").order_by("seq")
    # One read row per child (the basics' field names, never values), with the case beside it.
    assert AuditEvent.objects.count() - before == 2
    assert {(str(event.case_id), event.object_type) for event in reads} == {
        (str(first.pk), "casework.child"),
        (str(second.pk), "casework.child"),
    }


def test_no_label_for_a_case_the_viewer_may_not_see(coordinator: User, paediatrician: User, teacher: User) -> None:
    (case,) = cases_with_inputs(coordinator, paediatrician, 1)
    before = AuditEvent.objects.count()
    assert child_labels(user=teacher, case_ids=[case.pk], purpose="inbox") == {}
    assert AuditEvent.objects.count() == before  # nothing read, nothing denied: the reference alone is shown


def test_no_ids_no_queries(paediatrician: User, django_assert_num_queries: Callable[..., Any]) -> None:
    with django_assert_num_queries(0):
        assert child_labels(user=paediatrician, case_ids=[], purpose="inbox") == {}


# --- The inbox ------------------------------------------------------------------------------------------------------


def test_the_paediatricians_inbox_names_the_child_beside_each_task(coordinator: User, paediatrician: User) -> None:
    first, second = cases_with_inputs(coordinator, paediatrician, 2)
    page = html(client_for(paediatrician).get(reverse("inbox")))
    # Two tasks with the same title, told apart by the child.
    for case, (given, family, born, _female) in zip((first, second), CHILDREN, strict=False):
        task = input_task(case, paediatrician)
        row = page.split(f'data-task="{task.pk}"', 1)[1].split("</tr>", 1)[0]
        assert case.reference in row
        assert f"{given} {family}" in row
        assert str(_age(born)) in row


def test_the_task_page_names_the_child(coordinator: User, paediatrician: User) -> None:
    (case,) = cases_with_inputs(coordinator, paediatrician, 1)
    page = html(
        client_for(paediatrician).get(reverse("task_detail", kwargs={"task_id": input_task(case, paediatrician).pk}))
    )
    heading, rest = page.split("<h1>", 1)[1].split("</h1>", 1)
    assert case.reference in heading
    # Right under the heading (which stays "task: reference"), the child.
    assert rest.lstrip().startswith('<p class="lead child-label" data-child-label>Eliška Nováková, ')


def test_the_plan_board_names_the_child(coordinator: User, supervisor: User) -> None:
    case = open_case(coordinator=coordinator, given_name="Anna", family_name="Malá", born=CHILDREN[2][2])
    make_plan(case, drafted_by=coordinator, approved_by=supervisor)
    page = html(client_for(coordinator).get(reverse("case_plan", kwargs={"case_id": case.pk})))
    assert "Anna Malá" in page


def test_the_supervisors_team_queue_names_the_child_of_a_plan_awaiting_approval(
    coordinator: User, teacher: User, supervisor: User
) -> None:
    from casework.models import Plan

    from .test_plan_stage import submit, to_plan_stage

    case = open_case(
        coordinator=coordinator, given_name="Petr", family_name="Veselý", born=CHILDREN[3][2], female=False
    )
    add_member(case, teacher, coordinator)
    submit(case, coordinator, to_plan_stage(case, coordinator, teacher))
    assert Plan.objects.filter(case=case, status="submitted").exists()
    page = html(client_for(supervisor).get(reverse("inbox")))
    queue = page.split('id="queue-heading"', 1)[1]
    row = queue.split(case.reference, 1)[1].split("</tr>", 1)[0]
    assert "Petr Veselý" in row


@pytest.mark.parametrize("count", [1, 3])
def test_the_inbox_with_names_runs_the_same_number_of_queries_for_one_case_and_for_many(
    count: int, coordinator: User, paediatrician: User, django_assert_num_queries: Callable[..., Any]
) -> None:
    cases_with_inputs(coordinator, paediatrician, count)
    client = client_for(paediatrician)
    with django_assert_num_queries(INBOX_PAGE_QUERIES):
        page = html(client.get(reverse("inbox")))
    assert page.count("data-child-label") == count


# --- The notification list -------------------------------------------------------------------------------------------


def test_the_notification_list_names_the_child_but_the_rows_do_not(coordinator: User, paediatrician: User) -> None:
    cases_with_inputs(coordinator, paediatrician, 2)
    page = html(client_for(paediatrician).get(reverse("notification_list")))
    assert "Eliška Nováková" in page
    assert "Tomáš Dvořák" in page
    rows = Notification.objects.filter(recipient=paediatrician)
    assert rows.filter(kind=Kind.TASK_ASSIGNED).count() == 2
    for row in rows.values():
        assert not any("Nováková" in str(value) or "Dvořák" in str(value) for value in row.values())


def test_a_former_member_sees_the_reference_only(coordinator: User, paediatrician: User) -> None:
    (case,) = cases_with_inputs(coordinator, paediatrician, 1)
    membership = TeamMembership.objects.get(case=case, user=paediatrician)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
    page = html(client_for(paediatrician).get(reverse("notification_list")))
    assert case.reference in page
    assert "Nováková" not in page


@pytest.mark.parametrize("count", [1, 4])
def test_the_notification_list_runs_the_same_number_of_queries_for_one_case_and_for_many(
    count: int, coordinator: User, paediatrician: User, django_assert_num_queries: Callable[..., Any]
) -> None:
    cases_with_inputs(coordinator, paediatrician, count)
    client = client_for(paediatrician)
    with django_assert_num_queries(NOTIFICATION_LIST_QUERIES):
        page = html(client.get(reverse("notification_list")))
    assert page.count("data-child-label") == 2 * count  # "added to the team" and "new task", per case


# --- Where a notification leads --------------------------------------------------------------------------------------


def _open(user: User, kind: str, case: Case) -> Any:
    row = Notification.objects.filter(recipient=user, kind=kind, case_id=case.pk).latest("id")
    return client_for(user).get(reverse("notification_open", kwargs={"notification_id": row.pk}))


def test_a_task_notification_opens_the_task_and_404s_once_access_is_lost(
    coordinator: User, paediatrician: User
) -> None:
    (case,) = cases_with_inputs(coordinator, paediatrician, 1)
    task = input_task(case, paediatrician)
    response = _open(paediatrician, Kind.TASK_ASSIGNED, case)
    assert response.status_code == 302
    assert response["Location"] == reverse("task_detail", kwargs={"task_id": task.pk})
    assert client_for(paediatrician).get(response["Location"]).status_code == 200

    membership = TeamMembership.objects.get(case=case, user=paediatrician)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
    response = _open(paediatrician, Kind.TASK_ASSIGNED, case)
    assert response["Location"] == reverse("task_detail", kwargs={"task_id": task.pk})
    assert client_for(paediatrician).get(response["Location"]).status_code == 404


def test_a_conference_invitation_opens_the_conference(coordinator: User, paediatrician: User) -> None:
    (case,) = cases_with_inputs(coordinator, paediatrician, 1)
    conference = conference_schedule(
        case=case,
        by=coordinator,
        starts_at=timezone.now() + datetime.timedelta(days=7),
        duration_minutes=60,
        place="Zasedací místnost OSPOD",
        online_link="",
        members=[paediatrician],
        participants=[],
    )
    response = _open(paediatrician, Kind.CONFERENCE_INVITATION, case)
    target = reverse("conference_detail", kwargs={"case_id": case.pk, "conference_id": conference.pk})
    assert response["Location"] == target
    assert client_for(paediatrician).get(target).status_code == 200

    membership = TeamMembership.objects.get(case=case, user=paediatrician)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
    assert client_for(paediatrician).get(target).status_code == 404


def test_a_plan_approval_opens_the_plan_version(coordinator: User, teacher: User, supervisor: User) -> None:
    from .test_plan_stage import decide, submit, to_plan_stage

    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    plan = submit(case, coordinator, to_plan_stage(case, coordinator, teacher))
    decide(case, supervisor)
    response = _open(coordinator, Kind.PLAN_APPROVED, case)
    target = reverse("case_plan_version", kwargs={"case_id": case.pk, "plan_id": plan.pk})
    assert response["Location"] == target
    assert client_for(coordinator).get(target).status_code == 200


# --- A notification that arrives live -------------------------------------------------------------------------------


def test_a_live_notification_gets_the_childs_name_over_http_never_over_the_socket(
    coordinator: User, paediatrician: User
) -> None:
    from notifications.consumers import _payload

    (case,) = cases_with_inputs(coordinator, paediatrician, 1)
    row = Notification.objects.filter(recipient=paediatrician, kind=Kind.TASK_ASSIGNED).latest("id")
    assert "Nováková" not in str(_payload(row, unread=1))
    url = reverse("notification_child", kwargs={"notification_id": row.pk})
    response = client_for(paediatrician).get(url)
    assert response.status_code == 200
    assert response.json()["child"].startswith("Eliška Nováková, ")
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(actor=paediatrician, purpose="live notification", case_id=case.pk).exists()
    # Another user's row is not found; a former member gets no name.
    assert client_for(coordinator).get(url).status_code == 404
    membership = TeamMembership.objects.get(case=case, user=paediatrician)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
    assert client_for(paediatrician).get(url).json() == {"child": ""}
