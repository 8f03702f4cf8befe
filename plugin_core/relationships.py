"""Normalising relationship codes and words from hosts into ThinkFamily's small vocabulary."""

from __future__ import annotations

from plugin_core.model import Relationship
from plugin_core.trust_config import CodeLists


def normalise_relationship(raw: str | None, code_lists: CodeLists) -> Relationship:
    """The vocabulary term for a host's code or word; unknown when nothing matches."""
    if raw is None or not raw.strip():
        return Relationship.UNKNOWN
    text = raw.strip()
    try:
        return Relationship(text.lower())
    except ValueError:
        pass
    mapped = code_lists.relationships.get(text.upper())
    if mapped is None:
        mapped = code_lists.relationships.get(text.upper().replace("_", " "))
    return mapped if mapped is not None else Relationship.OTHER
