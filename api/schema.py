"""Schema hooks: the schema describes /api/v1/ only (not the schema route itself, nor the docs pages)."""

from __future__ import annotations

from typing import Any


def only_v1(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[tuple[str, str, str, Any]]:
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
