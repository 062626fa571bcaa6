"""What a case's life tells the rest of the application, as a typed listener registry, so that ``casework`` never
imports ``workflows`` (DESIGN.md) while the chain stays visible: the services call :data:`hooks`, ``workflows``
implements :class:`CaseLifecycleListener` and registers it at start-up (``WorkflowsConfig.ready``).

Every hook is called **inside** the service's transaction, after the service's own rows are written, and an exception
from a listener propagates: the whole service call rolls back, so a case never opens without its flow
(docs/adr/0007). Listeners run in the order they registered.

* ``case_opened`` — by ``casework.services.case_open``, after the case, its coordinator and its permissions are
  written. ``workflows`` starts the case's flow.
* ``team_membership_ended`` — by ``casework.services.team_member_end``, after the membership ended. ``workflows``
  cancels the member's open input and the plan-action tasks nobody on the team can do any more.
* ``case_closed`` — by ``casework.services.case_close``, after the case closed and its team ended. ``workflows``
  cancels the case's open flow tasks, their deadlines and the plan's action tasks.
* ``case_handed_over`` — by ``casework.services.coordinator_handover``, after the new coordinator and the case's
  permissions are written. ``workflows`` moves the previous coordinator's open case-flow tasks (and their deadlines)
  to the new one.
* ``closure_requested`` — by ``casework.services.closure_request``, after the pending proposal is written.
  ``workflows`` starts its approval flow (a supervisor who did not propose it decides).
* ``closure_withdrawn`` — by ``casework.services.closure_withdraw``. ``workflows`` cancels its approval task.
* ``plan_approved`` — by ``casework.services.plan_approve``, after the version became current (the previous one
  superseded). ``workflows`` cancels the previous version's action tasks and gives each open action of the new one a
  task in its owner's inbox.
* ``plan_action_done`` — by ``casework.services.action_report``, after the owner reported the action done.
  ``workflows`` completes the action's task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from casework.models import Case, ClosureRequest, Plan, PlanAction, TeamMembership, User


class CaseLifecycleListener(Protocol):
    """What a listener implements: one method per event of a case's life (see the module docstring)."""

    def case_opened(self, *, case: Case) -> None: ...

    def team_membership_ended(self, *, membership: TeamMembership) -> None: ...

    def case_closed(self, *, case: Case) -> None: ...

    def case_handed_over(self, *, case: Case, previous_coordinator_id: int | None, by: User) -> None: ...

    def closure_requested(self, *, request: ClosureRequest) -> None: ...

    def closure_withdrawn(self, *, request: ClosureRequest) -> None: ...

    def plan_approved(self, *, plan: Plan, by: User) -> None: ...

    def plan_action_done(self, *, action: PlanAction, by: User) -> None: ...


class NoOpListener(CaseLifecycleListener):
    """A listener that ignores every event: subclass it to hear only a few (a test's recorder)."""

    def case_opened(self, *, case: Case) -> None:
        return None

    def team_membership_ended(self, *, membership: TeamMembership) -> None:
        return None

    def case_closed(self, *, case: Case) -> None:
        return None

    def case_handed_over(self, *, case: Case, previous_coordinator_id: int | None, by: User) -> None:
        return None

    def closure_requested(self, *, request: ClosureRequest) -> None:
        return None

    def closure_withdrawn(self, *, request: ClosureRequest) -> None:
        return None

    def plan_approved(self, *, plan: Plan, by: User) -> None:
        return None

    def plan_action_done(self, *, action: PlanAction, by: User) -> None:
        return None


class LifecycleRegistry:
    """The registered listeners, and the hooks the services call: each hook calls every listener in turn."""

    def __init__(self) -> None:
        self._listeners: list[CaseLifecycleListener] = []

    def register(self, listener: CaseLifecycleListener) -> None:
        """Add ``listener``; one of the same class registered before is replaced (``ready()`` may run twice)."""
        self._listeners = [known for known in self._listeners if type(known) is not type(listener)]
        self._listeners.append(listener)

    def unregister(self, listener: CaseLifecycleListener) -> None:
        self._listeners = [known for known in self._listeners if known is not listener]

    def listeners(self) -> tuple[CaseLifecycleListener, ...]:
        return tuple(self._listeners)

    def case_opened(self, *, case: Case) -> None:
        for listener in self.listeners():
            listener.case_opened(case=case)

    def team_membership_ended(self, *, membership: TeamMembership) -> None:
        for listener in self.listeners():
            listener.team_membership_ended(membership=membership)

    def case_closed(self, *, case: Case) -> None:
        for listener in self.listeners():
            listener.case_closed(case=case)

    def case_handed_over(self, *, case: Case, previous_coordinator_id: int | None, by: User) -> None:
        for listener in self.listeners():
            listener.case_handed_over(case=case, previous_coordinator_id=previous_coordinator_id, by=by)

    def closure_requested(self, *, request: ClosureRequest) -> None:
        for listener in self.listeners():
            listener.closure_requested(request=request)

    def closure_withdrawn(self, *, request: ClosureRequest) -> None:
        for listener in self.listeners():
            listener.closure_withdrawn(request=request)

    def plan_approved(self, *, plan: Plan, by: User) -> None:
        for listener in self.listeners():
            listener.plan_approved(plan=plan, by=by)

    def plan_action_done(self, *, action: PlanAction, by: User) -> None:
        for listener in self.listeners():
            listener.plan_action_done(action=action, by=by)


#: The one registry: services call its hooks, ``workflows`` registers its listener into it.
hooks = LifecycleRegistry()
#: The registry is itself a listener (it fans out): mypy checks that it implements every hook of the protocol.
_fans_out: CaseLifecycleListener = hooks
