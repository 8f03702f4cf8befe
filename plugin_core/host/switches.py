"""The switches that leave plugins out: ``[plugins] disabled`` and the environment variable."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pluggy

from plugin_core.host.defaults import BUILT_IN_NAMES, DISABLED_ENV, GUARD, entry_point_names
from plugin_core.settings.trust_config import ConfigIssue, TrustConfig

__all__ = ["Switch", "switch_issues", "switches"]


@dataclass(frozen=True, slots=True)
class Switch:
    """One name a trust or an operator switched off, and where it was written."""

    name: str
    file: str
    key: str


def switches(config: TrustConfig, environ: Mapping[str, str]) -> list[Switch]:
    """Every name switched off, from the trust file and then the environment."""
    found = [
        Switch(name, str(config.path), "plugins.disabled")
        for name in config.section("plugins").get("disabled", [])
    ]
    found += [
        Switch(name.strip(), "environment", DISABLED_ENV)
        for name in environ.get(DISABLED_ENV, "").split(",")
        if name.strip()
    ]
    return found


def switch_issues(
    pm: pluggy.PluginManager,
    config: TrustConfig,
    *,
    extra: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> list[ConfigIssue]:
    """A warning for each switched-off name that matches no plugin, naming those loaded.

    :param extra: names of plugins registered in process, which a switch may also name.
    """
    found = switches(config, os.environ if environ is None else environ)
    loaded = loaded_names(pm)
    known = {*loaded, *BUILT_IN_NAMES, *extra}
    unknown = [s for s in found if s.name not in known]
    if unknown:
        installed = entry_point_names()
        unknown = [s for s in unknown if s.name not in installed]
    listed = ", ".join(loaded) or "none"
    return [
        ConfigIssue(
            s.file, s.key, f"{s.name!r} names no plugin; loaded plugins: {listed}", "warning"
        )
        for s in unknown
    ]


def loaded_names(pm: pluggy.PluginManager) -> list[str]:
    """The names of the plugins registered, in registration order (the guard left out)."""
    return [name for name, plugin in pm.list_name_plugin() if plugin is not None and name != GUARD]
