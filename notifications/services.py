"""Writing notifications and telling the recipients' sockets about them.

The contract (DESIGN invariant 7):

* ``notify``/``notify_many`` are called *inside* the transaction of the change they announce and write the row there;
  a rolled-back change leaves no row and sends nothing.
* After commit (``transaction.on_commit``) the recipient's channel group ``user.<id>`` gets a message carrying only the
  row's id. A push that fails (Redis down, a timeout) is logged with ids only and swallowed: the change stands, the
  row stays undelivered, and ``relay_undelivered`` (the ``notifications_relay`` command) or the client's reconnect
  catch-up delivers it later.
* Group messages never carry content. The consumer loads the row itself, filtered by its own user.

``revoke_case`` and ``disconnect_user``/``disconnect_session`` tell open sockets that access ended; they push after
commit too, so a rolled-back membership change revokes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import queue
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications.models import URGENT_KINDS, Kind, Notification, NotificationPreference
from notifications.selectors import UNREAD_CAP

logger = logging.getLogger("notifications")

#: Message types on the channel layer (the consumer has one handler per type).
MSG_NEW = "notification.new"
MSG_PENDING = "notifications.pending"
MSG_UNREAD = "notifications.unread"
MSG_SESSION_REVOKE = "session.revoke"
MSG_CASE_REVOKED = "case.revoked"

#: The relay doubles the gap between pushes of a row nobody picks up, up to this many doublings.
RELAY_MAX_DOUBLINGS = 8
#: Rows the relay looks at per run (oldest first); the rest wait for the next run.
RELAY_BATCH = 5000


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"


def session_group(session_key: str) -> str:
    """The group of the sockets opened with one login session. Hashed: a session key is a credential."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def _push_timeout() -> float:
    return float(getattr(settings, "NOTIFICATIONS_PUSH_TIMEOUT_SECONDS", 2.0))


async def _send_all(messages: list[tuple[str, dict[str, Any]]]) -> list[bool]:
    """Send each (group, message); True where it was handed to the layer. Stops at the first failure: when the
    layer is down the rest would only wait for their own timeouts."""
    layer = get_channel_layer()
    if layer is None:
        return [False] * len(messages)
    results: list[bool] = []
    for group, message in messages:
        try:
            await asyncio.wait_for(layer.group_send(group, message), timeout=_push_timeout())
        except Exception as exc:
            logger.warning("notifications: group_send to %s failed (%s)", group, type(exc).__name__)
            break
        results.append(True)
    return results + [False] * (len(messages) - len(results))


def send_to_groups(messages: list[tuple[str, dict[str, Any]]]) -> list[bool]:
    """Hand ``messages`` to the channel layer from synchronous code; never raises (see ``_send_all``)."""
    if not messages:
        return []
    try:
        return async_to_sync(_send_all)(messages)
    except Exception as exc:  # no event loop to run on, a layer that cannot be built, …
        logger.warning("notifications: channel layer unavailable (%s)", type(exc).__name__)
        return [False] * len(messages)


def _require_transaction(what: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError(
            f"{what} must run inside the transaction of the change it announces (transaction.atomic)."
        )


def _build(
    *,
    recipient_id: int,
    kind: str,
    case_id: uuid.UUID | str | None,
    case_reference: str,
    object_type: str,
    object_id: object,
    urgent: bool,
) -> Notification:
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind: {kind!r}")
    return Notification(
        recipient_id=recipient_id,
        kind=kind,
        case_id=case_id,
        case_reference=case_reference or "",
        object_type=object_type or "",
        object_id=str(object_id) if object_id not in (None, "") else "",
        urgent=bool(urgent) or kind in URGENT_KINDS,
    )


class BackgroundPusher:
    """One sender thread per process that hands committed messages to the channel layer, so the request that
    committed them does not wait for Redis (``NOTIFICATIONS_PUSH_BACKGROUND``).

    The thread runs one event loop for its whole life: the channel layer keeps its Redis connections per loop, so
    they are reused (``async_to_sync`` from a request thread runs a new loop, and connects, each time). Everything
    queued while a batch was being sent goes out as the next batch, one hand-off for all the transactions that
    committed meanwhile. Only ids travel (the messages ``notify`` builds). Never raises into the committing thread:
    a failed push is logged with ids and the rows stay undelivered for the relay (``relay_undelivered``) and the
    client's reconnect catch-up, exactly as when the push ran inline; so are messages still queued when the
    process exits.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[list[tuple[str, dict[str, Any]]], Callable[[list[bool]], None]]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pid = 0

    def submit(self, messages: list[tuple[str, dict[str, Any]]], done: Callable[[list[bool]], None]) -> None:
        self._ensure_thread()
        self._queue.put((messages, done))

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="notifications-push", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            messages = [message for items, _done in batch for message in items]
            try:
                sent = loop.run_until_complete(_send_all(messages))
            except Exception as exc:  # a layer that cannot be built, …: the relay delivers later
                logger.warning("notifications: channel layer unavailable (%s)", type(exc).__name__)
                sent = [False] * len(messages)
            start = 0
            for items, done in batch:
                try:
                    done(sent[start : start + len(items)])
                except Exception as exc:  # pragma: no cover - done() only logs
                    logger.warning("notifications: push bookkeeping failed (%s)", type(exc).__name__)
                start += len(items)


_pusher = BackgroundPusher()


def _push_new_after_commit(rows: list[Notification]) -> None:
    messages = [(user_group(row.recipient_id), {"type": MSG_NEW, "id": row.pk}) for row in rows]

    def report(sent: list[bool]) -> None:
        failed = [row.pk for row, ok in zip(rows, sent, strict=True) if not ok]
        if failed:
            logger.warning("notifications: push failed for ids %s; the relay will retry", failed)

    def push() -> None:
        if getattr(settings, "NOTIFICATIONS_PUSH_BACKGROUND", False):
            _pusher.submit(messages, report)
        else:
            report(send_to_groups(messages))

    transaction.on_commit(push)


def notify(
    *,
    recipient_id: int,
    kind: str,
    case_id: uuid.UUID | str | None = None,
    case_reference: str = "",
    object_type: str = "",
    object_id: object = "",
    urgent: bool = False,
    actor_id: int | None = None,
) -> Notification | None:
    """Write one notification in the caller's transaction and push it to the recipient after commit.

    Returns None (and writes nothing) when the recipient is the ``actor_id`` who caused it: nobody is notified of
    their own action. Raises ``TransactionManagementError`` outside ``transaction.atomic``. Pass ids and the case
    reference only; there is nowhere to put text.
    """
    rows = notify_many(
        recipient_ids=[recipient_id],
        kind=kind,
        case_id=case_id,
        case_reference=case_reference,
        object_type=object_type,
        object_id=object_id,
        urgent=urgent,
        actor_id=actor_id,
    )
    return rows[0] if rows else None


def notify_many(
    *,
    recipient_ids: Iterable[int],
    kind: str,
    case_id: uuid.UUID | str | None = None,
    case_reference: str = "",
    object_type: str = "",
    object_id: object = "",
    urgent: bool = False,
    actor_id: int | None = None,
) -> list[Notification]:
    """``notify`` for several recipients (each once, the actor skipped): one INSERT, one push after commit."""
    _require_transaction("notify")
    unique = list(dict.fromkeys(int(r) for r in recipient_ids if r is not None and r != actor_id))
    if not unique:
        return []
    rows = [
        _build(
            recipient_id=recipient_id,
            kind=kind,
            case_id=case_id,
            case_reference=case_reference,
            object_type=object_type,
            object_id=object_id,
            urgent=urgent,
        )
        for recipient_id in unique
    ]
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    else:
        rows = Notification.objects.bulk_create(rows)
    _push_new_after_commit(rows)
    return rows


def revoke_case(user_id: int, case_id: uuid.UUID | str) -> None:
    """After commit, tell ``user_id``'s sockets that their access to ``case_id`` may have ended: each socket that
    follows the case checks again and drops it (``case_revoked`` to the page) unless the user still sees the case."""
    message = {"type": MSG_CASE_REVOKED, "case_id": str(case_id)}
    group = user_group(user_id)
    transaction.on_commit(lambda: _send_logged([(group, message)], "case revocation"))


def disconnect_user(user_id: int) -> None:
    """After commit, close every open socket of ``user_id`` (deactivated account). Reconnects are refused while
    the account stays inactive."""
    group = user_group(user_id)
    transaction.on_commit(lambda: _send_logged([(group, {"type": MSG_SESSION_REVOKE})], "disconnect"))


def disconnect_session(session_key: str) -> None:
    """Close the sockets opened with this login session (logout); the user's other sessions stay connected."""
    group = session_group(session_key)
    transaction.on_commit(lambda: _send_logged([(group, {"type": MSG_SESSION_REVOKE})], "disconnect"))


def push_unread_count(user_id: int) -> None:
    """After commit, have ``user_id``'s sockets send the current unread count (after marking rows read)."""
    group = user_group(user_id)
    transaction.on_commit(lambda: _send_logged([(group, {"type": MSG_UNREAD})], "unread count"))


def _send_logged(messages: list[tuple[str, dict[str, Any]]], what: str) -> None:
    if not all(send_to_groups(messages)):
        logger.warning("notifications: %s push failed for %d group(s)", what, len(messages))


# --- Reading and marking ---------------------------------------------------------------------------------------


def unread_count(*, user_id: int) -> int:
    """The badge's number for a socket: unread rows up to ``UNREAD_CAP`` (the badge says "99+" from there)."""
    return Notification.objects.for_user(user_id).unread().order_by()[:UNREAD_CAP].count()


def mark_delivered(*, user_id: int, ids: Iterable[int], now: datetime | None = None) -> int:
    """Mark the rows a consumer has sent down a socket. Only ``user_id``'s own rows; already delivered ones keep
    their first delivery time."""
    id_list = list(ids)
    if not id_list:
        return 0
    return (
        Notification.objects.for_user(user_id)
        .filter(pk__in=id_list, delivered_at__isnull=True)
        .update(delivered_at=now or timezone.now())
    )


def mark_read(*, user_id: int, notification_id: int) -> bool:
    """Mark one of ``user_id``'s rows read; False if it is not theirs (or does not exist)."""
    with transaction.atomic():
        exists = Notification.objects.for_user(user_id).filter(pk=notification_id).exists()
        if exists:
            Notification.objects.for_user(user_id).filter(pk=notification_id, read_at__isnull=True).update(
                read_at=timezone.now()
            )
            push_unread_count(user_id)
    return exists


def mark_all_read(*, user_id: int) -> int:
    with transaction.atomic():
        count = Notification.objects.for_user(user_id).unread().update(read_at=timezone.now())
        if count:
            push_unread_count(user_id)
    return count


def set_digest(*, user_id: int, digest: bool) -> None:
    NotificationPreference.objects.update_or_create(user_id=user_id, defaults={"digest": digest})


# --- The relay ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelayResult:
    recipients: int
    pushed: int
    failed: int


def relay_undelivered(*, after_seconds: int, max_age: timedelta, now: datetime | None = None) -> RelayResult:
    """Push once more to every recipient with rows undelivered for at least ``after_seconds`` (and younger than
    ``max_age``): one ``notifications.pending`` message per recipient, upon which each of their sockets sends its
    undelivered rows. A row pushed before waits twice as long as last time before the next push.

    Rows written while the channel layer was down are delivered this way once it is back. Sending to a group with no
    socket is not an error: the row stays undelivered and the user sees it on the page or on reconnect.
    """
    now = now or timezone.now()
    threshold = now - timedelta(seconds=after_seconds)
    candidates = list(
        Notification.objects.undelivered()
        .filter(created_at__lte=threshold, created_at__gte=now - max_age)
        .order_by("id")
        .values_list("id", "recipient_id", "pushed_at", "push_count")[:RELAY_BATCH]
    )
    due: dict[int, list[int]] = defaultdict(list)
    for row_id, recipient_id, pushed_at, push_count in candidates:
        wait = timedelta(seconds=after_seconds * 2 ** min(push_count, RELAY_MAX_DOUBLINGS))
        if pushed_at is None or pushed_at <= now - wait:
            due[recipient_id].append(row_id)
    if not due:
        return RelayResult(recipients=0, pushed=0, failed=0)
    recipients = list(due)
    sent = send_to_groups([(user_group(r), {"type": MSG_PENDING}) for r in recipients])
    pushed_ids = [row_id for r, ok in zip(recipients, sent, strict=True) if ok for row_id in due[r]]
    if pushed_ids:
        Notification.objects.filter(pk__in=pushed_ids).update(pushed_at=now, push_count=F("push_count") + 1)
    failed = sum(len(due[r]) for r, ok in zip(recipients, sent, strict=True) if not ok)
    if failed:
        logger.warning("notifications relay: %d row(s) could not be pushed; next run retries", failed)
    return RelayResult(recipients=sum(sent), pushed=len(pushed_ids), failed=failed)
