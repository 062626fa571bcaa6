"""The person's own API tokens, on their account page (``registration/account.html`` includes the panel through
``{% api_tokens_panel %}``): list, create (the text shown once, on the answer page only), revoke. Ordinary pages:
session, CSRF, second factor as everywhere."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api import tokens
from api.models import ApiToken, TokenScope
from casework.models import User


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=tokens.NAME_MAX)
    scope = forms.ChoiceField(label=gettext_lazy("Scope"), choices=TokenScope.choices, initial=TokenScope.READ)
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"), min_value=1, max_value=tokens.MAX_DAYS, initial=tokens.DEFAULT_DAYS
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = tokens.token_create(
                user=user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                days=form.cleaned_data["days"],
            )
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect("account")
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return render(request, "api/token_created.html", {"token": made.token, "text": made.text})
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": tokens.tokens_of(user), "may_own": tokens.may_own_tokens(user)},
    )


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        tokens.token_revoke(user=user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The token is revoked: it no longer opens the API."))
    return redirect("api_tokens")
