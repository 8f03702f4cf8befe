"""What ``thinkfamily plugins``, the start-up log and ``/healthz`` show of the plugins."""

from __future__ import annotations

from dataclasses import dataclass

import pluggy

from hooks import PROJECT_NAME
from plugin_core.host.defaults import BUILT_IN_NAMES, GUARD, entry_point_names, own_version

__all__ = ["PluginInfo", "blocked_names", "plugin_infos"]


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One registered plugin, for ``thinkfamily plugins``, the start-up log and ``/healthz``.

    ``distribution`` is ``thinkfamily`` for built-ins, the installed package for entry points,
    and empty for a plugin registered in process.
    """

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """The registered plugins in registration order (the guard left out)."""
    installed = {id(plugin): dist for plugin, dist in pm.list_plugin_distributions()}
    found: list[PluginInfo] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None or name == GUARD:
            continue
        dist = installed.get(id(plugin))
        if dist is not None:
            distribution, version = str(dist.metadata["Name"]), str(dist.version)
        elif name in BUILT_IN_NAMES:
            distribution, version = PROJECT_NAME, own_version()
        else:
            distribution, version = "", ""
        hook_names = sorted(c.name for c in pm.get_hookcallers(plugin) or ())
        found.append(PluginInfo(name, distribution, version, tuple(hook_names)))
    return found


def blocked_names(pm: pluggy.PluginManager) -> list[str]:
    """Plugins a block left out: built-in or installed ones (a name that matches no plugin is
    a warning from :func:`~plugin_core.host.switches.switch_issues` instead)."""
    blocked = [name for name, plugin in pm.list_name_plugin() if plugin is None]
    installed = entry_point_names() if set(blocked) - set(BUILT_IN_NAMES) else set()
    return [name for name in blocked if name in BUILT_IN_NAMES or name in installed]
