"""Selectors read: querysets and lookups without side effects. They return rows with envelopes, never plaintext.

Lists that depend on who is asking (``casework.selectors.lists``) import ``permissions`` and are imported from their
own module, so that ``permissions`` can use the plain selectors here without an import cycle.
"""

from .cases import case_get, case_memberships, case_notes
from .children import (
    birth_number_index,
    child_find_by_birth_number,
    child_get,
    child_representatives,
    children_registered_by,
)
from .reports import report_get, reports_recorded_by

__all__ = [
    "birth_number_index",
    "case_get",
    "case_memberships",
    "case_notes",
    "child_find_by_birth_number",
    "child_get",
    "child_representatives",
    "children_registered_by",
    "report_get",
    "reports_recorded_by",
]
