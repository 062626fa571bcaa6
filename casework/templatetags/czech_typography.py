"""``{% load czech_typography %}``: ``{{ text|nbsp_cs }}`` binds one-letter prepositions to the next word."""

from __future__ import annotations

from django import template

from casework.typography import bind_lone_letters

register = template.Library()


@register.filter(is_safe=True)
def nbsp_cs(value: object) -> str:
    """Safe input stays safe (a no-break space needs no escaping); anything else is still escaped on output."""
    if value is None:
        return ""
    return bind_lone_letters(str(value))
