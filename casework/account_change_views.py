"""Account changes awaiting confirmation (supervisors, administrators, the DPO read-only), and the person's own
password: setting it through the link an administrator sent, or changing it knowing the old one.

Thin views: the list comes from ``casework.selectors.accounts.account_changes_pending``, decisions and passwords go
through ``casework.services.account_changes``; who may do what is ``permissions.policy``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from casework.models import User
from casework.selectors.accounts import account_changes_pending
from casework.services.account_changes import account_change_decide, password_set
from permissions.policy import may_see_account_changes


def _viewer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@never_cache
@login_required
@require_GET
def account_change_list(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    if not may_see_account_changes(user):
        raise PermissionDenied
    value = request.GET.get("before", "")
    page = account_changes_pending(user=user, before=int(value) if value.isdigit() else None)
    return render(request, "casework/account_changes.html", {"page": page})


@login_required
@require_POST
def account_change_decision(request: HttpRequest, change_id: int) -> HttpResponse:
    """Confirm (``decision=confirm``) or refuse (``decision=refuse``) one request."""
    user = _viewer(request)
    if not may_see_account_changes(user):
        raise PermissionDenied
    decision = request.POST.get("decision")
    if decision not in ("confirm", "refuse"):
        messages.error(request, _("Choose whether to confirm or refuse the change."))
        return redirect("account_changes")
    try:
        account_change_decide(change_id=change_id, by=user, confirm=decision == "confirm")
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("account_changes")
    if decision == "confirm":
        messages.success(request, _("The change was confirmed and is now in effect."))
    else:
        messages.success(request, _("The change was refused; the account keeps its previous values."))
    return redirect("account_changes")


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The link an administrator sent: the person chooses their password (audited, notified). The link works once."""

    template_name = "registration/password_set.html"
    success_url = reverse_lazy("password_set_done")

    def form_valid(self, form: Any) -> HttpResponse:
        account: User = form.user
        password_set(account=account, save=form.save, by_link=True)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return redirect(self.success_url)


class PasswordSetDoneView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_set_done.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    """The person's own password, knowing the current one (audited, notified); other sessions end."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form: Any) -> HttpResponse:
        account: User = form.user
        password_set(account=account, save=form.save, by_link=False)
        from django.contrib.auth import update_session_auth_hash

        update_session_auth_hash(self.request, account)
        messages.success(self.request, _("Your password was changed."))
        return redirect(self.success_url)
