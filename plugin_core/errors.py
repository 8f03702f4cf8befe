"""Exceptions that plugins raise on purpose and that pass through the facade unchanged.

Their messages are shown to senders and operators, so they must say what is wrong and where
(segment and field, JSON path) without quoting any patient's value. They share the project's
error root, :class:`plugin_core.contract.ThinkFamilyError`.
"""

from __future__ import annotations

from plugin_core.contract import ThinkFamilyError


class ContactInvalid(ThinkFamilyError, ValueError):
    """The input is in a plugin's format but cannot be read as a contact."""


class ContactRejected(ContactInvalid):
    """The input is readable but not acceptable (unsupported version or event, too large)."""


class ContactSkipped(ThinkFamilyError):
    """The input is valid but is not a first contact for an adult; it is acknowledged and counted."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
