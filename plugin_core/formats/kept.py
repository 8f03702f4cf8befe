"""Records kept decoded by their stored text, so a contact read back moments after it was
written (to record a decision on it) is not decoded from JSON again.

Keyed by the type and the exact text: a text always decodes to the same value, so an entry is
never stale, whoever wrote the row. Values are frozen dataclasses, safe to share between
threads. Only the most recent entries are kept.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from plugin_core.formats import serialise

T = TypeVar("T")

KEEP = 1024
"""Entries kept at most (a contact and its assessment are two); the oldest go first."""

_kept: dict[tuple[type, str], Any] = {}
_lock = threading.Lock()


def _keep(kind: type, text: str, value: Any) -> None:
    with _lock:
        _kept[(kind, text)] = value
        while len(_kept) > KEEP:
            del _kept[next(iter(_kept))]


def dumps_kept(value: Any) -> str:
    """:func:`serialise.dumps`, keeping ``value`` for a later :func:`loads_kept` of the text."""
    text = serialise.dumps(value)
    _keep(type(value), text, value)
    return text


def loads_kept(kind: type[T], text: str) -> T:
    """:func:`serialise.loads`, answered from the values kept for this text when there is one."""
    found: T | None = _kept.get((kind, text))
    if found is not None:
        return found
    value = serialise.loads(kind, text)
    _keep(kind, text, value)
    return value


def forget() -> None:
    """Drop every kept value (tests)."""
    with _lock:
        _kept.clear()
