"""What the service refuses: a request about something it does not hold, or a repeat."""

from __future__ import annotations

from plugin_core.errors import ThinkFamilyError


class UnknownContact(ThinkFamilyError, LookupError):
    """A decision names a contact the store does not hold."""


class UnknownReferral(ThinkFamilyError, LookupError):
    """A request names a referral the store does not hold."""


class DuplicateDecision(ThinkFamilyError, ValueError):
    """A decision with this id is already recorded."""
