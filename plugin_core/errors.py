"""The root of every error ThinkFamily and its adapters raise.

A leaf module, so the domain model, the rules and the store can derive their errors from it
without importing anything else of ours; ``plugin_core.contract`` names it for plugin authors.
"""

from __future__ import annotations


class ThinkFamilyError(Exception):
    """The root of the errors raised on purpose, by ThinkFamily or by a plugin.

    Messages say what is wrong and where, never a patient's value. Catching this class
    catches every error of ours; whether one passes through the hook facade unchanged is
    decided by :class:`plugin_core.contract.ShownError`.
    """
