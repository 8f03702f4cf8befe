"""Dataclass to JSON and back, for the store and the API.

One generic converter driven by type hints, so a new field on a domain dataclass is stored
without touching the store.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
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


def _plain(value: Any) -> Any:
    """One level of :func:`to_data` for the JSON encoder's ``default``: the encoder walks
    lists, tuples and strings itself (a ``StrEnum`` is a string holding its value) and calls
    back here for the rest, so the text is the same as encoding ``to_data(value)``."""
    kind: type = type(value)
    names = _field_names(kind)
    if names is not None:
        data = {name: getattr(value, name) for name in names}
        for name, item in data.items():
            if type(item) is dict:  # keys as to_data writes them (enums, numbers)
                data[name] = to_data(item)
        return data
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return list(value)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


_ENCODE = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=_plain).encode


def dumps(value: Any) -> str:
    """The JSON text of ``value`` as stored: that of :func:`to_data`, with sorted keys."""
    if isinstance(value, dict):
        value = to_data(value)
    return _ENCODE(value)


Decoder = Callable[[Any], Any]


def from_data(kind: Any, data: Any) -> Any:
    """Rebuild a value of type ``kind`` from :func:`to_data` output."""
    return _decoder(kind)(data)


@cache
def _decoder(kind: Any) -> Decoder:
    """One function per type that rebuilds its values: the type hints are read once per type,
    not once per value, since every stored contact is read back through here."""
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return _each(options[0], None) if len(options) == 1 else _same
    if origin is tuple:
        return _each(typing.get_args(kind)[0], tuple)
    if origin in (frozenset, set):
        return _each(typing.get_args(kind)[0], origin)
    if origin is list:
        return _each(typing.get_args(kind)[0], list)
    if origin is dict:
        return _mapping(*typing.get_args(kind))
    if isinstance(kind, type):
        if dataclasses.is_dataclass(kind):
            return _dataclass(kind)
        if issubclass(kind, Enum):
            return lambda data: None if data is None else kind(data)
        if kind is datetime:
            return lambda data: None if data is None else datetime.fromisoformat(data)
        if kind is date:
            return lambda data: None if data is None else date.fromisoformat(data)
    return _same


def _same(data: Any) -> Any:
    return data


def _each(kind: Any, container: Callable[[Any], Any] | None) -> Decoder:
    """``container`` of ``kind`` values; None for a lone value of an optional type."""

    def decode(data: Any) -> Any:
        if data is None:
            return None
        inner = _decoder(kind)
        return inner(data) if container is None else container(inner(v) for v in data)

    return decode


def _mapping(key_kind: Any, value_kind: Any) -> Decoder:
    def decode(data: Any) -> Any:
        if data is None:
            return None
        keys, values = _decoder(key_kind), _decoder(value_kind)
        return {keys(k): values(v) for k, v in data.items()}

    return decode


def _dataclass(kind: type) -> Decoder:
    # Looked up at first use, since a type may name itself; set whole, so a thread never sees
    # part of the list.
    known: list[tuple[tuple[str, Decoder], ...]] = []

    def decode(data: Any) -> Any:
        if data is None:
            return None
        if not known:
            hints = typing.get_type_hints(kind)
            fields = tuple((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(kind))
            known[:] = [fields]
        return kind(**{name: field(data[name]) for name, field in known[0] if name in data})

    return decode


def loads(kind: type[T], text: str) -> T:
    result: T = from_data(kind, json.loads(text))
    return result
