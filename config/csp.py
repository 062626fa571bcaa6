"""The Content-Security-Policy source for the error pages' one inline ``<style>``.

``templates/standalone.html`` (the 400/403/404/500 and CSRF-failure pages) is self-contained on purpose: it must render
when static files or the database are the problem, and Django renders some of those pages without a request context,
so the style cannot carry the request's nonce. The policy allows exactly that style by its SHA-256 hash instead, read
from the template itself, so editing the style cannot silently break the error pages.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def inline_style_source(template: Path) -> str:
    """The CSP hash source (``'sha256-…'``) of the single ``<style>`` element in ``template``."""
    found = _STYLE.findall(template.read_text(encoding="utf-8"))
    if len(found) != 1:
        raise ValueError(f"{template.name} must hold exactly one <style> element, found {len(found)}")
    digest = hashlib.sha256(found[0].encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
