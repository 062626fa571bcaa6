"""The inbox ("Úkoly"): my tasks and, for those who take work from one, the team queue. Two queries for the lists,
and a fixed number for the children's names beside the case references (``selectors.with_child_labels``).

Each list pages by key on its own (``?mine=`` and ``?queue=`` carry the cursor after which it continues), 50 rows a
page; moving one list keeps the other where it was."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from casework.case_views.common import viewer
from casework.views import shell_page
from workflows import selectors

PURPOSE = "inbox"


@shell_page("inbox")
@require_http_methods(["GET"])
def inbox(request: HttpRequest) -> HttpResponse:
    user = viewer(request)
    task_type = request.GET.get("type", "")
    if task_type not in selectors.TASK_TYPES:
        task_type = ""
    cursors = {"mine": request.GET.get("mine", ""), "queue": request.GET.get("queue", "")}
    mine = selectors.my_tasks(user=user, task_type=task_type, after=cursors["mine"])
    queue = (
        selectors.team_queue(user=user, task_type=task_type, after=cursors["queue"])
        if selectors.has_team_queue(user)
        else None
    )
    # The child beside each case reference: one gate read for both lists.
    labelled = selectors.with_child_labels(user=user, lists=[mine] if queue is None else [mine, queue], purpose=PURPOSE)
    return render(
        request,
        "workflows/inbox.html",
        {
            "mine": labelled[0],
            "queue": labelled[1] if queue is not None else None,
            "task_type": task_type,
            "types": [(slug, node.label) for slug, node in selectors.TASK_TYPES.items()],
            "pages": {
                name: {
                    "next": _url(task_type, cursors, name, found.next_after) if found.next_after else "",
                    "first": _url(task_type, cursors, name, "") if cursors[name] else "",
                }
                for name, found in (("mine", mine), ("queue", queue))
                if found is not None
            },
        },
    )


def _url(task_type: str, cursors: dict[str, str], name: str, cursor: str) -> str:
    """The inbox with list ``name`` at ``cursor`` (its first page when empty) and the other list left where it is."""
    query = {"type": task_type, **cursors, name: cursor}
    return "?" + urlencode({key: value for key, value in query.items() if value})
