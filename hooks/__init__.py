"""The ThinkFamily host contract.

Hosts and adapters implement the hooks in :mod:`hooks.specs` with the :data:`hookimpl`
marker. Only the marker is public; the spec marker stays private to the spec module.
"""

from typing import Final

import pluggy

PROJECT_NAME: Final = "thinkfamily"
"""One name for the hook markers, the plugin manager and the entry-point group."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "hookimpl"]
