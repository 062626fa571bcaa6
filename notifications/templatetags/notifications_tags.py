"""Template helpers for the notifications badge."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from notifications.models import KIND_TEXTS, Kind

register = template.Library()


@register.simple_tag
def notification_texts() -> SafeString:
    """The sentence and label of each kind in the active language, as a JSON script element for notifications.js:
    a live notification carries only its kind and case reference, and the page words it."""
    texts = {
        "kinds": {kind: {"text": str(KIND_TEXTS[kind]), "label": str(label)} for kind, label in Kind.choices},
        "new": str(pgettext("notifications", "New")),
        "revoked": str(_("Your access to this case has ended. Reload the page to continue.")),
    }
    return json_script(texts, "notification-texts")
