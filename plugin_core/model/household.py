"""The household as a professional recorded it, and phone calls made about referrals: the two
things a professional enters in ThinkFamily rather than the host sending them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from plugin_core.model.decisions import Professional
from plugin_core.model.people import Relationship
from plugin_core.model_checks import ModelError, check_fields, require_aware


class HouseholdOutcome(StrEnum):
    """What the professional recorded when asked who lives with the adult."""

    NO_CHILDREN = "no_children"
    """Confirmed: no children under 18 in the household."""
    CHILDREN = "children"
    """One or more children (or a pregnancy) recorded."""
    DECLINED = "declined"
    """The patient declined or could not answer. Never read as no children: the household stays
    unknown and the question is asked again at the next contact."""


@dataclass(frozen=True, slots=True)
class HouseholdChild:
    """One child as the professional entered them on the household question."""

    name: str
    relationship: Relationship
    lives_with_patient: bool
    birth_date: date | None = None
    estimated_age: int | None = None
    """Whole years, when the date of birth is not known."""
    school: str = ""
    """School or nursery, when known."""

    def __post_init__(self) -> None:
        check_fields(self)

    def __repr__(self) -> str:
        return f"HouseholdChild(relationship={self.relationship.value!r})"


@dataclass(frozen=True, slots=True)
class HouseholdAnswer:
    """The household as recorded by a professional for one contact, with who and when."""

    id: str
    contact_id: str
    outcome: HouseholdOutcome
    recorded_by: Professional
    recorded_at: datetime
    children: tuple[HouseholdChild, ...] = ()
    pregnant: bool | None = None
    """None when not known (and always for a declined answer)."""

    def __post_init__(self) -> None:
        check_fields(self)
        require_aware("recorded_at", self.recorded_at)
        if self.children and self.outcome is not HouseholdOutcome.CHILDREN:
            raise ModelError("only a household with children lists children")

    def __repr__(self) -> str:
        return f"HouseholdAnswer(id={self.id!r}, outcome={self.outcome.value!r})"


@dataclass(frozen=True, slots=True)
class PhoneCall:
    """A phone call made about a referral: who answered, when, and what they said.

    A call with a reference from the authority acknowledges the referral; one without is a
    delivery only, so the referral still waits for acknowledgement.
    """

    id: str
    referral_id: str
    number: str
    """The number rung."""
    answered_by: str
    """The name and role of who answered at the authority."""
    called_at: datetime
    recorded_by: Professional
    recorded_at: datetime
    reference: str = ""
    """The authority's reference for the referral, when given."""
    advice: str = ""
    """What the authority advised; free text that may name the family."""

    def __post_init__(self) -> None:
        check_fields(self)
        require_aware("called_at", self.called_at)
        require_aware("recorded_at", self.recorded_at)

    @property
    def acknowledged(self) -> bool:
        return bool(self.reference.strip())

    def __repr__(self) -> str:
        return f"PhoneCall(id={self.id!r}, referral_id={self.referral_id!r})"
