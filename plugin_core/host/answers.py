"""The shapes a hook's answer may take, checked before core code uses it.

Each check returns the answer (as a list, for list-shaped hooks) or raises ``TypeError`` saying
what came back and what was expected, in type names only; the facade then names the plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from plugin_core.contract import HostChannel, PluginError
from plugin_core.model import ModelError

__all__ = ["CHANNELS", "declared", "instance", "list_of", "section_models"]

T = TypeVar("T")

CHANNELS = "thinkfamily_channels"


def declared(plugin: str, answer: Any) -> list[HostChannel]:
    """A plugin's answer to ``thinkfamily_channels``: names or HostChannel values."""
    if answer is None:
        return []
    try:
        items = list_of(object)(answer)
    except TypeError as exc:
        raise PluginError(plugin, CHANNELS, str(exc)) from None
    found: list[HostChannel] = []
    for item in items:
        if isinstance(item, HostChannel):
            found.append(item)
        elif isinstance(item, str):
            try:
                found.append(HostChannel(item))
            except ModelError:
                raise PluginError(
                    plugin,
                    CHANNELS,
                    f"declared {item[:40]!r}: a host channel's name is x- then lower-case "
                    "letters, digits and hyphens",
                ) from None
        else:
            raise PluginError(
                plugin,
                CHANNELS,
                f"returned a list holding {type(item).__name__}, expected HostChannel or str",
            )
    return found


def instance(kind: type[T]) -> Callable[[Any], T]:
    def check(value: Any) -> T:
        if not isinstance(value, kind):
            raise TypeError(f"returned {type(value).__name__}, expected {kind.__name__} or None")
        return value

    return check


def list_of(kind: type[T]) -> Callable[[Any], list[T]]:
    def check(value: Any) -> list[T]:
        if not isinstance(value, list | tuple):
            raise TypeError(f"returned {type(value).__name__}, expected a list or None")
        for item in value:
            if not isinstance(item, kind):
                raise TypeError(
                    f"returned a list holding {type(item).__name__}, expected {kind.__name__}"
                )
        return list(value)

    return check


def section_models(value: Any) -> list[tuple[str, type[BaseModel]]]:
    if not isinstance(value, dict):
        raise TypeError(f"returned {type(value).__name__}, expected a dict or None")
    for name, model in value.items():
        if not isinstance(name, str) or not (
            isinstance(model, type) and issubclass(model, BaseModel)
        ):
            raise TypeError("returned a dict that is not section name -> pydantic model class")
    return list(value.items())
