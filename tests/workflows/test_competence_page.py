"""The Competence page is a list page: its statement count is fixed whatever the number of shifts, transfers
waiting, stubs and known-child requests (pinned at two data sizes)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.models import Municipality, Role, User
from casework.services.competence import case_transfer_propose, competence_ensure_defaults, duty_shift_add
from tests.factories import UserFactory, ospod_staff
from tests.factories.cases import open_case

from .conftest import client_for

pytestmark = pytest.mark.django_db


def _grow(supervisor: User, foreign_supervisor: User, count: int) -> None:
    """``count`` more shifts in Olomouc and ``count`` more files offered to Olomouc by Prostějov."""
    assert supervisor.organisation is not None
    assert foreign_supervisor.organisation is not None
    start = timezone.now() + datetime.timedelta(days=1)
    olomouc = Municipality.objects.get(code="OM")
    for _ in range(count):
        worker = ospod_staff(supervisor.organisation)
        duty_shift_add(worker=worker, starts_at=start, ends_at=start + datetime.timedelta(hours=12), by=supervisor)
        pv_worker = UserFactory.create(role=Role.OSPOD_WORKER, organisation=foreign_supervisor.organisation)
        case = open_case(coordinator=pv_worker)
        case_transfer_propose(case=case, to_municipality=olomouc, by=pv_worker)


def _statements(user: User) -> tuple[int, str]:
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("competence"))
    assert page.status_code == 200
    return len(queries), page.content.decode()


def test_competence_page_statements_do_not_grow_with_the_lists(supervisor: User, foreign_supervisor: User) -> None:
    competence_ensure_defaults()
    _grow(supervisor, foreign_supervisor, 1)
    small, html = _statements(supervisor)
    assert html.count('value="accept"') == 1
    _grow(supervisor, foreign_supervisor, 3)
    large, html = _statements(supervisor)
    assert html.count('value="accept"') == 4
    assert small == large
    assert large == 12
