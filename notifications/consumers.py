"""The websocket at ``/ws/notifications/``: a live view of the user's own rows in the notifications table.

Everything a socket sends is read from the table filtered by the socket's own user, never taken from a group
message or from the client: a forged ``last_seen``, a guessed id or a message for another user's row sends nothing of
anyone else. A row is marked delivered only after ``send_json`` returned for it (DESIGN invariant 7).

Close codes the page acts on: 4401 not logged in (or inactive), 4403 session ended (logout, deactivation, expiry),
4429 too many messages, 4013 channel layer unavailable (try again later; daphne lets a server close only with 1000
or 3000-4999, so not the standard 1013).

Client → server: ``{"type": "ping"}`` → ``pong``; ``{"type": "ack", "id": n}``; ``{"type": "subscribe"|"unsubscribe",
"case_id": uuid}`` to follow a case the user may see (``case_revoked`` arrives when that access ends). Anything else
gets ``{"type": "error", "code": "bad_message"}`` and is otherwise ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from notifications import services
from notifications.models import Notification

logger = logging.getLogger("notifications.socket")

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SESSION_ENDED = 4403
CLOSE_FLOOD = 4429
CLOSE_TRY_AGAIN = 4013

#: At most this many client messages per window; one more closes the socket with 4429.
FLOOD_MESSAGES = 20
FLOOD_WINDOW_SECONDS = 10.0
#: Client frames are tiny; anything longer is not ours.
MAX_FRAME_CHARS = 512
#: Rows sent on connect (catch-up) or on a relay push, oldest first; the rest follow on the next push or reconnect.
SEND_LIMIT = 100
#: Cases one socket may follow at a time.
MAX_SUBSCRIPTIONS = 20
#: Ids this socket already sent, so a row reaching it twice (catch-up and live) is shown once.
SENT_MEMORY = 1000
BIGINT_MAX = 2**63 - 1


def parse_last_seen(query_string: bytes | str) -> int:
    """The client's last seen id from ``?last_seen=``; anything that is not a plain non-negative integer is 0."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    values = parse_qs(query_string).get("last_seen", [])
    value = values[0] if values else ""
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return 0
    return min(int(value), BIGINT_MAX)


@cache
def _case_access_check(path: str) -> Callable[[Any, uuid.UUID], bool]:
    return import_string(path)


def may_follow_case(user: Any, case_id: uuid.UUID) -> bool:
    """Whether ``user`` may see the case now; the rule lives in ``settings.NOTIFICATIONS_CASE_ACCESS`` (a dotted
    path), since ``notifications`` never imports the domain or the policy."""
    return bool(_case_access_check(settings.NOTIFICATIONS_CASE_ACCESS)(user, case_id))


def session_is_valid(user_id: int, session_key: str) -> bool:
    """Whether the login session behind a socket still stands, decided as Django decides for a request: the session
    exists and has not expired, names this user, the account is active and the password has not changed since."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if store.get(auth.SESSION_KEY) != str(user_id):  # also when the session is gone or expired: empty
        return False
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    session_hash = store.get(auth.HASH_SESSION_KEY) or ""
    if user is None or not session_hash:
        return False
    # Unlike django.contrib.auth.get_user this never cycles or flushes the session: the browser owns it.
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, known) for known in hashes)


def _payload(row: Notification, unread: int) -> dict[str, Any]:
    return {
        "type": "notification",
        "id": row.pk,
        "kind": row.kind,
        "case_reference": row.case_reference,
        "url": reverse("notification_open", kwargs={"notification_id": row.pk}),
        "unread": unread,
    }


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    user_id: int | None = None
    session_key: str | None = None
    closed = False
    _layer_ok = True

    # --- The channel layer ---------------------------------------------------------------------------------------
    # channels' AsyncConsumer.__call__ stores ``self.channel_receive = partial(layer.receive, channel)`` and awaits it
    # beside the client's frames; when Redis goes away that call raises and the consumer dies with a traceback. The
    # property below hands __call__ a receive that turns the failure into one "layer.lost" event instead: the socket
    # closes with 4013 and the page reconnects (with catch-up) once the layer is back, joining its groups afresh.

    @property
    def channel_receive(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        return self._receive_from_layer

    @channel_receive.setter
    def channel_receive(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._layer_receive = receive

    async def _receive_from_layer(self) -> dict[str, Any]:
        if not self._layer_ok:
            await asyncio.Event().wait()  # nothing more from a lost layer; cancelled when the socket ends
        try:
            return await self._layer_receive()
        except Exception as exc:
            self._layer_ok = False
            logger.warning("notifications socket of user %s: channel layer lost (%s)", self.user_id, type(exc).__name__)
            return {"type": "layer.lost"}

    async def layer_lost(self, event: dict[str, Any]) -> None:
        if not self.closed:
            await self._close(CLOSE_TRY_AGAIN)

    # --- Lifecycle ---------------------------------------------------------------------------------------------

    async def connect(self) -> None:
        self.joined: list[str] = []
        self.subscriptions: set[str] = set()
        self.sent: deque[int] = deque(maxlen=SENT_MEMORY)
        self.recent: deque[float] = deque()
        user = self.scope.get("user")
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None) if session is not None else None
        if user is None or not user.is_authenticated or not user.is_active or not session_key:
            await self.accept()
            await self._close(CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.user_id = user.pk
        self.session_key = session_key
        try:
            for group in (services.user_group(user.pk), services.session_group(session_key)):
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        except Exception as exc:
            logger.warning(
                "notifications socket of user %s: channel layer unavailable (%s)", user.pk, type(exc).__name__
            )
            await self.accept()
            await self._close(CLOSE_TRY_AGAIN)
            return
        await self.accept()
        last_seen = parse_last_seen(self.scope.get("query_string", b""))
        await self._send_rows(await self._catch_up(last_seen))

    async def disconnect(self, code: int) -> None:
        for group in self.joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as exc:
                logger.info("notifications socket: leaving %s failed (%s)", group, type(exc).__name__)
        self.joined = []

    async def _close(self, code: int) -> None:
        self.closed = True
        await self.close(code=code)

    # --- Client messages ---------------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if self.closed or self.user_id is None:
            return
        if self._flooding():
            logger.info("notifications socket of user %s: too many messages, closing", self.user_id)
            await self._close(CLOSE_FLOOD)
            return
        content = self._parse(text_data)
        kind = content.get("type") if content is not None else None
        handler = {
            "ping": self._on_ping,
            "ack": self._on_ack,
            "subscribe": self._on_subscribe,
            "unsubscribe": self._on_unsubscribe,
        }.get(kind if isinstance(kind, str) else "")
        if content is None or handler is None:
            await self._error("bad_message")
            return
        await handler(content)

    def _flooding(self) -> bool:
        now = time.monotonic()
        while self.recent and self.recent[0] <= now - FLOOD_WINDOW_SECONDS:
            self.recent.popleft()
        self.recent.append(now)
        return len(self.recent) > FLOOD_MESSAGES

    @staticmethod
    def _parse(text_data: str | None) -> dict[str, Any] | None:
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            return None
        try:
            content = json.loads(text_data)
        except ValueError:
            return None
        return content if isinstance(content, dict) else None

    async def _error(self, code: str) -> None:
        await self.send_json({"type": "error", "code": code})

    async def _on_ping(self, content: dict[str, Any]) -> None:
        if await self._session_ended():
            return
        await self.send_json({"type": "pong"})

    async def _on_ack(self, content: dict[str, Any]) -> None:
        row_id = content.get("id")
        if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 < row_id <= BIGINT_MAX:
            await self._error("bad_message")
            return
        await self._mark_delivered([row_id])

    @staticmethod
    def _case_id(content: dict[str, Any]) -> str | None:
        raw = content.get("case_id")
        if not isinstance(raw, str) or len(raw) > 36:
            return None
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            return None

    async def _on_subscribe(self, content: dict[str, Any]) -> None:
        case_id = self._case_id(content)
        if case_id is None:
            await self._error("bad_message")
            return
        if case_id not in self.subscriptions and len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            await self._error("too_many_subscriptions")
            return
        if await self._session_ended():
            return
        if not await database_sync_to_async(may_follow_case)(self.user, uuid.UUID(case_id)):
            # The same answer for a case that does not exist and one the user may not see.
            await self.send_json({"type": "subscribe_refused", "case_id": case_id})
            return
        self.subscriptions.add(case_id)
        await self.send_json({"type": "subscribed", "case_id": case_id})

    async def _on_unsubscribe(self, content: dict[str, Any]) -> None:
        case_id = self._case_id(content)
        if case_id is None:
            await self._error("bad_message")
            return
        self.subscriptions.discard(case_id)
        await self.send_json({"type": "unsubscribed", "case_id": case_id})

    # --- Group messages (from services, never from the client) ----------------------------------------------

    async def notification_new(self, event: dict[str, Any]) -> None:
        row_id = event.get("id")
        if self.closed or not isinstance(row_id, int) or row_id in self.sent:
            return
        rows = await self._read_if_session_valid(self._rows_by_id, row_id)
        if rows is None:
            await self._close(CLOSE_SESSION_ENDED)
            return
        await self._send_rows(rows)

    async def notifications_pending(self, event: dict[str, Any]) -> None:
        if self.closed:
            return
        rows = await self._read_if_session_valid(self._undelivered)
        if rows is None:
            await self._close(CLOSE_SESSION_ENDED)
            return
        await self._send_rows(rows)

    async def notifications_unread(self, event: dict[str, Any]) -> None:
        if self.closed:
            return
        await self.send_json({"type": "unread", "unread": await self._unread()})

    async def session_revoke(self, event: dict[str, Any]) -> None:
        if not self.closed:
            await self._close(CLOSE_SESSION_ENDED)

    async def case_revoked(self, event: dict[str, Any]) -> None:
        case_id = event.get("case_id")
        if self.closed or not isinstance(case_id, str) or case_id not in self.subscriptions:
            return
        if await database_sync_to_async(may_follow_case)(self.user, uuid.UUID(case_id)):
            return  # still visible (a supervisor who handed the case over, say)
        self.subscriptions.discard(case_id)
        await self.send_json({"type": "case_revoked", "case_id": case_id})

    # --- Sending rows ------------------------------------------------------------------------------------------

    async def _session_ended(self) -> bool:
        """Check the session again (logout in another process, expiry, deactivation); close with 4403 if it ended."""
        assert self.user_id is not None
        assert self.session_key is not None
        if await database_sync_to_async(session_is_valid)(self.user_id, self.session_key):
            return False
        await self._close(CLOSE_SESSION_ENDED)
        return True

    @database_sync_to_async
    def _read_if_session_valid(
        self, read: Callable[..., tuple[list[Notification], int]], *args: Any
    ) -> tuple[list[Notification], int] | None:
        """The session check of :meth:`_session_ended` and the rows to send, in one trip to the database thread (a
        push to a socket waited for two, one after the other); None, and nothing read, when the session has ended."""
        assert self.user_id is not None
        assert self.session_key is not None
        if not session_is_valid(self.user_id, self.session_key):
            return None
        return read(*args)

    async def _send_rows(self, batch: tuple[list[Notification], int]) -> None:
        rows, unread = batch
        sent: list[int] = []
        for row in rows:
            if row.pk in self.sent:
                continue
            await self.send_json(_payload(row, unread))
            self.sent.append(row.pk)
            sent.append(row.pk)
        await self._mark_delivered(sent)

    @database_sync_to_async
    def _mark_delivered(self, ids: list[int]) -> None:
        assert self.user_id is not None
        services.mark_delivered(user_id=self.user_id, ids=ids)

    @database_sync_to_async
    def _unread(self) -> int:
        assert self.user_id is not None
        return services.unread_count(user_id=self.user_id)

    def _mine(self) -> Any:
        assert self.user_id is not None
        return Notification.objects.for_user(self.user_id).order_by("id")

    @database_sync_to_async
    def _catch_up(self, last_seen: int) -> tuple[list[Notification], int]:
        """What the client has not seen: rows after its last seen id, and any row never delivered."""
        rows = list(self._mine().filter(Q(pk__gt=last_seen) | Q(delivered_at__isnull=True))[:SEND_LIMIT])
        return rows, services.unread_count(user_id=self.user_id) if rows else 0  # type: ignore[arg-type]

    def _rows_by_id(self, row_id: int) -> tuple[list[Notification], int]:
        """The socket's own row ``row_id`` (nothing for anyone else's) and the unread count; database thread only."""
        rows = list(self._mine().filter(pk=row_id))
        return rows, services.unread_count(user_id=self.user_id) if rows else 0  # type: ignore[arg-type]

    def _undelivered(self) -> tuple[list[Notification], int]:
        """The socket's undelivered rows (oldest first, up to ``SEND_LIMIT``) and the unread count (database thread)."""
        rows = list(self._mine().filter(delivered_at__isnull=True)[:SEND_LIMIT])
        return rows, services.unread_count(user_id=self.user_id) if rows else 0  # type: ignore[arg-type]
