"""Referrals a sharing decision makes, their keys and states, and what a transport reports."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from plugin_core.model.decisions import LawfulBasis
from plugin_core.model.directory import Channel, Route
from plugin_core.model_checks import ModelError, check_fields, require_aware


class ReferralAction(StrEnum):
    """What a referral message asks of the receiver: a new referral, or a change to one sent."""

    NEW = "new"
    UPDATE = "update"
    CANCEL = "cancel"


class ReferralStatus(StrEnum):
    """Life of a referral from decision to acknowledgement."""

    PENDING = "pending"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"
    ESCALATED = "escalated"
    CALL_REQUIRED = "call_required"
    CANCELLED = "cancelled"


KEY_PREFIX = "tf-"
"""What every referral's idempotency key starts with."""


def referral_id(*parts: str) -> str:
    """A stable referral id from what makes the referral unique: the same parts, the same id."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def referral_key(rid: str) -> str:
    """The idempotency key a referral, or the referral it amends, travels under.

    The one place keys are made: receivers match an update or a cancellation to the original
    by this key, so every transport must spell it the same way.
    """
    return f"{KEY_PREFIX}{rid}"


@dataclass(frozen=True, slots=True)
class Referral:
    """A referral made by a sharing decision; written with it in one transaction."""

    id: str
    decision_id: str
    contact_id: str
    route: Route
    level_of_need: int | None
    urgent: bool
    idempotency_key: str
    created_at: datetime
    due_by: datetime
    authority_id: str | None
    child_refs: tuple[str, ...] = ()
    reasons: str = ""
    lawful_basis: LawfulBasis | None = None
    action: ReferralAction = ReferralAction.NEW
    amends: str | None = None
    """For an update or a cancellation: the id of the referral it changes."""

    def __post_init__(self) -> None:
        check_fields(self)
        require_aware("created_at", self.created_at)
        require_aware("due_by", self.due_by)
        if (self.action is ReferralAction.NEW) != (self.amends is None):
            raise ModelError(
                "an update or cancellation names the referral it amends; a new one does not"
            )

    @property
    def original_key(self) -> str:
        """The idempotency key of the referral this one is, or amends."""
        return referral_key(self.amends) if self.amends else self.idempotency_key


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a transport says happened to one delivery attempt.

    ``acknowledged`` is True when the receiver confirmed it took the referral (an HL7
    application ACK, a FHIR response); a plain hand-over is ``delivered`` only.
    """

    channel: Channel
    """The channel the referral actually went by; recorded in the audit trail."""
    delivered: bool
    """The receiver took it (a hand-over, such as SMTP acceptance)."""
    acknowledged: bool = False
    reference: str = ""
    """The transport's own reference (a message id): written to the audit trail."""
    detail: str = ""
    """The transport's own words about the attempt, no patient details: written to the audit
    trail (the first 200 characters)."""
    retryable: bool = True
    """For an attempt not delivered: True to try again later, False to ask for a phone call."""
    extra: dict[str, str] = field(default_factory=dict)
    """Transport-specific references kept with the receipt (ids only)."""
    opens_at: datetime | None = None
    """Set by ThinkFamily, not the transport: for a referral sent to a route that was closed,
    when the route next opens (Europe/London), the working day the referral is for."""

    def __post_init__(self) -> None:
        check_fields(self)
