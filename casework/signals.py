"""Hooks other apps register into, so that ``casework`` never imports them (DESIGN.md: ``casework`` never imports
``workflows``). Both are sent **inside** the service's transaction, with ``send`` (not ``send_robust``): a receiver
that raises rolls the whole service call back, so a case never opens without its flow (docs/adr/0007).

* ``case_opened(sender=Case, case=...)`` — by ``casework.services.case_open``, after the case, its coordinator and
  its permissions are written. ``workflows`` starts the case's flow.
* ``team_membership_ended(sender=TeamMembership, membership=...)`` — by ``casework.services.team_member_end``, after
  the membership ended. ``workflows`` cancels the member's open tasks on the case.
* ``case_closed(sender=Case, case=...)`` — by ``casework.services.case_close``, after the case closed and its team
  ended. ``workflows`` cancels the case's open flow tasks and their deadlines.
* ``case_handed_over(sender=Case, case=..., previous_coordinator_id=..., by=...)`` — by
  ``casework.services.coordinator_handover``, after the new coordinator and the case's permissions are written.
  ``workflows`` moves the previous coordinator's open case-flow tasks (and their deadlines) to the new one.
* ``closure_requested(sender=ClosureRequest, request=...)`` — by ``casework.services.closure_request``, after the
  pending proposal to close the case is written. ``workflows`` starts its approval flow (a supervisor who did not
  propose it approves or returns it).
* ``closure_withdrawn(sender=ClosureRequest, request=...)`` — by ``casework.services.closure_withdraw``, after the
  proposal was withdrawn. ``workflows`` cancels its approval task.
* ``plan_approved(sender=Plan, plan=..., by=...)`` — by ``casework.services.plan_approve``, after the version became
  current (and the previous one superseded). ``workflows`` cancels the previous version's action tasks and gives each
  open action of the new version a task in its owner's inbox.
* ``plan_action_done(sender=PlanAction, action=..., by=...)`` — by ``casework.services.action_report``, after the
  owner reported the action done. ``workflows`` completes the action's task.
"""

from __future__ import annotations

from django.dispatch import Signal

case_opened = Signal()
team_membership_ended = Signal()
case_closed = Signal()
case_handed_over = Signal()
closure_requested = Signal()
closure_withdrawn = Signal()
plan_approved = Signal()
plan_action_done = Signal()
