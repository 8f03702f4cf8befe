"""The plugin host in one import: wiring, switches, listing, the facade and the fault shape.

The parts live in small modules beside this one (``defaults``, ``manager``, ``switches``,
``listing``, ``facade``, ``faults``, ``channels``); this module gathers the names other code
and plugin authors import from ``plugin_core.host.plugins``.
"""

from __future__ import annotations

from plugin_core.contract import HostChannel, PluginContext, PluginError
from plugin_core.host.channels import channel_issues
from plugin_core.host.defaults import BUILT_IN_NAMES, DEFAULT_PLUGINS, DISABLED_ENV, TRACE_ENV
from plugin_core.host.facade import Hooks
from plugin_core.host.faults import fault_fields, frames
from plugin_core.host.listing import PluginInfo, blocked_names, plugin_infos
from plugin_core.host.manager import plugin_manager, trace_hook_calls, wire_plugins
from plugin_core.host.switches import switch_issues

__all__ = [
    "BUILT_IN_NAMES",
    "DEFAULT_PLUGINS",
    "DISABLED_ENV",
    "TRACE_ENV",
    "Hooks",
    "HostChannel",
    "PluginContext",
    "PluginError",
    "PluginInfo",
    "blocked_names",
    "channel_issues",
    "fault_fields",
    "frames",
    "plugin_infos",
    "plugin_manager",
    "switch_issues",
    "trace_hook_calls",
    "wire_plugins",
]
