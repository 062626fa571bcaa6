"""What the case pages share: the viewer, and the case header, the child's basics and team rows of the case's read
model (``casework.selectors.case_file``, re-exported here for the pages that render them)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from casework.models import Case, User
from casework.selectors.case_file import (
    CHILD_BASICS,
    CaseHeader,
    ChildBasics,
    MemberRow,
    case_header,
    child_basics,
    child_name,
    member_row,
    member_rows,
    relation,
)
from permissions.policy import CaseAccess

__all__ = [
    "CHILD_BASICS",
    "ChildBasics",
    "MemberRow",
    "child_basics",
    "child_name",
    "header",
    "member_row",
    "member_rows",
    "relation",
    "viewer",
]


def viewer(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise Http404
    return request.user


def header(case: Case, access: CaseAccess) -> CaseHeader:
    """The case's header (``casework.selectors.case_file.case_header``)."""
    return case_header(case, access)
