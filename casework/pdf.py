"""One way to turn a template into a PDF: weasyprint, in a given language (Czech by default: the file is a Czech
document), with nothing fetched — the templates carry their own styles and every URL is refused — and the footer's
"page X of Y" in that language (``page_counter`` in the template's context).

It decides nothing and audits nothing: callers read what the document holds through the gate and write the export's
audit row first (fail closed: committed before the file is handed out).
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal safe inside a ``<style>`` element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("<", "\\3C ")
    return f'"{escaped}"'


def page_counter_css() -> SafeString:
    """The CSS ``content`` of the page footer, "page X of Y" in the active language, from the catalogue's
    ``Page %(number)s of %(total)s`` (the counters are CSS, the words around them translated text)."""
    text = _("Page %(number)s of %(total)s")
    parts: list[str] = []
    rest = text
    for placeholder, counter in (("%(number)s", "counter(page)"), ("%(total)s", "counter(pages)")):
        before, found, after = rest.partition(placeholder)
        if not found:  # a translation without the placeholder: fall back to the bare counters
            return mark_safe('counter(page) " / " counter(pages)')
        parts += [_css_string(before), counter]
        rest = after
    parts.append(_css_string(rest))
    return mark_safe(" ".join(parts))  # noqa: S308 - built from escaped CSS strings and constant counters


def render_pdf(template: str, context: dict[str, Any], *, language: str = "cs") -> bytes:
    """The PDF of ``template`` rendered with ``context`` in ``language``."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    with translation.override(language):
        html = render_to_string(template, {**context, "page_counter": page_counter_css()})
    pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
