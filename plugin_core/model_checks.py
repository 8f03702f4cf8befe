"""The checks a domain value makes when it is built, driven by its dataclass's type hints.

A plugin that builds ``HouseholdMember(relationship="son")`` gets a :class:`ModelError` in its
own code, naming the field, rather than an ``AttributeError`` deep in a rule later; the hook
facade then names the plugin. Messages name the field and the type expected, never the value.

- An enumeration field takes a member, or the member's value as text (``"child"`` becomes
  ``Relationship.CHILD``); any other text is refused.
- A ``date`` field takes a date (not a date-time); a ``datetime`` field takes a date-time with
  its time zone. Text is refused: ThinkFamily's readers parse dates, plugins pass values.
- A ``bool`` field takes ``True`` or ``False`` (``"no"`` is not false).
- A ``tuple[X, ...]`` field takes a tuple or a list (kept as a tuple), each item checked as X.
- A field typed as another domain dataclass takes an instance of it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, Union

from plugin_core.errors import ThinkFamilyError

__all__ = ["ModelError", "check_fields", "require_aware"]

_Convert = Callable[[Any, str], Any]
"""Returns the value to keep (the same object, or the member text named) or raises."""


class ModelError(ThinkFamilyError, ValueError):
    """A domain value was built with a missing or impossible field.

    :ivar field: the field at fault, as ``Class.field`` (``HouseholdMember.relationship``),
        when the check that failed knows it; the message never quotes the value.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


def check_fields(value: object) -> None:
    """Check each field of a frozen dataclass as built; called first in ``__post_init__``."""
    kind: Any = type(value)
    for name, label, convert in _checks(kind):
        given = getattr(value, name)
        kept = convert(given, label)
        if kept is not given:
            object.__setattr__(value, name, kept)


@cache
def _checks(cls: type) -> tuple[tuple[str, str, _Convert], ...]:
    hints = typing.get_type_hints(cls)
    found = []
    for f in dataclasses.fields(cls):
        convert = _converter(hints[f.name])
        if convert is not None:
            found.append((f.name, f"{cls.__name__}.{f.name}", convert))
    return tuple(found)


def _converter(hint: Any) -> _Convert | None:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _converter(options[0]) if len(options) == 1 else None
        if inner is None:
            return None
        return lambda v, label: None if v is None else inner(v, label)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return _tuple_of(args[0])
        return None
    if not isinstance(hint, type):
        return None
    if issubclass(hint, Enum):
        return _member_of(hint)
    if hint is datetime:
        return _aware
    if hint is date:
        return _date
    if hint is bool:
        return _bool
    if dataclasses.is_dataclass(hint):
        return _instance_of(hint)
    return None


def _member_of(kind: type[Enum]) -> _Convert:
    listed = ", ".join(str(m.value) for m in kind)
    if getattr(kind, "_missing_", None) is not Enum._missing_:
        listed += ", or its own name"  # an open enumeration (Channel): see its docstring

    def convert(value: Any, label: str) -> Any:
        if isinstance(value, kind):
            return value
        if isinstance(value, str) and issubclass(kind, str):
            try:
                return kind(value)
            except ValueError:
                pass
        raise ModelError(
            f"{label} must be a {kind.__name__} ({listed}), not {_kind(value)}", field=label
        )

    return convert


def _aware(value: Any, label: str) -> Any:
    if not isinstance(value, datetime):
        raise ModelError(f"{label} must be a datetime, not {_kind(value)}", field=label)
    if value.utcoffset() is None:
        raise ModelError(f"{label} must carry a time zone", field=label)
    return value


def _date(value: Any, label: str) -> Any:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ModelError(f"{label} must be a date, not {_kind(value)}", field=label)
    return value


def _bool(value: Any, label: str) -> Any:
    if not isinstance(value, bool):
        raise ModelError(f"{label} must be True or False, not {_kind(value)}", field=label)
    return value


def _instance_of(kind: type) -> _Convert:
    def convert(value: Any, label: str) -> Any:
        if not isinstance(value, kind):
            raise ModelError(f"{label} must be a {kind.__name__}, not {_kind(value)}", field=label)
        return value

    return convert


def _tuple_of(item: Any) -> _Convert:
    inner = _converter(item)

    def convert(value: Any, label: str) -> Any:
        if not isinstance(value, tuple | list):
            raise ModelError(f"{label} must be a tuple, not {_kind(value)}", field=label)
        if inner is None:
            return value if isinstance(value, tuple) else tuple(value)
        items = tuple(inner(v, label) for v in value)
        if isinstance(value, tuple) and all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items

    return convert


def _kind(value: object) -> str:
    """The type of a value given, for a message: never the value itself."""
    return "None" if value is None else type(value).__name__


def require_aware(name: str, value: datetime | None) -> None:
    """A date-time must carry its time zone: a naive one would shift ages and deadlines."""
    if value is not None and value.tzinfo is None:
        raise ModelError(f"{name} must carry a time zone")
