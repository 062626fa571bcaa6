"""Field checks the services share: they collect field-level messages into ``errors`` (field → messages) and the
service raises one ``ValidationError`` with all of them before anything is written."""

from __future__ import annotations

from django.utils.translation import gettext as _


def add_error(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def clean_text(
    errors: dict[str, list[str]], field: str, value: str | None, limit: int, *, required: bool = True
) -> str:
    """``value`` stripped; a message on ``field`` when it is required and empty or longer than ``limit``."""
    value = (value or "").strip()
    if required and not value:
        add_error(errors, field, _("This field is required."))
    elif len(value) > limit:
        add_error(
            errors, field, _("At most %(limit)d characters (it has %(count)d).") % {"limit": limit, "count": len(value)}
        )
    return value
