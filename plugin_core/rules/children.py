"""Who counts as a child: under 18 on the contact date in Europe/London, unborn, or of an age
nobody knows unless the relationship rules a child out.

A person reaches an age on the anniversary of their birth; someone born on 29 February
reaches it on 1 March in a common year (the rule in England and Wales).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from plugin_core.model import Child, HouseholdMember, Relationship
from plugin_core.rules.clock import LONDON

ADULT_AGE = 18


def age_on(birth_date: date, on: date) -> int:
    """Whole years completed by ``on``; a 29 February birthday falls on 1 March in common years."""
    years = on.year - birth_date.year
    if (on.month, on.day) < _birthday_in(birth_date, on.year):
        years -= 1
    return years


def _birthday_in(birth_date: date, year: int) -> tuple[int, int]:
    if birth_date.month == 2 and birth_date.day == 29:
        try:
            date(year, 2, 29)
        except ValueError:
            return (3, 1)
    return (birth_date.month, birth_date.day)


def contact_date(occurred_at: datetime) -> date:
    """The calendar date of a contact as the professional sees it, in Europe/London."""
    return occurred_at.astimezone(LONDON).date()


def children_in(
    household: Iterable[HouseholdMember], on: date, *, pregnant: bool | None
) -> tuple[Child, ...]:
    """Children among household members, plus an unborn child when the adult is pregnant.

    A member whose age is not known is kept with ``age=None``, unless their relationship is
    one only an adult can have (partner, parent, grandparent, other adult): an unknown age or
    an unrecognised relationship is a question for the professional, not a reason to leave a
    child out. Members known *not* to live with the adult are kept too, marked so, because
    their welfare still bears on the decision.
    """
    found: list[Child] = []
    for index, member in enumerate(household):
        if not may_be_child(member, on):
            continue
        found.append(
            Child(
                ref=member_ref(member, index),
                age=known_age(member, on),
                relationship=member.relationship,
                lives_with_patient=member.lives_with_patient,
                birth_date=member.birth_date,
                postcode=member.postcode,
                name=member.name,
                age_band=member.age_band,
            )
        )
    if pregnant:
        found.append(
            Child(
                ref="unborn",
                age=None,
                relationship=Relationship.CHILD,
                lives_with_patient=True,
                unborn=True,
            )
        )
    return tuple(found)


def member_ref(member: HouseholdMember, index: int) -> str:
    """The reference a member's child entry goes by: the host's id, else its place (from 0)."""
    return member.id or f"member-{index + 1}"


def member_for(ref: str, household: Iterable[HouseholdMember] | None) -> HouseholdMember | None:
    """The household member a child reference names, whether by the host's id or by place."""
    return next(
        (m for i, m in enumerate(household or ()) if member_ref(m, i) == ref),
        None,
    )


def may_be_child(member: HouseholdMember, on: date) -> bool:
    """Under 18 on ``on``, or of unknown age with a relationship that does not rule a child out."""
    age = known_age(member, on)
    if age is not None:
        return age < ADULT_AGE
    return not member.relationship.is_adult_only


def known_age(member: HouseholdMember, on: date) -> int | None:
    """The member's age on ``on``; None with no birth date or one after ``on``.

    A birth date after the contact is not a usable age (a mistyped year, or a due date entered
    as a birth date), so the professional is asked rather than the member dropped.
    """
    if member.birth_date is None or member.birth_date > on:
        return None
    return age_on(member.birth_date, on)
