"""Navigation of the product shell, by system role.

One table (``SHELL_PAGES``) says which role sees which top-level page; the base layout's menu and the shell views'
guard both read it, so a link is never shown for a page that would refuse the user, and a page never opens for a role
that has no link to it. Showing a link grants nothing about case content: case pages check access again through the
gate in ``permissions``. When the policy module grows a page-level rule, this table should move there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.account_views import session_remaining_seconds
from casework.models import Role
from permissions.policy import may_see_retention_reviews, user_takes_referrals


@dataclass(frozen=True)
class ShellPage:
    """A top-level page of the shell: where it lives, what the menu calls it, and which system roles may open it."""

    url_name: str
    label: str | Promise
    roles: frozenset[str]
    #: "menu" (the main navigation) or "header" (beside the user's name: the notifications badge).
    placement: str = "menu"
    #: A policy predicate that opens the page beyond ``roles`` (the records officer, a flag on an OSPOD worker).
    also_for: Callable[[Any], bool] | None = None


SHELL_PAGES: tuple[ShellPage, ...] = (
    ShellPage("inbox", _("Inbox"), frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR, Role.PARTNER})),
    ShellPage("case_list", _("Cases"), frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR, Role.PARTNER})),
    ShellPage("child_search", _("Children"), frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR})),
    # Partners file their own reports (oznámení); OSPOD staff enter the ones that come by phone, letter or in person.
    ShellPage("report_create", _("File a report"), frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR, Role.PARTNER})),
    # Local competence: the duty roster, transfers between ORPs, "is this child known" requests.
    ShellPage("competence", _("Competence"), frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR})),
    # Kontrola přístupů: who accessed what (not "Dohled", which reads as the court's § 13 measure).
    ShellPage("oversight", _("Access oversight"), frozenset({Role.SUPERVISOR, Role.DPO})),
    # Skartační řízení: files whose retention period ended, for supervisors, the records officer and the DPO.
    ShellPage(
        "retention_reviews",
        _("Shredding review"),
        frozenset({Role.SUPERVISOR, Role.DPO}),
        also_for=may_see_retention_reviews,
    ),
    # Zastupování: a supervisor names a deputy for an absence (permissions.policy.may_see_covers).
    ShellPage("supervisor_cover", _("Cover"), frozenset({Role.SUPERVISOR})),
    # Statistics and returns (issue 22): supervisors of an authority, the regional office of a region (aggregates).
    ShellPage("figures_dashboard", _("Statistics"), frozenset({Role.SUPERVISOR, Role.REGIONAL_OFFICE})),
    ShellPage("admin:index", _("Administration"), frozenset({Role.ADMINISTRATOR})),
    # Account changes wait for a supervisor (a second administrator for DPO and administrator accounts); the DPO
    # watches them read-only (issue 19).
    ShellPage("account_changes", _("Account changes"), frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR, Role.DPO})),
    # Síť služeb: the directory of services for families and children (issue 21) — every logged-in person; last, so
    # that each role's first entry (its home page) stays first.
    ShellPage(
        "service_directory",
        _("Service network"),
        frozenset(
            {Role.OSPOD_WORKER, Role.SUPERVISOR, Role.PARTNER, Role.DPO, Role.ADMINISTRATOR, Role.REGIONAL_OFFICE}
        ),
    ),
    # Doporučení: the referrals to a social service's organisation, for its intake workers (docs/adr/0029-referrals.md).
    ShellPage("referral_list", _("Referrals"), frozenset(), also_for=user_takes_referrals),
    ShellPage(
        "notification_list",
        _("Notifications"),
        # The DPO too: access-anomaly flags and account changes are notified to them (issue 19); administrators learn
        # of account changes that wait for a second administrator.
        frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR, Role.PARTNER, Role.DPO, Role.ADMINISTRATOR}),
        placement="header",
    ),
)


def _may_open(user: AbstractBaseUser | AnonymousUser, page: ShellPage) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if page.url_name == "admin:index" and getattr(user, "is_staff", False):
        # Django's admin decides for itself who may enter (is_staff); the menu follows it.
        return True
    if getattr(user, "role", None) in page.roles:
        return True
    return page.also_for is not None and page.also_for(user)


def pages_for(user: AbstractBaseUser | AnonymousUser) -> list[ShellPage]:
    """The shell pages ``user`` may open, in menu order (empty for anonymous or inactive users)."""
    return [page for page in SHELL_PAGES if _may_open(user, page)]


def may_open(user: AbstractBaseUser | AnonymousUser, url_name: str) -> bool:
    """Whether ``user``'s system role lets them open the shell page ``url_name`` (unknown names: no)."""
    return any(page.url_name == url_name for page in pages_for(user))


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Menu entries (``nav_items``) and header entries (``nav_tools``) for the base layout; ``current`` marks the
    entry the user is on (``aria-current``)."""
    path = request.path
    placed: dict[str, list[dict[str, Any]]] = {"menu": [], "header": []}
    for page in pages_for(getattr(request, "user", None) or AnonymousUser()):
        url = reverse(page.url_name)
        placed[page.placement].append(
            {"url": url, "url_name": page.url_name, "label": page.label, "current": path == url or path.startswith(url)}
        )
    return {"nav_items": placed["menu"], "nav_tools": placed["header"]}


def session_expiry(request: HttpRequest) -> dict[str, Any]:
    """What the inactivity warning (static/js/session.js) needs: seconds left and how early to warn."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "session_remaining": session_remaining_seconds(request),
        "session_warning": settings.SESSION_WARNING_SECONDS,
    }
