"""Plugin wiring: specs, the guard, blocks, entry points, built-ins, extras, checks, configure.

``check_pending`` makes a misspelt hook an error rather than a no-op, and plugins' own hook
wrappers are refused, so only ThinkFamily's guard sees every answer.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence

import pluggy

import hooks.specs
from hooks import PROJECT_NAME
from plugin_core.contract import PluginContext, PluginError
from plugin_core.host.defaults import DEFAULT_PLUGINS, GUARD, TRACE_ENV
from plugin_core.host.facade import Hooks
from plugin_core.host.faults import Guard
from plugin_core.host.switches import switches

__all__ = ["plugin_manager", "trace_hook_calls"]

log = logging.getLogger("thinkfamily.plugins")


def plugin_manager(
    context: PluginContext,
    *,
    blocked: Iterable[str] = (),
    extra: Sequence[tuple[str, object]] = (),
    entry_points: bool = True,
    environ: Mapping[str, str] | None = None,
) -> pluggy.PluginManager:
    """A wired plugin manager: specs, guard, blocks, entry points, built-ins, extras, checked,
    then every plugin configured with ``context``.

    :param blocked: plugin names to leave out, besides those the trust file's
        ``[plugins] disabled`` and the ``THINKFAMILY_DISABLED_PLUGINS`` variable name.
    :param extra: ``(name, plugin)`` pairs a host or a test registers directly.
    :param environ: the environment to read the switches from (default ``os.environ``).
    """
    environ = os.environ if environ is None else environ
    switched = [s.name for s in switches(context.config, environ)]
    pm = wire_plugins(
        blocked=[*blocked, *switched], extra=extra, entry_points=entry_points, environ=environ
    )
    Hooks(pm).configure(context)
    return pm


def wire_plugins(
    *,
    blocked: Iterable[str] = (),
    extra: Sequence[tuple[str, object]] = (),
    entry_points: bool = True,
    environ: Mapping[str, str] | None = None,
) -> pluggy.PluginManager:
    """Specs, guard, blocks, entry points, built-ins and extras, checked; nothing configured
    yet (``config check`` asks for the plugins' sections before there is a configuration)."""
    environ = os.environ if environ is None else environ
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hooks.specs)
    pm.register(Guard(pm), name=GUARD)
    for name in blocked:
        if name != GUARD:
            pm.set_blocked(name)
    if entry_points:
        pm.load_setuptools_entrypoints(PROJECT_NAME)
    for reference in DEFAULT_PLUGINS:
        name, plugin = _built_in(reference, pm)
        if plugin is not None:
            pm.register(plugin, name=name)
    for name, plugin in extra:
        pm.register(plugin, name=name)
    pm.check_pending()
    _refuse_wrappers(pm)
    if environ.get(TRACE_ENV, "").strip() in ("1", "true", "yes"):
        trace_hook_calls(pm)
    return pm


def _built_in(reference: str, pm: pluggy.PluginManager) -> tuple[str, object | None]:
    module_name, _, class_name = reference.partition(":")
    if pm.is_blocked(module_name):
        return module_name, None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return module_name, None  # an optional adapter that is not installed
        raise
    return module_name, getattr(module, class_name)() if class_name else module


def _refuse_wrappers(pm: pluggy.PluginManager) -> None:
    """A plugin's wrapper would see every answer and could change or swallow it (a failed
    delivery hidden, a household altered), so only ThinkFamily's own guard wraps hooks."""
    for name, plugin in pm.list_name_plugin():
        if plugin is None or name == GUARD:
            continue
        for caller in pm.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    raise PluginError(name, caller.name, "hook wrappers are not supported")


def trace_hook_calls(pm: pluggy.PluginManager) -> Callable[[], None]:
    """Log each hook call: the hook, the plugins in calling order, and whether it raised.

    Never the arguments or answers, which carry patient details; returns the undo function.
    """

    def before(hook: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]) -> None:
        return None

    def after(
        outcome: pluggy.Result[object],
        hook: str,
        impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, object],
    ) -> None:
        log.info(
            "hook called",
            extra={
                "hook": hook,
                "plugins": [i.plugin_name for i in reversed(impls) if i.plugin_name != GUARD],
                "status": "failed" if outcome.exception is not None else "ok",
            },
        )

    return pm.add_hookcall_monitoring(before, after)
