"""The relationships file: every host code and everyday word, and the relationship it means.

A word under two relationships is an error, not a silent choice: one of them would drop or
keep a child by accident. Every word is checked, so all such faults are listed at once.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from plugin_core.model import Relationship
from plugin_core.rules.relationship_words import word_key
from plugin_core.settings.code_lists import CodeLists
from plugin_core.settings.faults import shown
from plugin_core.settings.issues import WARNING, ConfigIssue, Issues
from plugin_core.settings.reader import read_toml, validate
from plugin_core.settings.section import Section, SettingsContext

RELATIONSHIPS_FILE = "relationships.toml"
"""The relationships file read when ``[trust]`` names none: beside the trust file."""

_TERMS = {r.value: r for r in Relationship}
_LISTED = ", ".join(_TERMS)


class RelationshipsFile(Section):
    relationships: dict[str, Any] | None = None


def read_relationships(path: Path) -> tuple[dict[str, Relationship] | None, list[ConfigIssue]]:
    """Every word's matching key and the relationship it means, or None when there are errors."""
    issues = Issues(path)
    data = read_toml(path, issues)
    if data is None:
        return None, issues.found
    top = validate(RelationshipsFile, data, issues, context=SettingsContext(path))
    if top is not None and top.relationships is None:
        issues.error(("relationships",), "is required (the relationship words and codes)")
    vocabulary: dict[str, Relationship] = {word_key(r.value): r for r in Relationship}
    listed_under: dict[str, str] = {key: r.value for key, r in vocabulary.items()}
    table = top.relationships if top is not None and top.relationships is not None else {}
    for term_name, words in table.items():
        at = ("relationships", term_name)
        term = _TERMS.get(term_name)
        if term is None:
            issues.error(at, f"{shown(term_name)} is not a relationship ({_LISTED})")
            continue
        if not isinstance(words, list):
            issues.error(at, "must be a list of texts (the words and codes for this relationship)")
            continue
        for i, word in enumerate(words):
            if not isinstance(word, str):
                issues.error((*at, i), "must be text")
                continue
            match = word_key(word)
            if not match:
                issues.error((*at, i), "must hold a letter or a digit")
                continue
            other = listed_under.get(match)
            if other is not None and other != term.value:
                issues.error((*at, i), f"{shown(word)} is also listed under {other}")
                continue
            listed_under[match] = term.value
            vocabulary[match] = term
    if issues.has_errors:
        return None, issues.found
    return vocabulary, issues.found


def with_vocabulary(
    codes: CodeLists, vocabulary: dict[str, Relationship], codes_path: Path
) -> tuple[CodeLists, list[ConfigIssue]]:
    """Code lists carrying the vocabulary; a code-lists ``[relationships]`` table still counts.

    Relationship words used to live in the code lists; a trust that has not moved them yet
    keeps its own codes (they win, as before) and is told where they now belong.
    """
    merged = dict(vocabulary)
    issues: list[ConfigIssue] = []
    if codes.relationships:
        issues.append(
            ConfigIssue(
                str(codes_path),
                "relationships",
                f"relationship codes belong in the relationships file ({RELATIONSHIPS_FILE}); "
                "these are still read, and win over it",
                WARNING,
            )
        )
        merged.update({word_key(local): term for local, term in codes.relationships.items()})
    return replace(codes, relationships=merged), issues
