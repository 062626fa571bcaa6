"""Czech typography for printed documents (the plan's PDF).

Czech typesetting rules (ČSN 01 6910) forbid a one-letter preposition or conjunction — k, s, v, z, o, u, a, i — at
the end of a line: it is bound to the next word by a no-break space. The text stays plain text: the no-break space is
a character, not an entity, so autoescaping later leaves it alone.
"""

from __future__ import annotations

import re

NO_BREAK_SPACE = "\u00a0"

# A one-letter word (not the end of a longer word: ``\w`` is Unicode-aware, so "tu" or "ů" before it counts as a
# letter) followed by ordinary spaces. Line breaks are kept: they are the author's.
_LONE_LETTER = re.compile(r"(?<!\w)([ksvzouai])[ \t]+", re.IGNORECASE)


def bind_lone_letters(text: str) -> str:
    """Replace the space after each one-letter word k, s, v, z, o, u, a, i (any case) with a no-break space."""
    return _LONE_LETTER.sub(lambda match: match.group(1) + NO_BREAK_SPACE, text)
