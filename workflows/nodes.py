"""Flow nodes of our own: a human task whose claim and completion rules come from our policy.

viewflow's transitions check nothing when called from code (``activation.assign(user)`` succeeds for anyone), and its
own rules ask django's generic permissions, which know nothing of authorities, cases or reports. ``PolicyView`` asks
the flow instead: ``may_work(user, task)`` is a method of the flow that consults ``permissions`` for the domain row
the process is about. ``workflows.tasks`` calls these checks before every transition, outside the transaction (so a
refusal is audited and committed), and again under the process lock.

Only viewflow's plain engine nodes are used (``viewflow.workflow.nodes``): none of its stock views or URLs are mounted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from viewflow import this
from viewflow.workflow import nodes

from casework.models import User

MayWork = Callable[[User, Any], bool]


class PolicyView(nodes.View):
    """A human task (a page of ours in ``workflows.views``), claimable from a team queue when ``queue`` is set.

    * ``may_work(user, task)``: whether ``user`` may see, take and complete the task at all (e.g. a supervisor of the
      report's authority). Resolved from a ``this.`` reference on the flow.
    * Taking (assign): the task is free, it is a queue task, and ``may_work``.
    * Giving back (unassign): a queue task that is taken; by its owner, or by another who ``may_work`` (a supervisor
      covering for an absent colleague).
    * Completing (execute): the owner, and still ``may_work`` (a supervisor who moved away no longer completes it).
    """

    def __init__(self, *, may_work: MayWork | Any, queue: bool = False, **kwargs: Any) -> None:
        super().__init__(view=None, **kwargs)
        self._may_work = may_work
        self.queue = queue

    def _resolve(self, instance: Any) -> None:
        super()._resolve(instance)
        self._may_work = this.resolve(instance, self._may_work)

    def may_work(self, user: User, task: Any) -> bool:
        return bool(user.is_authenticated and user.is_active and self._may_work(user, task))

    def can_assign(self, user: User, task: Any) -> bool:
        return self.queue and task.owner_id is None and self.may_work(user, task)

    def can_unassign(self, user: User, task: Any) -> bool:
        return self.queue and task.owner_id is not None and self.may_work(user, task)

    def can_execute(self, user: User, task: Any) -> bool:
        return task.owner_id is not None and task.owner_id == user.pk and self.may_work(user, task)
