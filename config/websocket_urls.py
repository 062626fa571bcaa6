"""Websocket routes. Empty until the notifications consumer lands; the router and its guards are already in place."""

from typing import Any

websocket_urlpatterns: list[Any] = []
