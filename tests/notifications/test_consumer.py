"""The notifications socket as a browser meets it: through the real ASGI app (origin check, session cookie, auth),
against a committed database (websocket tests are transactional)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from casework.models import Case, CloseReason, MembershipEndReason, Role, TeamMembership, User
from casework.services import case_close, team_member_end
from notifications import consumers
from notifications.models import Kind, Notification
from notifications.services import notify, user_group
from tests.factories import UserFactory, add_member, open_case

from .conftest import close_code, connected, db, frames, login_cookie, run, socket

pytestmark = pytest.mark.django_db(transaction=True)


class LaterStepFailed(Exception):
    """A later step of the same change failed, so the whole transaction rolls back."""


def _notify(user: User, kind: str = Kind.TASK_ASSIGNED, reference: str = "OM 2026/0001") -> Notification:
    with transaction.atomic():
        row = notify(recipient_id=user.pk, kind=kind, case_reference=reference)
    assert row is not None
    return row


def _ids(payloads: list[dict[str, Any]]) -> list[int]:
    return [int(p["id"]) for p in payloads if p["type"] == "notification"]


# --- Who may connect -------------------------------------------------------------------------------------------


def test_a_socket_without_a_login_is_refused_with_4401() -> None:
    async def scenario() -> int | None:
        communicator = await connected(socket(None))
        code = await close_code(communicator)
        await communicator.disconnect()
        return code

    assert run(scenario) == consumers.CLOSE_UNAUTHENTICATED


def test_a_forged_or_ended_session_cookie_is_refused(teacher: User) -> None:
    cookie = login_cookie(teacher)
    Session.objects.filter(session_key=cookie).delete()

    async def scenario() -> list[int | None]:
        codes = []
        for value in (cookie, "not-a-session-key"):
            communicator = await connected(socket(value))
            codes.append(await close_code(communicator))
            await communicator.disconnect()
        return codes

    assert run(scenario) == [consumers.CLOSE_UNAUTHENTICATED] * 2


def test_an_inactive_user_is_refused(teacher: User) -> None:
    cookie = login_cookie(teacher)
    User.objects.filter(pk=teacher.pk).update(is_active=False)

    async def scenario() -> int | None:
        communicator = await connected(socket(cookie))
        code = await close_code(communicator)
        await communicator.disconnect()
        return code

    assert run(scenario) == consumers.CLOSE_UNAUTHENTICATED


def test_a_foreign_origin_is_refused_before_the_consumer(teacher: User) -> None:
    from channels.security.websocket import OriginValidator
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    # The test settings allow every host; the production guard is the same validator with the real host list.
    guarded = OriginValidator(application.application_mapping["websocket"].application, ["testserver"])

    async def scenario() -> bool:
        communicator = WebsocketCommunicator(
            guarded, "/ws/notifications/", headers=[(b"origin", b"https://evil.example")]
        )
        ok, _ = await communicator.connect(timeout=5)
        return ok

    assert run(scenario) is False


# --- Live delivery and catch-up ---------------------------------------------------------------------------------


def test_a_committed_notification_arrives_live_and_is_marked_delivered(teacher: User) -> None:
    cookie = login_cookie(teacher)

    async def scenario() -> list[dict[str, object]]:
        communicator = await connected(socket(cookie))
        assert await frames(communicator) == []
        row = await db(_notify)(teacher)
        received = await frames(communicator)
        await communicator.disconnect()
        assert _ids(received) == [row.pk]
        return received

    [payload] = run(scenario)
    row = Notification.objects.get()
    assert payload == {
        "type": "notification",
        "id": row.pk,
        "kind": "task_assigned",
        "case_reference": "OM 2026/0001",
        "url": reverse("notification_open", kwargs={"notification_id": row.pk}),
        "unread": 1,
    }
    assert row.delivered_at is not None
    assert row.read_at is None


def test_reconnect_catches_up_in_order_exactly_once(teacher: User) -> None:
    cookie = login_cookie(teacher)

    async def scenario() -> tuple[list[int], list[int], list[int]]:
        first = await connected(socket(cookie))
        seen = _ids(await frames(first))
        early = await db(_notify)(teacher, reference="OM 2026/0001")
        seen += _ids(await frames(first))
        await first.disconnect()
        # Three rows arrive while the page is away.
        missed = [await db(_notify)(teacher, reference=f"OM 2026/000{n}") for n in (2, 3, 4)]
        assert not await db(lambda: Notification.objects.filter(delivered_at__isnull=False, pk__gt=early.pk).exists())()
        second = await connected(socket(cookie, last_seen=max(seen)))
        caught_up = _ids(await frames(second))
        await second.disconnect()
        third = await connected(socket(cookie, last_seen=max(caught_up)))
        again = _ids(await frames(third))
        await third.disconnect()
        assert seen == [early.pk]
        return caught_up, [row.pk for row in missed], again

    caught_up, missed, again = run(scenario)
    assert caught_up == missed  # in order, once each
    assert again == []  # nothing twice
    assert Notification.objects.filter(delivered_at__isnull=True).count() == 0


def test_rows_never_delivered_are_sent_on_connect_even_below_last_seen(teacher: User) -> None:
    rows = [_notify(teacher) for _ in range(2)]
    cookie = login_cookie(teacher)

    async def scenario() -> list[int]:
        communicator = await connected(socket(cookie, last_seen=rows[-1].pk))  # the page rendered both
        received = _ids(await frames(communicator))
        await communicator.disconnect()
        return received

    assert run(scenario) == [row.pk for row in rows]
    assert not Notification.objects.filter(delivered_at__isnull=True).exists()


def test_a_rolled_back_change_sends_nothing_and_leaves_no_row(coordinator: User, teacher: User) -> None:
    case = open_case(coordinator=coordinator)
    cookie = login_cookie(teacher)

    def add_then_fail() -> None:
        with contextlib.suppress(LaterStepFailed), transaction.atomic():
            add_member(case, teacher, coordinator)
            raise LaterStepFailed

    async def scenario() -> list[dict[str, object]]:
        communicator = await connected(socket(cookie))
        await db(add_then_fail)()
        received = await frames(communicator, quiet=0.5)
        await communicator.disconnect()
        return received

    assert run(scenario) == []
    assert not Notification.objects.filter(recipient=teacher).exists()
    assert not TeamMembership.objects.filter(user=teacher).exists()


def test_two_sockets_of_one_user_both_get_the_notification(teacher: User) -> None:
    cookies = [login_cookie(teacher), login_cookie(teacher)]

    async def scenario() -> list[list[int]]:
        sockets = [await connected(socket(cookie)) for cookie in cookies]
        row = await db(_notify)(teacher)
        received = [_ids(await frames(s)) for s in sockets]
        for s in sockets:
            await s.disconnect()
        assert received == [[row.pk], [row.pk]]
        return received

    run(scenario)


# --- Nothing of another user ------------------------------------------------------------------------------------


def test_a_forged_last_seen_never_sends_another_users_rows(teacher: User, coordinator: User) -> None:
    theirs = [_notify(coordinator) for _ in range(3)]
    mine = _notify(teacher)
    cookie = login_cookie(teacher)

    async def scenario() -> list[list[int]]:
        results = []
        for last_seen in ("0", "-5", "abc", str(theirs[0].pk - 1), "9" * 400, "1e3", " 1", "0x10"):
            communicator = await connected(socket(cookie, last_seen=last_seen))
            results.append(_ids(await frames(communicator, quiet=0.15)))
            await communicator.disconnect()
        return results

    results = run(scenario)
    assert results[0] == [mine.pk]  # then delivered: later connects send it only if after last_seen
    for received in results:
        assert not set(received) & {row.pk for row in theirs}
    assert all(row.delivered_at is None for row in Notification.objects.filter(recipient=coordinator))


def test_a_group_message_naming_another_users_row_sends_nothing(teacher: User, coordinator: User) -> None:
    theirs = _notify(coordinator)
    cookie = login_cookie(teacher)

    async def scenario() -> list[dict[str, object]]:
        communicator = await connected(socket(cookie))
        await frames(communicator)
        layer = get_channel_layer()
        await layer.group_send(user_group(teacher.pk), {"type": "notification.new", "id": theirs.pk})
        await layer.group_send(user_group(teacher.pk), {"type": "notification.new", "id": "1; DROP TABLE"})
        await layer.group_send(user_group(teacher.pk), {"type": "notifications.pending"})
        received = await frames(communicator)
        await communicator.disconnect()
        return received

    assert run(scenario) == []
    assert Notification.objects.get(pk=theirs.pk).delivered_at is None


def test_an_ack_for_another_users_row_changes_nothing(teacher: User, coordinator: User) -> None:
    theirs = _notify(coordinator)
    cookie = login_cookie(teacher)

    async def scenario() -> list[dict[str, object]]:
        communicator = await connected(socket(cookie))
        await communicator.send_json_to({"type": "ack", "id": theirs.pk})
        received = await frames(communicator)
        await communicator.disconnect()
        return received

    assert run(scenario) == []
    assert Notification.objects.get(pk=theirs.pk).delivered_at is None


# --- Bad input ----------------------------------------------------------------------------------------------------


def test_malformed_frames_get_an_error_and_the_socket_keeps_working(teacher: User) -> None:
    cookie = login_cookie(teacher)
    bad_frames = [
        "not json",
        "[1, 2, 3]",
        '"ping"',
        "null",
        "{}",
        '{"type": "no-such-type"}',
        '{"type": 42}',
        '{"type": ["ping"]}',
        '{"type": "ack", "id": "7"}',
        '{"type": "ack", "id": true}',
        '{"type": "ack", "id": 99999999999999999999999}',
        '{"type": "subscribe", "case_id": "../../etc"}',
        '{"type": "subscribe", "case_id": 5}',
        json.dumps({"type": "ping", "padding": "x" * 2000}),
    ]

    assert len(bad_frames) + 2 <= consumers.FLOOD_MESSAGES  # this test is about bad frames, not about floods

    async def scenario() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        communicator = await connected(socket(cookie))
        errors = []
        for frame in bad_frames:
            await communicator.send_to(text_data=frame)
            errors.append(await communicator.receive_json_from(timeout=5))
        await communicator.send_to(bytes_data=b"\x00\x01binary")
        errors.append(await communicator.receive_json_from(timeout=5))
        await communicator.send_json_to({"type": "ping"})  # the same socket still answers
        after = await frames(communicator)
        await communicator.disconnect()
        return errors, after

    errors, after = run(scenario)
    assert errors == [{"type": "error", "code": "bad_message"}] * (len(bad_frames) + 1)
    assert after == [{"type": "pong"}]


def test_a_flood_closes_the_socket_with_4429(teacher: User) -> None:
    cookie = login_cookie(teacher)

    async def scenario() -> tuple[int, int | None]:
        communicator = await connected(socket(cookie))
        for _ in range(consumers.FLOOD_MESSAGES + 5):
            await communicator.send_to(text_data='{"type": "ping"}')
        pongs = 0
        while True:
            message = await communicator.receive_output(timeout=5)
            if message["type"] == "websocket.close":
                code = message.get("code")
                break
            pongs += 1
        await communicator.disconnect()
        return pongs, code

    pongs, code = run(scenario)
    assert code == consumers.CLOSE_FLOOD
    assert pongs == consumers.FLOOD_MESSAGES


def test_parse_last_seen_accepts_only_plain_numbers() -> None:
    assert consumers.parse_last_seen(b"last_seen=42") == 42
    assert consumers.parse_last_seen(b"last_seen=42&last_seen=7") == 42
    for raw in (
        b"",
        b"last_seen=",
        b"last_seen=-1",
        b"last_seen=1.5",
        b"last_seen=%EF%BC%91",
        b"last_seen=" + b"9" * 30,
    ):
        assert consumers.parse_last_seen(raw) == 0, raw


# --- Revocation -------------------------------------------------------------------------------------------------


def test_logout_closes_the_sockets_of_that_session_only(teacher: User) -> None:
    browser = Client()
    browser.force_login(teacher)
    cookie = browser.cookies["sessionid"].value
    other_cookie = login_cookie(teacher)

    async def scenario() -> tuple[int | None, list[dict[str, object]]]:
        communicator = await connected(socket(cookie))
        other = await connected(socket(other_cookie))
        await db(browser.post)(reverse("logout"))
        code = await close_code(communicator)
        await other.send_json_to({"type": "ping"})
        still_open = await frames(other)
        await communicator.disconnect()
        await other.disconnect()
        return code, still_open

    code, still_open = run(scenario)
    assert code == consumers.CLOSE_SESSION_ENDED
    assert still_open == [{"type": "pong"}]


def test_deactivating_the_account_closes_every_socket(teacher: User) -> None:
    cookies = [login_cookie(teacher), login_cookie(teacher)]

    def deactivate() -> None:
        user = User.objects.get(pk=teacher.pk)
        user.is_active = False
        user.save()

    async def scenario() -> list[int | None]:
        sockets = [await connected(socket(cookie)) for cookie in cookies]
        await db(deactivate)()
        codes = [await close_code(s) for s in sockets]
        for s in sockets:
            await s.disconnect()
        return codes

    assert run(scenario) == [consumers.CLOSE_SESSION_ENDED] * 2


def test_a_session_that_ended_elsewhere_is_noticed_on_the_next_ping(teacher: User) -> None:
    cookie = login_cookie(teacher)

    async def scenario() -> int | None:
        communicator = await connected(socket(cookie))
        await db(lambda: Session.objects.filter(session_key=cookie).delete())()  # expiry, or another process
        await communicator.send_json_to({"type": "ping"})
        code = await close_code(communicator)
        await communicator.disconnect()
        return code

    assert run(scenario) == consumers.CLOSE_SESSION_ENDED


def test_a_password_change_elsewhere_ends_the_socket_on_the_next_event(teacher: User) -> None:
    cookie = login_cookie(teacher)

    def change_password() -> None:
        user = User.objects.get(pk=teacher.pk)
        user.set_password("a-new-password-1234")
        user.save()

    async def scenario() -> int | None:
        communicator = await connected(socket(cookie))
        await db(change_password)()
        await db(_notify)(teacher)
        code = await close_code(communicator)  # closed instead of sending
        await communicator.disconnect()
        return code

    assert run(scenario) == consumers.CLOSE_SESSION_ENDED
    assert Notification.objects.get().delivered_at is None


def test_ending_a_membership_sends_case_revoked_and_drops_the_subscription(coordinator: User, teacher: User) -> None:
    case = open_case(coordinator=coordinator)
    membership = add_member(case, teacher, coordinator)
    cookie = login_cookie(teacher)

    async def scenario() -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
        communicator = await connected(socket(cookie))
        await frames(communicator)  # the "added to the team" notification
        await communicator.send_json_to({"type": "subscribe", "case_id": str(case.pk)})
        subscribed = await frames(communicator)
        await db(team_member_end)(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
        after_end = await frames(communicator)
        await communicator.send_json_to({"type": "subscribe", "case_id": str(case.pk)})
        again = await frames(communicator)
        await communicator.disconnect()
        return subscribed, after_end, again

    subscribed, after_end, again = run(scenario)
    assert subscribed == [{"type": "subscribed", "case_id": str(case.pk)}]
    ended = Notification.objects.get(recipient=teacher, kind=Kind.MEMBERSHIP_ENDED)
    assert {"type": "case_revoked", "case_id": str(case.pk)} in after_end
    assert ended.pk in _ids(after_end)
    assert again == [{"type": "subscribe_refused", "case_id": str(case.pk)}]


def test_closing_the_case_revokes_every_member(coordinator: User, teacher: User) -> None:
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    cookie = login_cookie(teacher)
    coordinator_cookie = login_cookie(coordinator)

    async def scenario() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        member = await connected(socket(cookie))
        lead = await connected(socket(coordinator_cookie))
        for communicator in (member, lead):
            await frames(communicator)
            await communicator.send_json_to({"type": "subscribe", "case_id": str(case.pk)})
            assert await frames(communicator) == [{"type": "subscribed", "case_id": str(case.pk)}]
        await db(case_close)(case=case, closed_by=coordinator, reason=CloseReason.GOALS_MET)
        results = await frames(member), await frames(lead)
        await member.disconnect()
        await lead.disconnect()
        return results

    member_frames, lead_frames = run(scenario)
    assert {"type": "case_revoked", "case_id": str(case.pk)} in member_frames
    assert lead_frames == []  # the coordinator keeps read-only access and was not notified of their own action


def test_nobody_may_follow_a_case_they_do_not_see(coordinator: User, teacher: User) -> None:
    case = open_case(coordinator=coordinator)
    stranger = UserFactory.create(role=Role.PARTNER)
    cookies = {user.username: login_cookie(user) for user in (teacher, stranger)}
    missing = "00000000-0000-4000-8000-000000000000"

    async def scenario() -> list[list[dict[str, object]]]:
        results = []
        for cookie in cookies.values():
            communicator = await connected(socket(cookie))
            for case_id in (str(case.pk), missing):
                await communicator.send_json_to({"type": "subscribe", "case_id": case_id})
            results.append(await frames(communicator))
            await communicator.disconnect()
        return results

    for received in run(scenario):
        assert received == [
            {"type": "subscribe_refused", "case_id": str(case.pk)},
            {"type": "subscribe_refused", "case_id": missing},
        ]


def test_a_handover_keeps_a_supervisor_following_and_tells_the_new_coordinator(
    coordinator: User, supervisor: User
) -> None:
    from casework.models import HandoverReason
    from casework.services import coordinator_handover

    case = open_case(coordinator=supervisor)
    cookies = [login_cookie(supervisor), login_cookie(coordinator)]

    async def scenario() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        old, new = [await connected(socket(cookie)) for cookie in cookies]
        await old.send_json_to({"type": "subscribe", "case_id": str(case.pk)})
        await frames(old)
        await db(
            lambda: coordinator_handover(
                case=Case.objects.get(pk=case.pk), to=coordinator, by=supervisor, reason=HandoverReason.WORKLOAD
            )
        )()
        result = await frames(old), await frames(new)
        await old.disconnect()
        await new.disconnect()
        return result

    old_frames, new_frames = run(scenario)
    assert old_frames == []  # the supervisor still sees the case: no revocation
    # The case, and the open task of the case flow that moved with it.
    assert sorted((p["kind"], p["case_reference"]) for p in new_frames) == [
        (Kind.CASE_ASSIGNED, case.reference),
        (Kind.TASK_ASSIGNED, case.reference),
    ]


# --- Push failure and the relay ---------------------------------------------------------------------------------


def test_a_failed_push_commits_the_row_and_the_relay_delivers_it(
    teacher: User, coordinator: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    case = open_case(coordinator=coordinator)
    cookie = login_cookie(teacher)
    layer = get_channel_layer()

    async def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("channel layer down")

    async def scenario() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        communicator = await connected(socket(cookie))
        monkeypatch.setattr(layer, "group_send", broken)
        await db(add_member)(case, teacher, coordinator)
        during_outage = await frames(communicator)
        monkeypatch.undo()
        await db(call_command)("notifications_relay", "--after", "0")
        after_recovery = await frames(communicator)
        await communicator.disconnect()
        return during_outage, after_recovery

    during_outage, after_recovery = run(scenario)
    row = Notification.objects.get(recipient=teacher)
    assert TeamMembership.objects.filter(user=teacher, case=case).exists()  # the change stands
    assert during_outage == []
    assert _ids(after_recovery) == [row.pk]
    assert row.delivered_at is not None
    assert row.push_count == 1
    assert f"push failed for ids [{row.pk}]" in caplog.text


def test_the_relay_waits_before_pushing_and_backs_off(teacher: User) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from notifications.services import relay_undelivered

    row = _notify(teacher)
    now = timezone.now()
    week = timedelta(days=7)
    assert relay_undelivered(after_seconds=15, max_age=week, now=now).pushed == 0  # too fresh
    later = row.created_at + timedelta(seconds=15)
    assert relay_undelivered(after_seconds=15, max_age=week, now=later).pushed == 1
    assert relay_undelivered(after_seconds=15, max_age=week, now=later + timedelta(seconds=20)).pushed == 0
    assert relay_undelivered(after_seconds=15, max_age=week, now=later + timedelta(seconds=30)).pushed == 1
    assert relay_undelivered(after_seconds=15, max_age=week, now=later + timedelta(seconds=31)).pushed == 0
    assert relay_undelivered(after_seconds=15, max_age=week, now=later + timedelta(seconds=90)).pushed == 1
    assert relay_undelivered(after_seconds=15, max_age=week, now=row.created_at + week + timedelta(1)).pushed == 0
    Notification.objects.filter(pk=row.pk).update(delivered_at=now)
    assert relay_undelivered(after_seconds=15, max_age=week, now=later + timedelta(days=1)).pushed == 0


def test_marking_read_on_the_page_updates_the_count_on_open_sockets(teacher: User) -> None:
    rows = [_notify(teacher) for _ in range(2)]
    browser = Client()
    browser.force_login(teacher)
    cookie = browser.cookies["sessionid"].value

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        communicator = await connected(socket(cookie, last_seen=rows[-1].pk))
        await frames(communicator)
        await db(browser.post)(reverse("notification_read", args=[rows[0].pk]))
        one = await frames(communicator)
        await db(browser.post)(reverse("notification_read_all"))
        none = await frames(communicator)
        await communicator.disconnect()
        return one, none

    one, none = run(scenario)
    assert one == [{"type": "unread", "unread": 1}]
    assert none == [{"type": "unread", "unread": 0}]
