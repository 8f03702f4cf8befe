"""One shape for a plugin's fault, wherever it happens: the plugin, the hook, the error's class.

The guard, ThinkFamily's own wrapper around every hook, turns a plugin's exception into a
:class:`~plugin_core.contract.PluginError` naming the plugin it finds in the traceback. Logs,
the audit trail and the command line then show :func:`fault_fields` or :func:`frames` only:
never an exception's text or its chained causes, which may hold patient details.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Generator, Sequence
from types import TracebackType
from typing import Any

import pluggy

from hooks import hookimpl
from plugin_core.contract import PluginError, ShownError
from plugin_core.host.defaults import hook_names
from plugin_core.model import ModelError
from plugin_core.settings.trust_config import ConfigError

__all__ = ["Guard", "fault_fields", "frames", "plugin_fault"]

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,80}$")


def plugin_fault(plugin: str, hook: str, exc: BaseException) -> PluginError:
    """The PluginError for ``exc`` raised by ``plugin`` in ``hook``: class names only.

    A :class:`~plugin_core.model.ModelError` also names the field the plugin built wrongly.
    """
    error = type(exc).__name__
    field = getattr(exc, "field", None) if isinstance(exc, ModelError) else None
    if not (isinstance(field, str) and _FIELD.match(field)):
        field = None
    reason = f"{error} ({field})" if field else error
    return PluginError(plugin, hook, reason, error=error, field=field)


def fault_fields(exc: BaseException) -> dict[str, str]:
    """The fields logged and audited for a fault: ``plugin``, ``hook`` and ``error``.

    ``error`` is the class name of what the plugin raised. ``field`` is added for a model value
    built wrongly, and ``reason`` when ThinkFamily found the fault itself (an answer of the
    wrong type); both are written by ThinkFamily from type and field names. An exception that
    is not a plugin's gives ``error`` only.
    """
    if not isinstance(exc, PluginError):
        return {"error": type(exc).__name__}
    fields = {"plugin": exc.plugin, "hook": exc.hook, "error": exc.error}
    if exc.field:
        fields["field"] = exc.field
    if exc.error == "PluginError":
        fields["reason"] = exc.reason
    return fields


def frames(exc: BaseException) -> list[str]:
    """Where an exception and its causes were raised, oldest first: file, line and function.

    For ``--debug``: no source lines, no messages, no local values, so nothing a plugin put
    into an exception (a name, an NHS number) is printed.
    """
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    lines: list[str] = []
    for n, item in enumerate(reversed(chain)):
        if n:
            lines.append("which led to:")
        lines.append("Traceback (most recent call last; values left out):")
        for frame, lineno in traceback.walk_tb(item.__traceback__):
            code = frame.f_code
            lines.append(f'  File "{code.co_filename}", line {lineno}, in {code.co_name}')
        kind = type(item)
        module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
        lines.append(f"{module}{kind.__qualname__}")
    return lines


# The guard: pluggy's error path names the plugin at fault ----------------------------------


class Guard:
    """The outermost wrapper of every hook: turns a plugin's exception into a PluginError.

    pluggy throws the exception into this wrapper with its traceback intact; the first frame
    that runs a hook implementation's code is the plugin at fault.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def fault(self, hook: str, exc: Exception) -> PluginError:
        impls = [i for i in getattr(self.pm.hook, hook).get_hookimpls() if not i.wrapper]
        return plugin_fault(_raised_in(impls, exc.__traceback__) or "unknown", hook, exc)


def _raised_in(impls: Sequence[pluggy.HookImpl], tb: TracebackType | None) -> str | None:
    by_code: dict[object, list[pluggy.HookImpl]] = {}
    for impl in impls:
        by_code.setdefault(getattr(impl.function, "__code__", None), []).append(impl)
    while tb is not None:
        found = by_code.get(tb.tb_frame.f_code)
        if found:
            if len(found) == 1:
                return found[0].plugin_name
            owner = tb.tb_frame.f_locals.get("self")  # two instances of one class
            for impl in found:
                if impl.plugin is owner:
                    return impl.plugin_name
        tb = tb.tb_next
    return None


def _guarding(hook: str) -> Callable[[Guard], Generator[None, Any, Any]]:
    def guard(self: Guard) -> Generator[None, Any, Any]:
        try:
            return (yield)
        except (ShownError, ConfigError):
            raise  # raised on purpose; the message is written to be shown
        except Exception as exc:
            raise self.fault(hook, exc) from exc

    guard.__name__ = guard.__qualname__ = hook
    return guard


for _hook in hook_names():
    setattr(Guard, _hook, hookimpl(wrapper=True, tryfirst=True)(_guarding(_hook)))
