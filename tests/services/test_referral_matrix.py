"""The referral pages' access matrix: every referral URL (from the resolver) for every role, in each state.

A referral URL without an entry here fails ``test_every_referral_url_has_a_row``. The letter's canary must appear
exactly where the reader may read the letter, never elsewhere.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from casework.models import Role, Sector, User
from services.referrals.models import DeclineReason, Referral
from services.referrals.services import referral_decline, referral_send
from tests.factories import OrganisationFactory, UserFactory, add_member, school_partner, team_role
from tests.services.referral_world import SAS_WORKER_ROLE, ReferralWorld, agreement, make_world

pytestmark = pytest.mark.django_db

CANARY = "LETTERCANARY-5521"
ROLES = ("coordinator", "supervisor", "neutral", "intake", "other_intake", "member", "dpo", "administrator")
N, F, OK = 404, 403, 200

# GET status per URL and role on a *sent* referral (the answer pages are the forms alone).
EXPECTED_SENT: dict[str, dict[str, int]] = {
    "referral_detail": {"coordinator": OK, "supervisor": OK, "intake": OK},
    "referral_accept": {"coordinator": F, "supervisor": F, "intake": OK},
    "referral_waitlist": {"coordinator": F, "supervisor": F, "intake": OK},
    "referral_decline": {"coordinator": F, "supervisor": F, "intake": OK},
    "referral_withdraw": {"coordinator": OK, "supervisor": OK, "intake": F},
}
# After a decline: the provider keeps nothing.
EXPECTED_DECLINED: dict[str, dict[str, int]] = {
    "referral_detail": {"coordinator": OK, "supervisor": OK},
    "referral_accept": {"coordinator": F, "supervisor": F},
    "referral_waitlist": {"coordinator": F, "supervisor": F},
    "referral_decline": {"coordinator": F, "supervisor": F},
    "referral_withdraw": {"coordinator": F, "supervisor": F},
}
#: Pages without a referral id: the inbox (intake workers only) and the case's referral form (the case matrix).
LIST_EXPECTED = {"intake": OK, "other_intake": OK}
READS_LETTER = {"referral_detail": {"coordinator", "supervisor", "intake"}}


def _referral_patterns() -> Iterator[str]:
    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[tuple[str, str]]:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, route)
            elif entry.name:
                yield entry.name, route

    for name, route in walk(get_resolver().url_patterns, ""):
        if "referral_id" in route:
            yield name


@pytest.fixture
def people(coordinator: User, supervisor: User, dpo: User, administrator: User) -> dict[str, object]:
    world = make_world(coordinator)
    assert coordinator.organisation is not None
    neutral = UserFactory.create(username="kolega", role=Role.OSPOD_WORKER, organisation=coordinator.organisation)
    other_org = OrganisationFactory.create(
        name="Jiná SAS", sector=Sector.SERVICE, municipality=coordinator.organisation.municipality
    )
    member = school_partner(municipality=coordinator.organisation.municipality)
    add_member(world.case, member, coordinator)
    users = {
        "coordinator": coordinator,
        "supervisor": supervisor,
        "neutral": neutral,
        "intake": world.worker,
        "other_intake": UserFactory.create(username="jiny-prijem", role=Role.PARTNER, organisation=other_org),
        "member": member,
        "dpo": dpo,
        "administrator": administrator,
    }
    return {"world": world, "users": users}


def _send(world: ReferralWorld) -> Referral:
    from casework.services import case_note_add

    note = case_note_add(case=world.case, author=world.coordinator, compartment="school", text=CANARY)
    return referral_send(
        case=world.case,
        sent_by=world.coordinator,
        service=world.service,
        referred="family",
        reason="Podpora rodiny.",
        include_child=False,
        note_ids=[str(note.pk)],
        agreement=agreement(),
    )


def _get(user: User, url: str) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    return response.status_code, response.content.decode()


def test_every_referral_url_has_a_row() -> None:
    assert set(_referral_patterns()) == set(EXPECTED_SENT) == set(EXPECTED_DECLINED)


@pytest.mark.parametrize("state", ["sent", "declined"])
def test_referral_pages_for_every_role(people: dict[str, object], state: str) -> None:
    world = people["world"]
    users = people["users"]
    assert isinstance(world, ReferralWorld)
    assert isinstance(users, dict)
    referral = _send(world)
    expected = EXPECTED_SENT
    if state == "declined":
        referral_decline(referral=referral, by=world.worker, reason=DeclineReason.NO_CAPACITY, explanation="Plno.")
        expected = EXPECTED_DECLINED
    got: dict[tuple[str, str], int] = {}
    want: dict[tuple[str, str], int] = {}
    for name, by_role in expected.items():
        url = reverse(name, kwargs={"referral_id": referral.pk})
        for role in ROLES:
            status, body = _get(users[role], url)
            got[(name, role)] = status
            want[(name, role)] = by_role.get(role, N)
            readers = READS_LETTER.get(name, set()) - ({"intake"} if state == "declined" else set())
            reads = status == OK and role in readers
            assert (CANARY in body) == reads, (name, role, state)
    assert got == want


def test_referral_inbox_for_every_role(people: dict[str, object]) -> None:
    world = people["world"]
    users = people["users"]
    assert isinstance(world, ReferralWorld)
    assert isinstance(users, dict)
    referral = _send(world)
    for role in ROLES:
        status, body = _get(users[role], reverse("referral_list"))
        assert status == LIST_EXPECTED.get(role, F), role
        assert (referral.number in body) == (role == "intake"), role
        assert CANARY not in body


def test_posting_an_answer_is_refused_to_every_other_role(people: dict[str, object]) -> None:
    world = people["world"]
    users = people["users"]
    assert isinstance(world, ReferralWorld)
    assert isinstance(users, dict)
    referral = _send(world)
    day = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    posts = {
        "referral_accept": {"member": str(world.worker.pk), "team_role": str(team_role(SAS_WORKER_ROLE).pk)},
        "referral_waitlist": {"expected_on": day},
        "referral_decline": {"reason": DeclineReason.NO_CAPACITY, "explanation": "Plno."},
    }
    for name, data in posts.items():
        url = reverse(name, kwargs={"referral_id": referral.pk})
        for role in ROLES:
            if role == "intake":
                continue
            client = Client()
            client.force_login(users[role])
            assert client.post(url, data).status_code in (F, N), (name, role)
    assert Referral.objects.get(pk=referral.pk).status == "sent"
    client = Client()
    client.force_login(world.worker)
    response = client.post(reverse("referral_accept", kwargs={"referral_id": referral.pk}), posts["referral_accept"])
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == "accepted"
