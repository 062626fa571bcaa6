"""Two server processes over real Redis: a change made through one reaches a socket connected to the other.

The stack (``tests.stack``) runs two ``manage.py serve_demo`` processes on loopback with their own database and a
shared Redis channel layer (a prefix of its own). The test is a browser without a browser: it logs in over HTTP, posts
the real forms to server A and listens on a websocket of server B. It never touches the stack's database itself.

Runs in .ci/run's second pass (REDIS_URL and a PostgreSQL DATABASE_URL set); skips in the SQLite pass, where the
in-memory layer could not reach another process anyway.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.stack import Server, Session, Stack, case_id_for, option_value, running_stack

pytestmark = [pytest.mark.redis]

CASE = "OM 2026/0001"
TEACHER = "vychovny"  # Martin Šťastný, school counsellor at ZŠ Na Vyhlídce: on case 2's team, not on case 1's
TEACHER_NAME = "Martin Šťastný"
TEACHER_ROLE = "výchovný poradce / výchovná poradkyně"
PSYCHIATRIST = "psychiatr"  # Tomáš Kratochvíl: on case 2's team, not on case 1's
PSYCHIATRIST_NAME = "Tomáš Kratochvíl"
PSYCHIATRIST_ROLE = "dětský psychiatr/psychiatrička"

#: What the seed data protects in case 1 (the child, her representative, the notes): no frame may carry any of it.
PROTECTED = (
    "Anežka",
    "Pokorná",
    "145309/1013",
    "Javorová 12",
    "601 000 101",
    "samoživitelka",
    "neomluvených",
    "Preventivní prohlídka",
    "rozpočet domácnosti",
)
#: The keys of a notification frame (notifications.consumers._payload): ids, a kind, a reference, a link, a count.
FRAME_KEYS = {"type", "id", "kind", "case_reference", "url", "unread"}


def _socket(server: Server, session: Session, last_seen: int = 0) -> ClientConnection:
    return connect(
        f"{server.ws_url}/ws/notifications/?last_seen={last_seen}",
        additional_headers=session.websocket_headers(),
        proxy=None,
        open_timeout=10,
    )


def _frames(ws: ClientConnection, *, quiet: float) -> list[dict[str, Any]]:
    """Every frame until the socket has been quiet for ``quiet`` seconds."""
    received: list[dict[str, Any]] = []
    while True:
        try:
            raw = ws.recv(timeout=quiet)
        except TimeoutError:
            return received
        received.append(json.loads(raw))


def _wait_for(ws: ClientConnection, *, kind: str, since: float, timeout: float) -> tuple[dict[str, Any], str, float]:
    """The first notification frame of ``kind`` within ``timeout`` seconds of ``since`` (a ``time.monotonic()``), with
    its raw text and the seconds it took since then; or fail."""
    deadline = since + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            raw = ws.recv(timeout=left)
        except TimeoutError:
            break
        frame = json.loads(raw)
        if frame.get("type") == "notification" and frame.get("kind") == kind:
            return frame, str(raw), time.monotonic() - since
    pytest.fail(f"no {kind} frame within {timeout} s")


def _last_seen(session: Session) -> int:
    """The newest notification id the user's pages know of (the badge's ``data-last-seen``)."""
    _, html = session.get("/notifications/")
    match = re.search(r'data-last-seen="(\d+)"', html)
    assert match is not None, "no notifications badge on the page"
    return int(match.group(1))


def _assert_clean(frame: dict[str, Any], raw: str) -> None:
    assert set(frame) == FRAME_KEYS
    for text in PROTECTED:
        assert text not in raw
    assert TEACHER_NAME not in raw


def _succeeded(html: str) -> None:
    assert 'class="message message--success"' in html, "the form was not accepted"


def _add_to_team(coordinator: Session, case_id: str, name: str, role: str) -> None:
    _, html = coordinator.get(f"/cases/{case_id}/team/")
    status, html = coordinator.post(
        f"/cases/{case_id}/team/",
        {
            "user": option_value(html, "user", name),
            "team_role": option_value(html, "team_role", role),
            "valid_from": datetime.date.today().isoformat(),
            "valid_until": "",
        },
    )
    assert status == 200
    _succeeded(html)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Two server processes sharing one database and one Redis prefix; the tests use different people."""
    with running_stack(tmp_path_factory.mktemp("stack"), servers=2) as running:
        yield running


def test_a_change_through_one_server_reaches_a_socket_on_the_other_and_a_reconnect_catches_up(stack: Stack) -> None:
    server_a, server_b = stack.servers
    teacher = Session(server_b, TEACHER)
    coordinator = Session(server_a, "koordinator")
    case_id = case_id_for(coordinator, CASE)

    # The counsellor's page on B is open; his socket on B first gets what he has not seen (case 2's seeding).
    last_seen = _last_seen(teacher)
    with _socket(server_b, teacher, last_seen) as ws:
        for frame in _frames(ws, quiet=1.0):
            assert frame.get("case_reference") != CASE

        # The coordinator adds him to case 1's team through server A's form.
        posted = time.monotonic()
        _add_to_team(coordinator, case_id, TEACHER_NAME, TEACHER_ROLE)

        # B's socket gets it, pushed through Redis after A's commit (the relay would wait 15 s: not it).
        frame, raw, seconds = _wait_for(ws, kind="membership_added", since=posted, timeout=10)
        assert frame["case_reference"] == CASE
        assert frame["type"] == "notification"
        assert frame["url"] == f"/notifications/{frame['id']}/open/"
        assert frame["unread"] >= 1
        assert seconds < 10
        _assert_clean(frame, raw)
        ws.send(json.dumps({"type": "ack", "id": frame["id"]}))
        last_seen = frame["id"]

    # While his socket is closed, the coordinator shares the school part of the file with him (through A).
    _, html = coordinator.get(f"/cases/{case_id}/sharing/")
    recipient = option_value(html, "recipient", TEACHER_NAME)
    assert recipient.startswith("user:")
    status, html = coordinator.post(
        f"/cases/{case_id}/sharing/",
        {
            "recipient": recipient,
            "item": "compartment:school",
            "purpose": "podpora ve výuce",
            "valid_until": (datetime.date.today() + datetime.timedelta(days=30)).isoformat(),
            "consent": "",
        },
    )
    assert status == 200
    _succeeded(html)

    # He reconnects to B with the last id he saw: exactly the one he missed arrives, nothing else.
    with _socket(server_b, teacher, last_seen) as ws:
        missed = _frames(ws, quiet=2.0)
    notifications = [f for f in missed if f.get("type") == "notification"]
    assert [(f["kind"], f["case_reference"]) for f in notifications] == [("share_granted", CASE)]
    assert notifications[0]["id"] > last_seen
    for frame in notifications:
        _assert_clean(frame, json.dumps(frame, ensure_ascii=False))

    # The list page shows the row unread, and its link opens the case.
    _, html = teacher.get("/notifications/?show=unread")
    assert f'href="/notifications/{notifications[0]["id"]}/open/"' in html
    _, page = teacher.get(f"/notifications/{notifications[0]['id']}/open/")
    assert f"Případ {CASE}" in page


def test_an_idle_socket_stays_open_past_the_channel_layers_poll_timeout(stack: Stack) -> None:
    """A page left open with nothing happening keeps its socket: the Redis layer's receive polls (BZPOPMIN, 5 s) must
    not look like an outage to the consumer. Then a change through A still reaches the same socket on B."""
    server_a, server_b = stack.servers
    psychiatrist = Session(server_b, PSYCHIATRIST)
    coordinator = Session(server_a, "koordinator")
    case_id = case_id_for(coordinator, CASE)
    with _socket(server_b, psychiatrist, _last_seen(psychiatrist)) as ws:
        _frames(ws, quiet=1.0)  # what the seeding left undelivered
        try:
            quiet = _frames(ws, quiet=12.0)  # more than two of the layer's poll intervals, no client ping
        except ConnectionClosed as closed:
            pytest.fail(f"the server closed an idle socket: {closed}")
        assert quiet == []
        posted = time.monotonic()
        _add_to_team(coordinator, case_id, PSYCHIATRIST_NAME, PSYCHIATRIST_ROLE)
        frame, raw, _ = _wait_for(ws, kind="membership_added", since=posted, timeout=10)
    assert frame["case_reference"] == CASE
    _assert_clean(frame, raw)
