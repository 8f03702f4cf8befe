"""How relationship words and codes are matched: one key for every way of writing a word.

Hosts write the same relationship many ways ("Step-Daughter", "step daughter", "STPDAU",
" DAUGHTER "); matching on a key that ignores case, accents, spaces, hyphens, underscores,
apostrophes and other punctuation lets one entry in the relationships file cover them all.
"""

from __future__ import annotations

import unicodedata

MAX_SHOWN = 40
"""Longest unrecognised relationship text shown back to the professional, in characters."""


def word_key(text: str) -> str:
    """The matching key of a relationship word or code: letters and digits only, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def shown(text: str) -> str:
    """An unrecognised word as the professional sees it: trimmed, spaces collapsed, capped."""
    words = " ".join(text.split())
    return words if len(words) <= MAX_SHOWN else words[: MAX_SHOWN - 1] + "…"
