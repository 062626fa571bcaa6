"""The API's access matrix: every route under /api/v1/, for every role, with a token — the twin of the pages' matrix
(tests/permissions/test_access_matrix.py), over the same world.

The routes come from the resolver: a new API route without a row in ``EXPECTED`` fails
``test_every_api_route_has_an_expected_row``. Routes that take a case (``case_pk``) are tried in each situation of
the pages' matrix (own, team, unrelated, closed, foreign); the others once per role, on the world's objects (the
school's plan-action task, its report, its notification). Every response, whatever its status, is searched for the
markers of compartments the role may not read (``VISIBLE`` of the pages' matrix): a partner's token never receives a
value planted in a compartment that partner may not read. Refused requests change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from casework.models import ActionReport, Municipality, Report
from tests.api.helpers import body, client_with
from tests.api.world import ACTION_MARKER, REPORT_MARKER, ApiWorld, build
from tests.permissions.test_access_matrix import (
    _READ,
    NA,
    ROLES,
    SITUATIONS,
    VISIBLE,
    World,
    world,  # noqa: F401 (the pages' matrix world, a fixture)
)
from tests.permissions.test_access_matrix import _state as page_state

pytestmark = pytest.mark.django_db

OK, CREATED, BAD, UNAUTH, F, N, NOT_ALLOWED = 200, 201, 400, 401, 403, 404, 405
ALL = dict.fromkeys(ROLES, OK)
_AUTHORITY: dict[str, tuple[int | None, ...]] = {
    # The OSPOD routes: the authority's staff, on the cases they see; anyone else is refused by role (403).
    "supervisor": _READ["supervisor"],
    "ospod_worker": _READ["ospod_worker"],
    **{role: (NA, F, F, F, F) for role in ("school", "health", "service", "dpo", "administrator", "regional_office")},
}

# GET status per route: role -> (own, team, unrelated, closed, foreign) for case routes, role -> status otherwise.
CASE_EXPECTED: dict[str, dict[str, tuple[int | None, ...]]] = {
    "api_case": _READ,
    "api_case_memberships": _AUTHORITY,
    "api_case_plans": _AUTHORITY,
}
EXPECTED: dict[str, dict[str, int]] = {
    "api_me": ALL,
    "api_tasks_mine": ALL,
    "api_tasks_queue": ALL,
    "api_cases": ALL,
    "api_notifications": ALL,
    "api_reports": dict.fromkeys(ROLES, NOT_ALLOWED),
    "api_notifications_read_all": dict.fromkeys(ROLES, NOT_ALLOWED),
    "api_task_claim": dict.fromkeys(ROLES, NOT_ALLOWED),
    "api_action_report": dict.fromkeys(ROLES, NOT_ALLOWED),
    "api_notification_read": dict.fromkeys(ROLES, NOT_ALLOWED),
    # The filer's own report: its number and status for them, the same 404 as a missing report for everyone else.
    "api_report": {role: OK if role == "school" else N for role in ROLES},
    # The service directory: every active account (may_search_service_directory); a card holds no child data.
    "api_services": ALL,
    "api_service": ALL,
    "api_service_types": ALL,
}
# POST with an empty body, per route and role (only the routes that take a POST).
POST_EXPECTED: dict[str, dict[str, int]] = {
    # Filing: a blank report is field errors for whoever may file; the DPO, the administrator and the regional office
    # never file.
    "api_reports": {**dict.fromkeys(ROLES, BAD), "dpo": F, "administrator": F, "regional_office": F},
    "api_notifications_read_all": ALL,
    # The school's own notification: theirs to mark; anyone else's looks missing.
    "api_notification_read": {role: OK if role == "school" else N for role in ROLES},
    # The school's plan action (assigned to them): a blank report is a field error for them; anyone else — the
    # case's lead included: a plan action is its holder's work — gets the 404 of a missing task.
    "api_action_report": {**dict.fromkeys(ROLES, N), "school": BAD},
    # Taking the school's task from a queue: it is no queue task any more (assigned): a field error for the school.
    "api_task_claim": {**dict.fromkeys(ROLES, N), "school": BAD},
}


def api_routes() -> Iterator[tuple[str, str]]:
    """(name, route) of every named route under /api/v1/."""

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[tuple[str, str]]:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, route)
            elif entry.name:
                yield entry.name, route

    for name, route in walk(get_resolver().url_patterns, ""):
        if route.startswith("api/v1/"):
            yield name, route


def fill(route: str, api: ApiWorld, case_key: str | None) -> str:
    values = {
        "case_pk": str(api.world.cases[case_key].case.pk) if case_key else "",
        "task_id": str(api.action_task_id),
        "report_id": str(api.school_report.pk),
        "notification_id": str(api.school_notification.pk),
        "service_id": str(api.service.pk),
    }
    path = route
    for name, value in values.items():
        for converter in ("uuid", "int"):
            path = path.replace(f"<{converter}:{name}>", value)
    assert "<" not in path, f"teach the API matrix how to fill {route}"
    return "/" + path


def test_every_api_route_has_an_expected_row() -> None:
    found = dict(api_routes())
    assert found, "no API routes found: the resolver walk is broken"
    known = set(EXPECTED) | set(CASE_EXPECTED)
    assert not sorted(set(found) - known), f"API routes without a row in the matrix: {sorted(set(found) - known)}"
    assert not sorted(known - set(found)), f"matrix rows for routes that no longer exist: {sorted(known - set(found))}"
    for name, route in found.items():
        assert ("case_pk" in route) == (name in CASE_EXPECTED), name


def _state() -> tuple[object, ...]:
    return (page_state(), ActionReport.objects.count(), Report.objects.count())


def _leaks(role: str, situation: str | None, api: ApiWorld, text: str) -> list[str]:
    """Markers in ``text`` that ``role`` may not read (the case ``situation`` names is the one the route shows)."""
    found = []
    shown = api.world.by_role[role].get(situation) if situation else None
    allowed = VISIBLE.get(role, {}).get(situation or "", frozenset())
    for key, fixture in api.world.cases.items():
        for part, marker in fixture.markers.items():
            if marker in text and not (key == shown and part in allowed):
                found.append(f"{key}/{part}")
        if f"MATRIXMARK-{key}-identity" in text:
            found.append(f"{key}/consent giver")
    if REPORT_MARKER in text:
        found.append("the report's facts")  # the API never answers a report's text, not even to its filer
    if ACTION_MARKER in text:
        found.append("the plan action's text")  # lists and answers carry ids, never the action's text
    return found


@pytest.fixture
def api(world: World, olomouc: Municipality) -> ApiWorld:  # noqa: F811
    return build(world, olomouc)


def test_api_access_matrix(api: ApiWorld) -> None:
    routes = dict(api_routes())
    before = _state()
    problems: list[str] = []
    for role in ROLES:
        client = client_with(api.tokens[role])
        for name, route in sorted(routes.items()):
            if name in CASE_EXPECTED:
                for situation, expected in zip(SITUATIONS, CASE_EXPECTED[name][role], strict=True):
                    key = api.world.by_role[role][situation]
                    if expected is NA:
                        continue
                    response = client.get(fill(route, api, key))
                    if response.status_code != expected:
                        problems.append(f"GET {name} as {role} on {situation}: {response.status_code} != {expected}")
                    problems += [
                        f"GET {name} as {role} on {situation} shows {leak}"
                        for leak in _leaks(role, situation, api, body(response))
                    ]
                    posted = client.post(fill(route, api, key), {}, format="json")
                    if posted.status_code not in (NOT_ALLOWED, F) and expected != OK:
                        problems.append(f"POST {name} as {role} on {situation}: {posted.status_code}")
                continue
            url = fill(route, api, None)
            response = client.get(url)
            if response.status_code != EXPECTED[name][role]:
                problems.append(f"GET {name} as {role}: {response.status_code} != {EXPECTED[name][role]}")
            problems += [f"GET {name} as {role} shows {leak}" for leak in _leaks(role, None, api, body(response))]
            if name in POST_EXPECTED:
                posted = client.post(url, {}, format="json")
                if posted.status_code != POST_EXPECTED[name][role]:
                    problems.append(f"POST {name} as {role}: {posted.status_code} != {POST_EXPECTED[name][role]}")
                problems += [f"POST {name} as {role} shows {leak}" for leak in _leaks(role, None, api, body(posted))]
    assert not problems, "\n".join(problems)
    assert _state() == before


def _every_request(api: ApiWorld, token: str) -> Iterator[tuple[str, str, Any]]:
    client = client_with(token)
    for name, route in sorted(api_routes()):
        keys: list[str | None] = list(api.world.cases) if name in CASE_EXPECTED else [None]
        for key in keys:
            url = fill(route, api, key)
            yield "GET", url, client.get(url)
            yield "POST", url, client.post(url, {"text": "x"}, format="json")


def test_an_expired_token_opens_nothing(api: ApiWorld) -> None:
    import datetime

    import time_machine

    from api.models import ApiToken

    token = ApiToken.objects.get(user=api.world.users["supervisor"])
    with time_machine.travel(token.expires_at + datetime.timedelta(seconds=1)):
        statuses = {
            (method, url): response.status_code
            for method, url, response in _every_request(api, api.tokens["supervisor"])
        }
    assert set(statuses.values()) == {UNAUTH}, statuses


def test_a_revoked_token_opens_nothing(api: ApiWorld) -> None:
    from api.models import ApiToken
    from api.tokens import token_revoke

    user = api.world.users["school"]
    token_revoke(user=user, token_id=ApiToken.objects.get(user=user).pk)
    statuses = {response.status_code for _method, _url, response in _every_request(api, api.tokens["school"])}
    assert statuses == {UNAUTH}


def test_the_token_of_an_ended_member_loses_the_case(api: ApiWorld) -> None:
    """Nothing happens to the token when the membership ends: the access helpers simply stop finding the case."""
    from casework.models import MembershipEndReason, TeamMembership
    from casework.services import team_member_end

    school = api.world.users["school"]
    team = api.world.cases["team"]
    client = client_with(api.tokens["school"])
    url = f"/api/v1/cases/{team.case.pk}/"
    assert client.get(url).status_code == OK
    assert team.markers["school"] in body(client.get(url))
    membership = TeamMembership.objects.get(case=team.case, user=school, ended_at__isnull=True)
    team_member_end(membership=membership, ended_by=api.world.users["neutral"], reason=MembershipEndReason.CHANGED_JOB)
    assert client.get(url).status_code == N
    listed = body(client.get("/api/v1/cases/"))
    assert str(team.case.pk) not in listed
    mine = body(client.get("/api/v1/tasks/mine/"))
    assert str(api.action_task_id) not in mine
    posted = client.post(f"/api/v1/tasks/{api.action_task_id}/action-reports/", {"text": "hotovo"}, format="json")
    assert posted.status_code == N
