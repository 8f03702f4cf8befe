"""A first contact as an adapter read it, what ThinkFamily concluded, and where it stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from plugin_core.model.directory import AuthorityMatch
from plugin_core.model.people import Child, Encounter, HouseholdMember, Person
from plugin_core.model.record import Prompt, PromptCode, RiskIndicator
from plugin_core.model_checks import ModelError, check_fields, require_aware


class ContactState(StrEnum):
    """Where a recorded contact stands: waiting for a decision, or settled one way or another."""

    OPEN = "open"
    """Prompts were shown; no decision is recorded yet."""
    NO_ACTION_NEEDED = "no-action-needed"
    """Nothing to prompt about."""
    SUPPRESSED = "suppressed"
    """Prompts not shown: a decision for the adult in its re-check period covers them."""
    DECIDED = "decided"
    """A decision that made no referral (a decision not to share) is recorded."""
    REFERRED = "referred"
    """A decision to share is recorded and its referrals are in the outbox."""


@dataclass(frozen=True, slots=True)
class FirstContact:
    """A professional's first contact with an adult, as the adapter understood it.

    :param household: members known for this contact; ``None`` when never asked.
    :param household_recorded_at: when the household was last recorded; ``None`` means at
        ``occurred_at`` when ``household`` is given.
    """

    id: str
    """Unique for the contact; the service records each id once."""
    occurred_at: datetime
    """When the contact happened, with its time zone; ages are worked out on this date."""
    patient: Person
    encounter: Encounter | None = None
    household: tuple[HouseholdMember, ...] | None = None
    """Members carried on the contact itself; ``None`` when nobody asked (never ``()``)."""
    household_recorded_at: datetime | None = None
    indicators: tuple[RiskIndicator, ...] = ()
    """Indicators carried on the contact; plugins add theirs through the hooks."""
    pregnant: bool | None = None
    """True adds an unborn child; ``None`` when not known."""
    source: str = "json"
    """Which reader made the contact (``json``, ``hl7``, ``fhir``, ``api``): audited."""

    def __post_init__(self) -> None:
        check_fields(self)
        if not self.id:
            raise ModelError("contact id is required")
        require_aware("occurred_at", self.occurred_at)
        require_aware("household_recorded_at", self.household_recorded_at)
        if self.household is not None and not isinstance(self.household, tuple):
            raise ModelError("household must be a tuple or None")

    def __repr__(self) -> str:
        return f"FirstContact(id={self.id!r})"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What ThinkFamily concluded for one contact."""

    contact_id: str
    assessed_at: datetime
    household_known: bool
    children: tuple[Child, ...]
    indicators: tuple[RiskIndicator, ...]
    prompts: tuple[Prompt, ...]
    authority: AuthorityMatch
    unrecognised_relationships: tuple[str, ...] = ()
    """Relationship words from the household that nobody recognised; those members are kept."""
    unclassified: tuple[tuple[str, str], ...] = ()
    """(system, code) of entries whose code system is unrecognised or missing: never dropped
    silently. Codes are not patient identifiers; an empty system means none was sent."""

    def __post_init__(self) -> None:
        check_fields(self)

    def prompt(self, code: PromptCode) -> Prompt | None:
        return next((p for p in self.prompts if p.code is code), None)
