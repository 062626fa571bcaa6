"""The notifications badge in the header: the unread count, rendered on the server so it works without JavaScript.

Lazy: the one query (unread count and the newest id, together) runs only when a template shows the badge, i.e. for
roles whose menu has the notifications page (``casework.context_processors.SHELL_PAGES``).

The count stops at ``UNREAD_CAP`` (the badge shows "99+"): counting every unread row of someone who never reads them
grew with their history on every page of the application. Both halves are index walks that stop early — the first
``UNREAD_CAP`` rows of the partial index ``notification_unread``, and the last entry of ``notification_recipient_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.models import Notification
from notifications.selectors import UNREAD_CAP


@dataclass(frozen=True)
class Badge:
    #: Unread rows, counted up to ``UNREAD_CAP``.
    unread: int
    #: The newest id the page knows of: the socket's catch-up starts after it.
    last_id: int

    @property
    def shown(self) -> str:
        """What the badge says: the number, or "99+" from ``UNREAD_CAP`` on."""
        return f"{UNREAD_CAP - 1}+" if self.unread >= UNREAD_CAP else str(self.unread)


def _sql(queryset: QuerySet[Notification, Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, tuple(params)


def badge_for(user_id: int) -> Badge:
    """One statement: two scalar subqueries, each an early-stopping index walk (no aggregate over all the rows)."""
    mine = Notification.objects.for_user(user_id)
    # Ordered as the indexes are ((recipient, id), the unread one partial), so the planner walks them and stops.
    unread_sql, unread_params = _sql(mine.unread().order_by("recipient_id", "pk").values("pk")[:UNREAD_CAP])
    last_sql, last_params = _sql(mine.order_by("-recipient_id", "-pk").values("pk")[:1])
    with connections[mine.db].cursor() as cursor:
        # Both parts are SQL that Django compiled from the querysets above, their values passed as parameters.
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM ({unread_sql}) AS unread_rows), ({last_sql})",  # noqa: S608
            (*unread_params, *last_params),
        )
        unread, last_id = cursor.fetchone()
    return Badge(unread=unread or 0, last_id=last_id or 0)


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    user_id = user.pk
    return {"notification_badge": SimpleLazyObject(lambda: badge_for(user_id))}
