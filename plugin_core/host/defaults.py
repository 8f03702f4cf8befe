"""Names the plugin host is built from: the built-in plugins, the switches and the hook names.

A leaf of the host: the wiring, the switches, the listing and the fault naming all read these.
"""

from __future__ import annotations

import importlib.metadata
import inspect

import hooks.specs
from hooks import PROJECT_NAME

DEFAULT_PLUGINS: tuple[str, ...] = (
    "plugin_core.builtin.contact_facts:ContactFacts",
    "plugin_core.builtin.directory:DirectoryLocator",
    "plugin_core.builtin.phone",
    "adapters.hl7.plugin:Hl7Plugin",
    "adapters.fhir.plugin:FhirPlugin",
    "adapters.email.plugin:EmailTransport",
    "adapters.web.plugin:WebPlugin",
    "adapters.api.plugin:ApiPlugin",
)
"""Built-in plugins as ``module`` or ``module:Class``, registered under the module's name.

A class is constructed with no arguments, once per service, and gets its context from
``thinkfamily_configure`` like any installed plugin; a module is registered as it is.
"""

BUILT_IN_NAMES: tuple[str, ...] = tuple(ref.partition(":")[0] for ref in DEFAULT_PLUGINS)

DISABLED_ENV = "THINKFAMILY_DISABLED_PLUGINS"
"""Comma-separated plugin names to block, added to the trust file's ``[plugins] disabled``."""

TRACE_ENV = "THINKFAMILY_TRACE_PLUGINS"
"""Set to ``1`` to log each hook call with the plugins it reached (names only, never values)."""

GUARD = "thinkfamily.guard"
"""The internal wrapper's plugin name; it is not listed and cannot be disabled."""


def hook_names() -> list[str]:
    """Every hook the contract declares, by name."""
    marker = f"{PROJECT_NAME}_spec"
    return [
        name
        for name, func in inspect.getmembers(hooks.specs, inspect.isfunction)
        if name.startswith(f"{PROJECT_NAME}_") and hasattr(func, marker)
    ]


def entry_point_names() -> set[str]:
    """Every installed entry point in the group, loaded or blocked (as pluggy finds them)."""
    return {
        ep.name
        for dist in importlib.metadata.distributions()
        for ep in dist.entry_points
        if ep.group == PROJECT_NAME
    }


def own_version() -> str:
    """ThinkFamily's installed version, for the built-in plugins' listing."""
    try:
        return importlib.metadata.version(PROJECT_NAME)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
