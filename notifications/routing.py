"""Websocket routes of the notifications app; ``config.websocket_urls`` mounts them behind the origin and session
guards of ``config.asgi``."""

from django.urls import path

from notifications.consumers import NotificationConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi(), name="notifications_socket"),
]
