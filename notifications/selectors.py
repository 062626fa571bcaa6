"""Reading a user's own notifications. Every query here is filtered by the recipient: there is no way to ask for
somebody else's rows."""

from __future__ import annotations

from dataclasses import dataclass

from notifications.models import Kind, Notification, NotificationPreference, NotificationQuerySet

#: Rows per page of the list (the same as ``casework.paging.PAGE_SIZE``; this app imports nothing of the domain).
PAGE_SIZE = 50

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


@dataclass(frozen=True)
class NotificationPage:
    rows: list[Notification]
    next_after: str | None  # the cursor of the next (older) page, None on the last


def notification_page_for_user(
    *, user_id: int, show: str = SHOW_ALL, kind: str = "", after: str = "", size: int = PAGE_SIZE
) -> NotificationPage:
    """One keyset page of :func:`notification_list_for_user`, newest first: the ``size`` rows older than the cursor
    ``after`` (the last id seen; the first page when empty or not an id — a position, not a permission: the rows are
    the user's own whatever it says). One query, walking ``notification_recipient_id`` (or ``notification_unread``)
    from the cursor: no ``COUNT(*)`` or ``OFFSET`` over the user's whole history (DESIGN invariant 12, as
    ``casework.paging`` does for the domain's lists)."""
    rows = notification_list_for_user(user_id=user_id, show=show, kind=kind)
    if after.isdigit() and len(after) <= 19:
        rows = rows.filter(id__lt=int(after))
    fetched = list(rows[: size + 1])
    shown = fetched[:size]
    more = len(fetched) > size and bool(shown)
    return NotificationPage(rows=shown, next_after=str(shown[-1].pk) if more else None)


def notification_get(*, user_id: int, notification_id: int) -> Notification | None:
    """The row if it is ``user_id``'s; None for another user's row and for one that does not exist alike."""
    return Notification.objects.for_user(user_id).filter(pk=notification_id).first()


def wants_digest(*, user_id: int) -> bool:
    """The user's choice about the daily digest; on unless they turned it off."""
    choice = NotificationPreference.objects.filter(user_id=user_id).values_list("digest", flat=True).first()
    return True if choice is None else bool(choice)
