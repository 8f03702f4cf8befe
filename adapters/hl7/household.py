"""Who lives with the patient: next of kin (NK1) and a trust's own "children in household".

Next of kin alone do not say who lives at home; a recorded answer, or a child among them, does.
"""

from __future__ import annotations

from datetime import date, datetime

from adapters.hl7.er7 import Er7Message, Segment
from adapters.hl7.errors import Hl7Invalid
from adapters.hl7.fields import NO, YES, Address, address_of, person_name
from adapters.hl7.settings import ChildrenField, Hl7Settings
from adapters.hl7.values import parse_date
from plugin_core.model import HouseholdMember, Relationship
from plugin_core.rules.children import ADULT_AGE, age_on, contact_date
from plugin_core.rules.relationships import read_relationship
from plugin_core.settings.code_lists import CodeLists

_APART = frozenset({"A", "I"})  # table 0220: alone, institution
_TOGETHER = frozenset({"F", "R", "S"})  # table 0220: family, relative, spouse only
_DEPENDENT = frozenset({"C", "S", "D", "M", "WU", "CB"})  # table 0223 codes naming a dependant
_MAX_PLACEHOLDER_CHILDREN = 20


def household(
    message: Er7Message,
    home: Address | None,
    settings: Hl7Settings,
    code_lists: CodeLists,
    occurred_at: datetime,
) -> tuple[HouseholdMember, ...] | None:
    members = [
        _member(nk1, index, home, settings, code_lists)
        for index, nk1 in enumerate(message.all("NK1"), start=1)
    ]
    on = contact_date(occurred_at)
    known_children = sum(1 for m in members if _is_child(m, on))
    answer = _children_answer(message, settings.children_in_household)
    if answer is None:
        if known_children or (members and settings.nk1_is_household):
            return tuple(members)
        return None  # next of kin alone do not say who lives at home: unknown, not none
    if answer == -1:  # "yes", count not given
        answer = max(1, known_children)
    for extra in range(known_children, min(answer, _MAX_PLACEHOLDER_CHILDREN)):
        members.append(
            HouseholdMember(
                relationship=Relationship.CHILD,
                id=f"recorded-child-{extra + 1}",
                lives_with_patient=True,
                source="hl7:children-in-household",
            )
        )
    return tuple(members)


def _is_child(member: HouseholdMember, on: date) -> bool:
    if member.birth_date is not None:
        return age_on(member.birth_date, on) < ADULT_AGE
    return member.relationship.is_child_kind


def _member(
    nk1: Segment,
    index: int,
    home: Address | None,
    settings: Hl7Settings,
    code_lists: CodeLists,
) -> HouseholdMember:
    relationship, unrecognised = _relationship(nk1, settings, code_lists)
    set_id = nk1.value(1).strip()
    name = person_name(nk1, 2)
    address = address_of(nk1, 4)
    lives = _lives_with_patient(nk1, address, home)
    try:
        birth_date = parse_date(nk1.raw(16, 1, 1), "NK1-16")
    except Hl7Invalid as exc:
        raise Hl7Invalid(f"{exc.reason} (NK1 number {index})", segment="NK1", field=16) from None
    return HouseholdMember(
        relationship=relationship,
        unrecognised_relationship=unrecognised,
        id=f"NK1-{set_id if set_id.isdigit() else index}",
        name=name,
        birth_date=birth_date,
        lives_with_patient=lives,
        postcode=(address.postcode or None) if address else None,
        source="hl7:NK1",
    )


def _relationship(
    nk1: Segment, settings: Hl7Settings, code_lists: CodeLists
) -> tuple[Relationship, str | None]:
    """NK1-3 by the trust's local codes, then the relationships file; alternate code and text after.

    With nothing recognised the relationship is unknown and the text (else the code) is kept
    to be shown, so the member is asked about rather than dropped.
    """
    given: list[str] = []
    for component in (1, 4, 2, 5):  # identifier, alternate identifier, text, alternate text
        raw = nk1.value(3, 1, component).strip()
        if not raw:
            continue
        given.append(raw)
        known = settings.relationship_codes.get(raw.upper())
        if known is not None:
            return known, None
        found, _ = read_relationship(raw, code_lists)
        if found is not Relationship.UNKNOWN:
            return found, None
    if not given:
        return Relationship.UNKNOWN, None
    text = nk1.value(3, 1, 2).strip() or nk1.value(3, 1, 5).strip() or given[0]
    return read_relationship(text, code_lists)


def _lives_with_patient(nk1: Segment, address: Address | None, home: Address | None) -> bool | None:
    """Same address as the patient; else the living arrangement; else a recorded dependency."""
    if address is not None and home is not None:
        same = address.same_home(home)
        if same is not None:
            return same
    arrangement = nk1.value(21, 1, 1).strip().upper()
    if arrangement in _APART:
        return False
    if arrangement in _TOGETHER:
        return True
    if nk1.value(17, 1, 1).strip().upper() in _DEPENDENT:
        return True
    return None


def _children_answer(message: Er7Message, places: tuple[ChildrenField, ...]) -> int | None:
    """Children recorded as in the household: a count, -1 for "yes", or None when not recorded."""
    for place in places:
        for segment in message.all(place.segment):
            if place.segment == "OBX":
                code = segment.value(3, 1, 1).strip().upper()
                if code != place.observation.upper():
                    continue
            raw = segment.value(place.field, 1, place.component).strip().upper()
            if not raw:
                continue
            if raw in YES:
                return -1
            if raw in NO:
                return 0
            if raw.isdigit() and len(raw) <= 3:
                return int(raw)
            raise Hl7Invalid(
                f"{place.segment}-{place.field}: children in household must be Y, N or a number",
                segment=place.segment,
                field=place.field,
            )
    return None
