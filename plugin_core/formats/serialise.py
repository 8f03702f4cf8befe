"""Dataclass to JSON and back, for the store and the API.

One generic converter driven by type hints, so a new field on a domain dataclass is stored
without touching the store.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union

T = TypeVar("T")


_PLAIN = (str, int, float, bool, type(None))


@cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    return None


def to_data(value: Any) -> Any:
    """Plain JSON-ready data for a dataclass, enum, date or container.

    On the path of every accepted message, so the commonest cases are tested first and each
    dataclass's field names are looked up once.
    """
    kind: type = type(value)
    if kind in _PLAIN:
        return value
    if isinstance(value, Enum):
        return value.value
    names = _field_names(kind)
    if names is not None:
        return {name: to_data(getattr(value, name)) for name in names}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | frozenset | set):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k.value if isinstance(k, Enum) else k): to_data(v) for k, v in value.items()}
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_data(value), separators=(",", ":"), sort_keys=True)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_data(kind: Any, data: Any) -> Any:
    """Rebuild a value of type ``kind`` from :func:`to_data` output."""
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return from_data(options[0], data) if len(options) == 1 else data
    if origin is tuple:
        args = typing.get_args(kind)
        return tuple(from_data(args[0], v) for v in data)
    if origin in (frozenset, set):
        return origin(from_data(typing.get_args(kind)[0], v) for v in data)
    if origin is list:
        return [from_data(typing.get_args(kind)[0], v) for v in data]
    if origin is dict:
        key_kind, value_kind = typing.get_args(kind)
        return {from_data(key_kind, k): from_data(value_kind, v) for k, v in data.items()}
    if isinstance(kind, type):
        if dataclasses.is_dataclass(kind):
            hints = _hints(kind)
            return kind(
                **{
                    f.name: from_data(hints[f.name], data[f.name])
                    for f in dataclasses.fields(kind)
                    if f.name in data
                }
            )
        if issubclass(kind, Enum):
            return kind(data)
        if kind is datetime:
            return datetime.fromisoformat(data)
        if kind is date:
            return date.fromisoformat(data)
    return data


def loads(kind: type[T], text: str) -> T:
    result: T = from_data(kind, json.loads(text))
    return result
