"""Schemathesis against the API's own schema, in process, with a token for every role (issue 23, "Fuzzing").

For each role of the access matrix's world and each operation of /api/v1/, Hypothesis draws a small, deterministic
set of requests from the schema (``SCHEMATHESIS_MAX_EXAMPLES``, 4 by default; ``derandomize``: the same examples on
every run). Every answer must be no 5xx, documented (status code, content type, body schema), and an answer to a
partner's token must hold no canary of a compartment that partner may not read. Runs in both passes of .ci/run
(SQLite, then PostgreSQL + Redis) as part of ``make test``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from casework.models import Municipality
from tests.api.test_api_access_matrix import _leaks
from tests.api.world import ApiWorld, build
from tests.permissions.test_access_matrix import ROLES, World
from tests.permissions.test_access_matrix import world as world

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PARTNERS = ("school", "health", "service")


@pytest.fixture
def in_process_wsgi() -> Any:
    """The WSGI app without the per-request connection closing (as Django's test client does): the requests run in
    the test's transaction and see its world."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _schema(app: Any) -> Any:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = app
    return loaded


def _fuzz(operation: Any, role: str, headers: dict[str, str], api: ApiWorld) -> Any:
    """One operation as one role: a Hypothesis test over the operation's strategy (called at once)."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
        if role in PARTNERS:
            situation = next(
                (
                    name
                    for name, key in api.world.by_role[role].items()
                    if key and str(api.world.cases[key].case.pk) in case.formatted_path
                ),
                None,
            )
            leaks = _leaks(role, situation, api, response.text)
            assert not leaks, f"{case.method} {case.formatted_path} as {role}: {leaks}"

    return run


def test_fuzzing_the_schema_for_every_role(world: World, olomouc: Municipality, in_process_wsgi: Any) -> None:
    api: ApiWorld = build(world, olomouc)
    schema = _schema(in_process_wsgi)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"GET /api/v1/services/", "GET /api/v1/services/{service_id}/", "GET /api/v1/service-types/"} <= labels
    assert len(operations) >= 17
    problems: list[str] = []
    for role in ROLES:
        headers = {"Authorization": f"Bearer {api.tokens[role]}"}
        for operation in operations:
            run = _fuzz(operation, role, headers, api)
            try:
                run()
            except Exception as exc:  # collect every operation's failure, then fail once
                problems.append(f"{operation.label} as {role}: {str(exc)[:1500]}")
    assert not problems, "\n\n".join(problems)
