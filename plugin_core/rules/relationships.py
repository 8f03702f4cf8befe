"""Normalising relationship codes and words from hosts into ThinkFamily's small vocabulary.

The words live in the trust's relationships file (``config/relationships.toml``). A word that
nobody recognises is ``unknown``, never a reason to leave someone out: the member stays in,
and the word is shown to the professional so that the trust can add it to the file.
"""

from __future__ import annotations

import re

from plugin_core.model import Relationship
from plugin_core.rules.code_lists import CodeLists
from plugin_core.rules.relationship_words import shown, word_key

# "partner's son", "wife’s daughter", "partners' child", "partners son": owner, then whose.
_POSSESSIVE = re.compile(r"^(?P<owner>.+?)(?:['’]s|s['’]|['’]|s(?=\s))\s*(?P<whose>\S.*)$")


def normalise_relationship(raw: str | None, code_lists: CodeLists) -> Relationship:
    """The vocabulary term for a host's code or word; unknown when nothing matches."""
    return read_relationship(raw, code_lists)[0]


def read_relationship(raw: str | None, code_lists: CodeLists) -> tuple[Relationship, str | None]:
    """The term for a host's code or word, and the word as shown when nobody recognised it.

    The second item is None when the word was recognised or nothing was given.
    """
    if raw is None or not word_key(raw):
        return Relationship.UNKNOWN, None
    found = _lookup(raw, code_lists)
    if found is None:
        found = _possessive(raw, code_lists)
    if found is None:
        return Relationship.UNKNOWN, shown(raw)
    return found, None


def _lookup(raw: str, code_lists: CodeLists) -> Relationship | None:
    key = word_key(raw)
    for candidate in (key, key[:-1] if key.endswith("s") else ""):  # "grandsons", "nephews"
        found = code_lists.relationships.get(candidate) or _TERMS.get(candidate)
        if found is not None:
            return found
    return None


_TERMS = {word_key(r.value): r for r in Relationship}


def _possessive(raw: str, code_lists: CodeLists) -> Relationship | None:
    """Someone's child: a partner's child, a niece or nephew, a grandchild, or another's child.

    Only ever a term that keeps the member in; a possessive never makes someone adult-only.
    An owner nobody recognises leaves the whole word unrecognised, so it is shown.
    """
    match = _POSSESSIVE.match(raw.strip())
    if match is None:
        return None
    whose = _lookup(match["whose"], code_lists)
    if whose is None or not whose.is_child_kind:
        return None
    owner = _lookup(match["owner"], code_lists)
    if owner is Relationship.PARTNER:
        return Relationship.PARTNERS_CHILD
    if owner is Relationship.SIBLING:
        return Relationship.NIECE_NEPHEW
    if owner is None:
        return None
    if owner.is_child_kind:
        return Relationship.GRANDCHILD
    return Relationship.OTHER
