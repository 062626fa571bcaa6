"""Reading a user's own notifications. Every query here is filtered by the recipient: there is no way to ask for
somebody else's rows."""

from __future__ import annotations

from notifications.models import Kind, Notification, NotificationPreference, NotificationQuerySet

#: The badge counts unread rows up to here and then says "99+" (``context_processors.badge_for``).
UNREAD_CAP = 100

SHOW_ALL = "all"
SHOW_UNREAD = "unread"


def notification_list_for_user(*, user_id: int, show: str = SHOW_ALL, kind: str = "") -> NotificationQuerySet:
    rows = Notification.objects.for_user(user_id).order_by("-id")
    if show == SHOW_UNREAD:
        rows = rows.unread()
    if kind in Kind.values:
        rows = rows.filter(kind=kind)
    return rows


def notification_get(*, user_id: int, notification_id: int) -> Notification | None:
    """The row if it is ``user_id``'s; None for another user's row and for one that does not exist alike."""
    return Notification.objects.for_user(user_id).filter(pk=notification_id).first()


def wants_digest(*, user_id: int) -> bool:
    """The user's choice about the daily digest; on unless they turned it off."""
    choice = NotificationPreference.objects.filter(user_id=user_id).values_list("digest", flat=True).first()
    return True if choice is None else bool(choice)
