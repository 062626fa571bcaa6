"""The notifications page and the header badge, as a person uses them without JavaScript."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from casework.models import MembershipEndReason, Role, User
from casework.services import team_member_end
from notifications.models import Kind, Notification
from notifications.services import notify
from tests.factories import UserFactory, add_member, open_case

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _notify(
    user: User, kind: str = Kind.TASK_ASSIGNED, reference: str = "OM 2026/0001", **fields: object
) -> Notification:
    with transaction.atomic():
        row = notify(recipient_id=user.pk, kind=kind, case_reference=reference, **fields)  # type: ignore[arg-type]
    assert row is not None
    return row


def _badge(html: str) -> str | None:
    match = re.search(r"data-notifications-count(?: hidden)?>(\d+)<", html)
    return match.group(1) if match else None


def _list_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-notification-id="(\d+)"', html)]


def test_the_list_shows_only_my_notifications_newest_first(teacher: User, coordinator: User) -> None:
    mine = [_notify(teacher, reference=f"OM 2026/000{n}") for n in (1, 2)]
    theirs = _notify(coordinator, reference="OM 2026/0099")
    response = _client(teacher).get(reverse("notification_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert _list_ids(html) == [mine[1].pk, mine[0].pk]
    assert "Máte nový úkol v případu OM 2026/0002." in html
    assert "OM 2026/0099" not in html
    assert theirs.pk not in _list_ids(html)
    assert "<h1>Upozornění</h1>" in html
    # "oznámení" is the legal report (one kind is "report received"; the menu's "Podat oznámení" files one); it never
    # names a notification.
    without_kind_filter = re.sub(r'<select id="id_kind".*?</select>', "", html, flags=re.S)
    without_menu = re.sub(r'<nav class="site-nav".*?</nav>', "", without_kind_filter, flags=re.S)
    assert "oznámení" not in without_menu.lower()


def test_filters_by_unread_and_kind(teacher: User) -> None:
    task = _notify(teacher, Kind.TASK_ASSIGNED)
    added = _notify(teacher, Kind.MEMBERSHIP_ADDED)
    Notification.objects.filter(pk=task.pk).update(read_at=task.created_at)
    client = _client(teacher)
    assert _list_ids(client.get(reverse("notification_list"), {"show": "unread"}).content.decode()) == [added.pk]
    assert _list_ids(client.get(reverse("notification_list"), {"kind": "task_assigned"}).content.decode()) == [task.pk]
    nothing = client.get(reverse("notification_list"), {"show": "unread", "kind": "task_assigned"}).content.decode()
    assert _list_ids(nothing) == []
    assert "Filtru neodpovídá žádné upozornění." in nothing
    # Unknown filter values fall back to everything instead of failing.
    assert len(_list_ids(client.get(reverse("notification_list"), {"show": "x", "kind": "<b>"}).content.decode())) == 2


def test_the_header_badge_counts_unread_and_links_to_the_page(teacher: User) -> None:
    client = _client(teacher)
    html = client.get(reverse("case_list")).content.decode()
    assert _badge(html) == "0"
    assert "data-notifications-count hidden>0<" in html
    for _ in range(3):
        _notify(teacher)
    html = client.get(reverse("case_list")).content.decode()
    assert _badge(html) == "3"
    assert f'href="{reverse("notification_list")}"' in html
    assert "js/notifications.js" in html
    assert f'data-last-seen="{Notification.objects.latest("id").pk}"' in html
    assert 'id="notification-texts"' in html
    # The main menu is unchanged: the badge lives in the header, beside the user's name.
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    assert nav is not None
    assert "Upozornění" not in nav.group(0)


def test_the_administrator_gets_the_badge_for_account_changes_to_confirm() -> None:
    # Issue 19: a DPO's or an administrator's account change waits for a second administrator, who is told here.
    user = UserFactory.create(role=Role.ADMINISTRATOR)
    html = _client(user).get("/no-such-page/").content.decode()
    assert "data-notifications" in html


def test_the_dpo_gets_the_badge_for_access_anomaly_flags() -> None:
    user = UserFactory.create(role=Role.DPO)
    html = _client(user).get("/no-such-page/").content.decode()
    assert "data-notifications" in html


def test_anonymous_visitors_are_sent_to_login() -> None:
    for url in (reverse("notification_list"), reverse("notification_open", args=[1])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert Client().post(reverse("notification_read_all")).status_code == 302


def test_opening_marks_read_and_goes_to_the_case_page(coordinator: User, teacher: User) -> None:
    case = open_case(coordinator=coordinator)
    add_member(case, teacher, coordinator)
    row = Notification.objects.get(recipient=teacher)
    client = _client(teacher)
    response = client.get(reverse("notification_open", args=[row.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", kwargs={"case_id": case.pk})
    assert client.get(response["Location"]).status_code == 200
    row.refresh_from_db()
    assert row.read_at is not None


def test_after_the_membership_ended_the_old_link_leads_to_not_found(coordinator: User, teacher: User) -> None:
    case = open_case(coordinator=coordinator)
    membership = add_member(case, teacher, coordinator)
    added = Notification.objects.get(recipient=teacher, kind=Kind.MEMBERSHIP_ADDED)
    team_member_end(membership=membership, ended_by=coordinator, reason=MembershipEndReason.TASK_DONE)
    ended = Notification.objects.get(recipient=teacher, kind=Kind.MEMBERSHIP_ENDED)
    client = _client(teacher)
    response = client.get(reverse("notification_open", args=[added.pk]), follow=True)
    assert response.status_code == 404  # the case page decides, and says "not found"
    # The "membership ended" notification has no link to a case that can no longer be opened.
    html = client.get(reverse("notification_list")).content.decode()
    assert reverse("notification_open", args=[ended.pk]) not in html
    assert reverse("notification_open", args=[added.pk]) in html
    assert client.get(reverse("notification_open", args=[ended.pk]))["Location"] == reverse("notification_list")


def test_another_users_notification_is_not_found_and_unchanged(teacher: User, coordinator: User) -> None:
    theirs = _notify(coordinator)
    client = _client(teacher)
    assert client.get(reverse("notification_open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notification_read", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("notification_open", args=[theirs.pk + 1000])).status_code == 404
    client.post(reverse("notification_read_all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_and_mark_all_as_read(teacher: User) -> None:
    rows = [_notify(teacher) for _ in range(3)]
    client = _client(teacher)
    response = client.post(reverse("notification_read", args=[rows[0].pk]), {"next": "/notifications/?show=unread"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/?show=unread"
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    assert _badge(client.get(reverse("notification_list")).content.decode()) == "2"
    response = client.post(reverse("notification_read_all"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notification_list")  # no open redirect
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert client.get(reverse("notification_read_all")).status_code == 405


def test_the_page_works_in_english(teacher: User) -> None:
    _notify(teacher, Kind.MEMBERSHIP_ADDED, "OM 2026/0042")
    client = _client(teacher)
    client.cookies.load({"django_language": "en"})
    html = client.get(reverse("notification_list")).content.decode()
    assert "You were added to the team of case OM 2026/0042." in html
    assert "Mark as read" in html


def test_the_list_runs_a_fixed_number_of_queries(teacher: User, django_assert_num_queries: object) -> None:
    """Pinned at two sizes of the user's history (1 and 131 rows: more than two pages), first and a later page."""
    client = _client(teacher)
    client.get(reverse("notification_list"))

    def count(url: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    _notify(teacher)
    one = count(reverse("notification_list"))
    for _ in range(130):
        _notify(teacher)
    assert count(reverse("notification_list")) == one
    html = client.get(reverse("notification_list")).content.decode()
    older = re.search(r'href="\?show=all&amp;kind=&amp;after=(\d+)"', html)
    assert older is not None
    assert count(f"{reverse('notification_list')}?after={older.group(1)}") == one
    with django_assert_num_queries(one):  # type: ignore[operator]
        client.get(reverse("notification_list"))


def test_older_pages_continue_where_the_last_ended_without_counting(teacher: User) -> None:
    """Keyset pages (newest first, 50 a page): every notification once, in order, and no page number or total."""
    made = [_notify(teacher, reference=f"OM 2026/{n:04d}").pk for n in range(120)]
    client = _client(teacher)
    client.cookies.load({"django_language": "en"})
    seen: list[int] = []
    url: str | None = reverse("notification_list")
    pages = 0
    while url:
        html = client.get(url).content.decode()
        pages += 1
        assert "Page " not in html
        seen += [int(n) for n in re.findall(r'action="/notifications/(\d+)/read/"', html)]
        older = re.search(r'href="(\?show=all&amp;kind=&amp;after=\d+)"', html)
        url = reverse("notification_list") + older.group(1).replace("&amp;", "&") if older else None
        if pages > 1:
            assert "Back to the newest" in html
    assert pages == 3
    assert seen == sorted(made, reverse=True)


def test_a_cursor_that_is_not_an_id_gives_the_first_page(teacher: User) -> None:
    _notify(teacher)
    client = _client(teacher)
    first = client.get(reverse("notification_list")).content.decode()
    for bad in ("abc", "-1", "1" * 40, "1.2"):
        response = client.get(reverse("notification_list"), {"after": bad})
        assert response.status_code == 200
        assert re.findall(r'action="/notifications/(\d+)/read/"', response.content.decode()) == re.findall(
            r'action="/notifications/(\d+)/read/"', first
        )


def test_the_daily_digest_can_be_turned_off_and_on(teacher: User) -> None:
    from notifications.models import NotificationPreference

    client = _client(teacher)
    assert 'name="digest" checked' in client.get(reverse("notification_list")).content.decode()
    response = client.post(reverse("notification_preferences"), {"next": "/notifications/"}, follow=True)
    assert NotificationPreference.objects.get(user=teacher).digest is False
    assert "Nastavení e-mailů bylo uloženo." in response.content.decode()
    assert 'name="digest" checked' not in response.content.decode()
    client.post(reverse("notification_preferences"), {"digest": "on"})
    assert NotificationPreference.objects.get(user=teacher).digest is True
