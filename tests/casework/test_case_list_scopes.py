"""The case list's tabs are decided by the list's read model from the viewer's system role, not in the view."""

from __future__ import annotations

import pytest

from casework.models import User
from casework.selectors.lists import Scope, case_list_scopes

pytestmark = pytest.mark.django_db


def test_a_supervisor_starts_on_the_whole_authority(supervisor: User) -> None:
    assert case_list_scopes(user=supervisor) == ([Scope.ALL, Scope.COORDINATING, Scope.MEMBER], Scope.ALL)


def test_a_coordinator_starts_on_their_own_cases(coordinator: User) -> None:
    assert case_list_scopes(user=coordinator) == ([Scope.COORDINATING, Scope.MEMBER], Scope.COORDINATING)


def test_a_partner_has_only_the_cases_they_are_on(teacher: User) -> None:
    assert case_list_scopes(user=teacher) == ([Scope.MEMBER], Scope.MEMBER)
