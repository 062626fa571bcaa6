from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Framework plumbing, not business logic: the end of a login session or of an account closes its sockets.
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_save

        user_logged_out.connect(_close_sockets_of_session, dispatch_uid="notifications.logout")
        post_save.connect(
            _close_sockets_of_inactive_user, sender=settings.AUTH_USER_MODEL, dispatch_uid="notifications.deactivate"
        )


def _close_sockets_of_session(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """Logout: the sockets of this browser session close at once (Django flushes the session right after this)."""
    from notifications.services import disconnect_session

    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        disconnect_session(session_key)


def _close_sockets_of_inactive_user(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """A deactivated account loses every socket, in every session, after the change commits."""
    from notifications.services import disconnect_user

    if not created and not instance.is_active:
        disconnect_user(instance.pk)
