"""Websocket routes; ``config.asgi`` puts them behind the origin check and the session authentication."""

from typing import Any

from notifications.routing import websocket_urlpatterns as notification_routes

websocket_urlpatterns: list[Any] = [*notification_routes]
