"""What the service refuses: a request about something it does not hold, or a repeat."""

from __future__ import annotations

from plugin_core.errors import ThinkFamilyError


class UnknownContact(ThinkFamilyError, LookupError):
    """A decision names a contact the store does not hold."""


class UnknownReferral(ThinkFamilyError, LookupError):
    """A request names a referral the store does not hold."""


class DuplicateDecision(ThinkFamilyError, ValueError):
    """A decision with this id is already recorded."""


class DecisionConflict(ThinkFamilyError, ValueError):
    """A decision does not supersede the contact's current decision: another was recorded
    first, or it names none when one is recorded. Holds ids only."""

    def __init__(self, *, current: str | None, supersedes: str | None) -> None:
        self.current = current
        self.supersedes = supersedes
        if current is None:
            reason = "this contact has no decision to supersede: leave out supersedes"
        elif supersedes is None:
            reason = (
                f"a decision is already recorded for this contact ({current}): to replace it,"
                f' send "supersedes": "{current}"'
            )
        else:
            reason = (
                f"this decision supersedes {supersedes}, but the contact's current decision"
                f" is {current}: check it, then supersede {current}"
            )
        super().__init__(reason)


class ReferralConflict(ThinkFamilyError, ValueError):
    """A change the referral's state does not allow (see ``rules.referral_states``), or one
    asked for while a worker is sending it. Names the state, never patient data."""

    def __init__(self, message: str, *, status: str, busy: bool = False) -> None:
        self.status = status
        self.busy = busy
        super().__init__(message)
