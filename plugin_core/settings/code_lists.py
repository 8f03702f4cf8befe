"""The clinical code lists, as the trust configuration holds them.

The type lives with the rules that read it (:mod:`plugin_core.rules.code_lists`); these names
stay importable from here for the settings readers and for host plugins.
"""

from __future__ import annotations

from plugin_core.rules.code_lists import CodeLists, CodeRule, code_key, system_key

__all__ = ["CodeLists", "CodeRule", "code_key", "system_key"]
