"""The API's lists cost the same number of queries whatever their length (keyset pages, batched gate reads): the
count for three rows equals the count for one (the token check, its owner's second factor and the page's own
queries), so a list of fifty does not cost fifty times more."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.models import User
from notifications.models import Kind, Notification
from tests.api.helpers import client_with, token_for
from tests.factories import add_member, open_case

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    client.get(url)  # warm: the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_case_list_costs_the_same_for_one_case_and_for_three(coordinator: User, teacher: User) -> None:
    client = client_with(token_for(teacher))
    add_member(open_case(coordinator=coordinator), teacher, coordinator)
    one = _queries(client, "/api/v1/cases/")
    for _ in range(2):
        add_member(open_case(coordinator=coordinator), teacher, coordinator)
    assert _queries(client, "/api/v1/cases/") == one


def test_the_notification_list_and_my_tasks_cost_the_same_for_one_row_and_for_three(teacher: User) -> None:
    client = client_with(token_for(teacher))
    Notification.objects.create(recipient=teacher, kind=Kind.ACTION_REPORTED, case_reference="OM 2026/0001")
    one = _queries(client, "/api/v1/notifications/")
    tasks_one = _queries(client, "/api/v1/tasks/mine/")
    for number in range(2):
        Notification.objects.create(recipient=teacher, kind=Kind.ACTION_REPORTED, case_reference=f"OM 2026/010{number}")
    assert _queries(client, "/api/v1/notifications/") == one
    assert _queries(client, "/api/v1/tasks/mine/") == tasks_one
