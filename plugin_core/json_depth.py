"""How deep a JSON text nests, read from the text itself rather than the parsed document.

Walking a parsed request body to measure its nesting costs about as much as parsing it. In a
valid JSON text every bracket outside a string opens or closes one level, so once escapes and
strings are cut out the depth is a running count over the few brackets left. ``parse_json``
uses this after a successful parse (so the text is known to be valid JSON); a test proves it
equal to the walk over the parsed document on a corpus.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_DROP = bytes(c for c in range(256) if c not in b'"[]{}')
_OPEN = frozenset(b"[{")


def text_deeper_than(text: bytes, limit: int) -> bool | None:
    """True when the valid JSON ``text`` nests arrays and objects more than ``limit`` deep;
    None when the text is not UTF-8 (JSON may also be UTF-16 or UTF-32), to be measured on
    the parsed document instead."""
    if b"\x00" in text[:4]:
        return None
    if b"\\" in text:  # escapes only occur in strings; with them gone, no quote is escaped
        text = _ESCAPE.sub(b"", text)
    kept = text.translate(None, _DROP)
    brackets = b"".join(kept.split(b'"')[::2])  # what lies outside strings
    if len(brackets) <= 2 * limit:
        return False  # each level takes an opening and a closing bracket
    depth = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
