"""Markers for tests that need real PostgreSQL or Redis.

In the SQLite pass they skip. In .ci/run's second pass REQUIRE_SERVICES=1 is set, and a marked test whose service is
not configured fails instead of skipping, so a mis-set environment can never turn the second pass green by skipping.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings


def _available() -> dict[str, bool]:
    return {
        "postgres": settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        "redis": bool(settings.REDIS_URL),
    }


def pytest_runtest_setup(item: pytest.Item) -> None:
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    for marker, ok in _available().items():
        if ok or item.get_closest_marker(marker) is None:
            continue
        if required:
            pytest.fail(f"needs {marker}, which is not configured, but REQUIRE_SERVICES=1")
        pytest.skip(f"needs {marker}; runs in .ci/run's second pass")
