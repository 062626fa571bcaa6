"""The notifications badge in the header: the unread count, rendered on the server so it works without JavaScript.

Lazy: the one query (unread count and the newest id, together) runs only when a template shows the badge, i.e. for
roles whose menu has the notifications page (``casework.context_processors.SHELL_PAGES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.models import Notification


@dataclass(frozen=True)
class Badge:
    unread: int
    #: The newest id the page knows of: the socket's catch-up starts after it.
    last_id: int


def badge_for(user_id: int) -> Badge:
    numbers = Notification.objects.for_user(user_id).aggregate(
        unread=Count("id", filter=Q(read_at__isnull=True)), last_id=Max("id")
    )
    return Badge(unread=numbers["unread"] or 0, last_id=numbers["last_id"] or 0)


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    user_id = user.pk
    return {"notification_badge": SimpleLazyObject(lambda: badge_for(user_id))}
