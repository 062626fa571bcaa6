"""Navigation entries for the base layout, by system role. Showing a link grants nothing: every view checks again."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from casework.models import Role


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {"nav_items": []}
    role = getattr(user, "role", None)
    items: list[tuple[str, Any]] = []
    if role in (Role.OSPOD_WORKER, Role.SUPERVISOR, Role.PARTNER):
        items.append((reverse("inbox"), _("Inbox")))
        items.append((reverse("case_list"), _("Cases")))
    if role in (Role.OSPOD_WORKER, Role.SUPERVISOR):
        items.append((reverse("child_list"), _("Children")))
    if role in (Role.SUPERVISOR, Role.DPO):
        items.append((reverse("oversight"), _("Oversight")))
    if role == Role.ADMINISTRATOR or user.is_staff:
        items.append((reverse("admin:index"), _("Administration")))
    current = request.path
    return {
        "nav_items": [
            {"url": url, "label": label, "current": current == url or (url != "/" and current.startswith(url))}
            for url, label in items
        ]
    }
