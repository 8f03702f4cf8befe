"""People in the contact: the adult, the household, the children derived from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from plugin_core.model_checks import ModelError, check_fields


class Relationship(StrEnum):
    """Relationship of a household member to the adult, normalised from host vocabularies.

    The words and codes that map to each term live in the trust's relationships file
    (``config/relationships.toml``). A word nobody recognises reads as ``unknown``.
    """

    CHILD = "child"
    STEPCHILD = "stepchild"
    ADOPTED_CHILD = "adopted_child"
    FOSTER_CHILD = "foster_child"
    PARTNERS_CHILD = "partners_child"
    """A child of the adult's partner who is not legally the adult's stepchild."""
    GRANDCHILD = "grandchild"
    NIECE_NEPHEW = "niece_nephew"
    WARD = "ward"
    SIBLING = "sibling"
    PARTNER = "partner"
    PARENT = "parent"
    GRANDPARENT = "grandparent"
    OTHER_RELATIVE = "other_relative"
    OTHER_ADULT = "other_adult"
    """Someone who is an adult by what they are: the adult's guardian, employer, themself."""
    OTHER = "other"
    """A relationship outside the family that says nothing of age: friend, lodger, carer."""
    UNKNOWN = "unknown"

    @property
    def is_child_kind(self) -> bool:
        """True for relationships that name someone the adult may care for as a child."""
        return self in _CHILD_KINDS

    @property
    def is_adult_only(self) -> bool:
        """True for relationships only an adult can have to the adult: partner, parent.

        Only these let a member with no date of birth be left out of the children; any other
        relationship, known or not, keeps them in as a child whose age is not known.
        """
        return self in _ADULT_ONLY_KINDS


_CHILD_KINDS = frozenset(
    {
        Relationship.CHILD,
        Relationship.STEPCHILD,
        Relationship.ADOPTED_CHILD,
        Relationship.FOSTER_CHILD,
        Relationship.PARTNERS_CHILD,
        Relationship.GRANDCHILD,
        Relationship.NIECE_NEPHEW,
        Relationship.WARD,
    }
)

_ADULT_ONLY_KINDS = frozenset(
    {
        Relationship.PARTNER,
        Relationship.PARENT,
        Relationship.GRANDPARENT,
        Relationship.OTHER_ADULT,
    }
)


@dataclass(frozen=True, slots=True)
class Person:
    """The adult the contact is about. Identifying fields never reach logs."""

    id: str
    """The host's own id for the adult: the re-check period follows the adult by it."""
    nhs_number: str | None = None
    name: str | None = None
    birth_date: date | None = None
    postcode: str | None = None
    """Where the adult lives: locates the authority when no child's postcode is known."""
    sex: str | None = None
    """As the host records it (administrative sex), for referral messages."""

    def __post_init__(self) -> None:
        check_fields(self)
        if not self.id:
            raise ModelError("person id is required")

    def __repr__(self) -> str:  # keeps identifying values out of tracebacks and logs
        return f"Person(id={self.id!r})"


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    """Someone the host says is in the adult's household or family.

    ``lives_with_patient`` is True, False or None when nobody knows.
    """

    relationship: Relationship
    """To the adult, normalised (``normalise_relationship``); ``unknown`` when not recognised."""
    id: str | None = None
    """The host's id for the member, when it has one."""
    name: str | None = None
    birth_date: date | None = None
    """Without it the member is kept as a child of unknown age, unless the relationship is
    adult-only (partner, parent, grandparent, other adult)."""
    lives_with_patient: bool | None = None
    postcode: str | None = None
    """Where the member lives, when not with the adult: locates the authority for them."""
    source: str = "contact"
    """Which system said so (``contact``, ``ehr``): shown to the professional and audited."""
    unrecognised_relationship: str | None = None
    """The host's relationship word or code when nobody recognised it (``relationship`` is
    then ``unknown``), so the professional sees what was written and the trust can add it."""
    age_band: str | None = None
    """For a member whose date of birth nobody knows but whose age was estimated: the band the
    estimate falls in (``5 to 9``). The member is kept as a child of unknown exact age."""

    def __post_init__(self) -> None:
        check_fields(self)

    def __repr__(self) -> str:
        return f"HouseholdMember(id={self.id!r}, relationship={self.relationship.value!r})"


@dataclass(frozen=True, slots=True)
class Encounter:
    """The episode of care in which the contact happens."""

    id: str
    """The host's id for the encounter (for HL7, the visit number)."""
    kind: str = "unknown"
    """The class of care as the host names it (``inpatient``, ``emergency``, ...)."""
    location: str | None = None
    """The ward or unit, as the host names it."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class Child:
    """A child derived from the household: under 18 on the contact date, or unborn.

    ``age`` is None for the unborn and for a member whose age is not known: someone with no
    usable date of birth whose relationship does not rule out a child.
    """

    ref: str
    age: int | None
    relationship: Relationship
    lives_with_patient: bool | None
    unborn: bool = False
    birth_date: date | None = None
    postcode: str | None = None
    name: str | None = None
    """The name the household record gives, kept so a referral and the form can name the child
    even when the host sent no member id."""
    age_band: str | None = None
    """When only an estimate of the age is known: its band (``5 to 9``); ``age`` stays None."""

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def age_known(self) -> bool:
        """False when the professional must find out the child's age; an unborn child has none."""
        return self.unborn or self.age is not None

    def __repr__(self) -> str:
        return f"Child(ref={self.ref!r}, age={self.age!r}, unborn={self.unborn!r})"
