"""The names this module held before the settings were split, kept for host plugins.

New code imports from the module that holds each name: ``issues`` (ConfigIssue, ConfigError),
``config`` (TrustConfig), ``load`` (load_trust_config, check_trust_config), ``directory`` and
``code_lists``.
"""

from __future__ import annotations

from plugin_core.settings.code_lists import CodeLists, CodeRule, code_key, system_key
from plugin_core.settings.config import (
    SafeguardingLead,
    TrustConfig,
    Urgency,
    default_config_path,
)
from plugin_core.settings.directory import AuthorityEntry, Directory, RouteEntry
from plugin_core.settings.issues import ConfigError, ConfigIssue
from plugin_core.settings.load import check_trust_config, load_trust_config
from plugin_core.settings.relationships import RELATIONSHIPS_FILE

__all__ = [
    "RELATIONSHIPS_FILE",
    "AuthorityEntry",
    "CodeLists",
    "CodeRule",
    "ConfigError",
    "ConfigIssue",
    "Directory",
    "RouteEntry",
    "SafeguardingLead",
    "TrustConfig",
    "Urgency",
    "check_trust_config",
    "code_key",
    "default_config_path",
    "load_trust_config",
    "system_key",
]
