"""Services write: keyword-only functions, one transaction each, field-level ValidationErrors.

``deadlines``: setting, finishing and reassigning deadlines; ``escalation``: the warnings and escalations
``check_deadlines`` gives.
"""

from .deadlines import (
    deadline_close_for_task,
    deadline_done,
    deadline_done_for_task,
    deadline_follow_task,
    deadline_reassign,
    deadline_reassign_for_task,
    deadline_set,
)
from .escalation import CheckResult, deadlines_check

__all__ = [
    "CheckResult",
    "deadline_close_for_task",
    "deadline_done",
    "deadline_done_for_task",
    "deadline_follow_task",
    "deadline_reassign",
    "deadline_reassign_for_task",
    "deadline_set",
    "deadlines_check",
]
