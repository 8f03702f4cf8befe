"""The store's one error, below every store module so each can raise it."""

from __future__ import annotations

from plugin_core.errors import ThinkFamilyError


class StoreError(ThinkFamilyError, RuntimeError):
    """The database could not do what was asked; the message carries no patient data."""
