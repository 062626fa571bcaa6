"""Page latencies at two data sizes, measured in-process with Django's test client, the sizes alternated (ABAB).

The pages are the access matrix's main list for the two roles that carry an authority's load: the coordinator
(``koord1``) and the supervisor (``vedouci1``) — inbox, the inbox filtered by each task type, the case list, a
reference search, a case page, notifications and (for the supervisor) the oversight timeline of a case. Each round
switches the one connection to the other size's database and requests every page ``iterations`` times; p50 and p95
over all rounds, the statement count of one request (``CaptureQueriesContext``), and ``<key>_ratio_100k_vs_1k`` =
p50 at the large size ÷ p50 at the small one (the key keeps that name in the quick run's small sizes).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Page:
    key: str
    username: str
    url: Callable[[], str]


def pages() -> list[Page]:
    """The measured pages; URLs are computed per database (the case and the search term are the same in both)."""
    from casework.models import Case, CaseStatus, User
    from workflows import selectors

    def own_case() -> str:
        coordinator = User.objects.get(username="koord1")
        case = Case.objects.filter(coordinator=coordinator, status=CaseStatus.OPEN).order_by("opened_at", "pk").first()
        assert case is not None, "the seed gives koord1 an open case"
        return str(case.pk)

    def search_term() -> str:
        case = Case.objects.order_by("number").first()
        assert case is not None
        return str(case.number)

    found: list[Page] = []
    for role, username in (("coordinator", "koord1"), ("supervisor", "vedouci1")):
        found += [
            Page(f"{role}_inbox", username, lambda: "/inbox/"),
            *[
                Page(f"{role}_inbox_{slug}", username, lambda slug=slug: f"/inbox/?type={slug}")  # type: ignore[misc]
                for slug in selectors.TASK_TYPES
            ],
            Page(f"{role}_case_list", username, lambda: "/cases/"),
            Page(f"{role}_case_list_all", username, lambda: "/cases/?status=all"),
            Page(f"{role}_search", username, lambda: f"/cases/?status=all&q={search_term()}"),
            Page(f"{role}_case_page", username, lambda: f"/cases/{own_case()}/"),
            Page(f"{role}_notifications", username, lambda: "/notifications/"),
        ]
    found += [
        Page("supervisor_reports", "vedouci1", lambda: "/reports/"),
        Page("supervisor_oversight", "vedouci1", lambda: "/oversight/"),
        Page("supervisor_oversight_case", "vedouci1", lambda: f"/oversight/cases/{own_case()}/"),
    ]
    return found


@dataclass
class Measured:
    samples: list[float]
    statements: int
    status: int


def _client(username: str) -> Client:
    from casework.models import User

    client = Client(HTTP_ACCEPT_LANGUAGE="cs")
    client.force_login(User.objects.get(username=username))
    return client


def _one_size(chosen: list[Page], iterations: int, measured: dict[str, Measured], *, count: bool) -> None:
    clients: dict[str, Client] = {}
    for page in chosen:
        client = clients.get(page.username) or clients.setdefault(page.username, _client(page.username))
        url = page.url()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)  # also the warm-up (templates, caches, the connection)
        entry = measured.setdefault(page.key, Measured([], 0, response.status_code))
        if count:
            entry.statements = len(queries.captured_queries)
        for _ in range(iterations):
            start = time.perf_counter()
            client.get(url)
            entry.samples.append((time.perf_counter() - start) * 1000)


def measure(
    results: dict[str, Any],
    *,
    small: str,
    large: str,
    use: Callable[[str], None],
    rounds: int,
    iterations: int,
    label_small: str,
    label_large: str,
) -> None:
    chosen = pages()
    by_size: dict[str, dict[str, Measured]] = {small: {}, large: {}}
    for r in range(rounds):
        for name in (small, large) if r % 2 == 0 else (large, small):
            use(name)
            _one_size(chosen, iterations, by_size[name], count=True)
    for page in chosen:
        a, b = by_size[small][page.key], by_size[large][page.key]
        a50, b50 = percentile(a.samples, 50), percentile(b.samples, 50)
        results[f"{page.key}_ratio_100k_vs_1k"] = round(b50 / a50, 3)
        results[f"{page.key}_detail"] = {
            f"p50_ms_{label_small}": round(a50, 2),
            f"p95_ms_{label_small}": round(percentile(a.samples, 95), 2),
            f"statements_{label_small}": a.statements,
            f"p50_ms_{label_large}": round(b50, 2),
            f"p95_ms_{label_large}": round(percentile(b.samples, 95), 2),
            f"statements_{label_large}": b.statements,
            "status": [a.status, b.status],
        }
