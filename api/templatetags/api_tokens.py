"""``{% api_tokens_panel %}``: the API tokens section of the account page (the page's view stays casework's)."""

from __future__ import annotations

from typing import Any

from django import template

from api import tokens

register = template.Library()


@register.inclusion_tag("api/_tokens_panel.html", takes_context=True)
def api_tokens_panel(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    return {"tokens": tokens.tokens_of(user), "may_own": tokens.may_own_tokens(user), "now": None}
