"""The children and risk indicators a referral names, with what a reader needs to see of each.

Settled from the assessment and the household record; ``ReferralContent`` holds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from plugin_core.formats.referral_text import (
    INDICATOR_TEXT,
    LIVES_TEXT,
    NOT_RECORDED,
    RELATIONSHIP_TEXT,
    day,
)
from plugin_core.model import (
    Assessment,
    Child,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    Person,
    Referral,
    Relationship,
    RiskIndicator,
)
from plugin_core.rules.children import member_for


@dataclass(frozen=True, slots=True)
class ChildEntry:
    """One child concerned, with what the household record says of them."""

    ref: str
    name: str | None
    relationship: Relationship
    lives_with_adult: bool | None
    unborn: bool = False
    birth_date: date | None = None
    age: int | None = None
    postcode: str | None = None
    postcode_is_adults: bool = False
    """True when the child lives with the adult and only the adult's postcode is recorded."""
    age_band: str | None = None
    """When only an estimate of the age is known: its band."""

    @property
    def name_text(self) -> str:
        if self.name:
            return self.name
        return "Unborn child" if self.unborn else "Name not recorded"

    @property
    def age_text(self) -> str:
        """ "age 9", "under 1", "unborn" or "age not known"."""
        if self.unborn:
            return "unborn"
        if self.age is None:
            return f"age about {self.age_band} (estimated)" if self.age_band else "age not known"
        return "under 1" if self.age == 0 else f"age {self.age}"

    @property
    def born_text(self) -> str:
        """Date of birth with age, or what is known instead."""
        if self.birth_date is not None and not self.unborn:
            return f"{day(self.birth_date)} ({self.age_text})"
        return self.age_text

    @property
    def relationship_text(self) -> str:
        if self.unborn:
            return "Unborn child of the adult"
        return RELATIONSHIP_TEXT.get(self.relationship, self.relationship.value)

    @property
    def lives_text(self) -> str:
        return LIVES_TEXT[self.lives_with_adult]

    @property
    def address_text(self) -> str:
        if not self.postcode:
            return NOT_RECORDED
        return f"{self.postcode} (the adult's home)" if self.postcode_is_adults else self.postcode

    def __repr__(self) -> str:  # identifying values stay out of tracebacks and logs
        return f"ChildEntry(ref={self.ref!r})"


@dataclass(frozen=True, slots=True)
class IndicatorEntry:
    """A risk indicator a referral may carry, with words a reader understands."""

    kind: IndicatorKind
    text: str
    """The entry's own display or label, else the kind in words."""
    system: str | None = None
    code: str | None = None

    @property
    def kind_text(self) -> str:
        return INDICATOR_TEXT[self.kind]

    @property
    def words(self) -> str:
        """ "Mental ill health: psychosis", or the kind alone when it says it all."""
        return self.kind_text if self.text == self.kind_text else f"{self.kind_text}: {self.text}"

    @property
    def line(self) -> str:
        """ "Mental ill health: psychosis (F20.9)"."""
        return f"{self.words} ({self.code})" if self.code else self.words


def concerned(referral: Referral, children: tuple[Child, ...]) -> tuple[Child, ...]:
    """The children the referral names, or every child when it names none."""
    wanted = set(referral.child_refs)
    return tuple(c for c in children if not wanted or c.ref in wanted)


def child_entries(
    referral: Referral,
    contact: FirstContact | None,
    assessment: Assessment | None,
    adult: Person | None,
) -> tuple[ChildEntry, ...]:
    """The children the referral concerns; only their references when nothing was assessed."""
    if assessment is None:  # only the references are known
        return tuple(
            ChildEntry(ref=ref, name=None, relationship=Relationship.CHILD, lives_with_adult=None)
            for ref in referral.child_refs
        )
    household = contact.household if contact else None
    return tuple(_entry(c, household, adult) for c in concerned(referral, assessment.children))


def _entry(
    child: Child, household: tuple[HouseholdMember, ...] | None, adult: Person | None
) -> ChildEntry:
    # An assessment stored before children carried names: the household record still has them.
    member = None if child.unborn else member_for(child.ref, household)
    name = child.name or (member.name if member else None)
    birth = child.birth_date or (member.birth_date if member else None)
    postcode = child.postcode or (member.postcode if member else None)
    from_adult = False
    if not postcode and child.lives_with_patient and adult is not None and adult.postcode:
        postcode, from_adult = adult.postcode, True
    return ChildEntry(
        ref=child.ref,
        name=name,
        relationship=child.relationship,
        lives_with_adult=child.lives_with_patient,
        unborn=child.unborn,
        birth_date=birth,
        age=child.age,
        postcode=postcode,
        postcode_is_adults=from_adult,
        age_band=child.age_band,
    )


def indicator_entries(found: tuple[RiskIndicator, ...]) -> tuple[IndicatorEntry, ...]:
    """Each indicator once, in words, keeping its code."""
    entries = (
        IndicatorEntry(
            kind=i.kind,
            text=(i.display or i.label or INDICATOR_TEXT[i.kind]).strip(),
            system=i.system,
            code=i.code,
        )
        for i in found
    )
    return tuple(dict.fromkeys(entries))  # the same entry from two sources is shown once
