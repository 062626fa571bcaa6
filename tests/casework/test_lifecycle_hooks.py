"""The case's life tells its listeners through one typed registry (``casework.lifecycle_hooks``): ``workflows``
registers its listener at start-up, listeners run in order inside the service's transaction, and a failing listener
rolls the service call back. casework never imports workflows."""

from __future__ import annotations

import pytest

from casework.lifecycle_hooks import LifecycleRegistry, NoOpListener, hooks
from casework.models import Case, User
from tests.factories.cases import open_case


def test_workflows_listens_from_start_up() -> None:
    from workflows.lifecycle import FlowLifecycle

    assert [type(listener) for listener in hooks.listeners()] == [FlowLifecycle]


def test_registering_again_replaces_a_listener_of_the_same_class() -> None:
    registry = LifecycleRegistry()
    heard: list[str] = []

    class First(NoOpListener):
        def case_closed(self, *, case: Case) -> None:
            heard.append("first")

    class Second(NoOpListener):
        def case_closed(self, *, case: Case) -> None:
            heard.append("second")

    registry.register(First())
    registry.register(Second())
    registry.register(First())
    registry.case_closed(case=Case())
    assert heard == ["second", "first"]


@pytest.mark.django_db
def test_a_failing_listener_rolls_the_case_opening_back(coordinator: User) -> None:
    class Broken(NoOpListener):
        def case_opened(self, *, case: Case) -> None:
            raise RuntimeError("listener down")

    broken = Broken()
    hooks.register(broken)
    try:
        with pytest.raises(RuntimeError):
            open_case(coordinator=coordinator)
    finally:
        hooks.unregister(broken)
    assert not Case.objects.exists()
