"""FHIR Patient, RelatedPerson and Encounter to the model's people and encounter.

A RelatedPerson becomes a household member: its relationship read from every code and word it
carries, and whether it lives with the adult from the household composition Observation, else
from a shared postcode, else not known.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from adapters.fhir import codes
from plugin_core.model import Encounter, HouseholdMember, Person, Relationship
from plugin_core.rules.relationships import read_relationship
from plugin_core.settings.code_lists import CodeLists


def person_of(patient: Any) -> Person:
    """The adult: the NHS number, the official or usual name and the home postcode first."""
    nhs = next(
        (i.value for i in patient.identifier or [] if i.system == codes.NHS_NUMBER and i.value),
        None,
    )
    return Person(
        id=patient.id or "unknown",
        nhs_number=nhs,
        name=person_name(patient.name),
        birth_date=patient.birthDate if isinstance(patient.birthDate, date) else None,
        postcode=postcode_of(patient.address),
        sex=patient.gender,
    )


def person_name(names: Sequence[Any] | None) -> str | None:
    """The official or usual name, else the first; its text, else given names and family."""
    if not names:
        return None
    chosen = next((n for n in names if n.use in ("official", "usual")), names[0])
    if chosen.text:
        return str(chosen.text)
    parts = [*(chosen.given or []), chosen.family or ""]
    return " ".join(p for p in parts if p) or None


def postcode_of(addresses: Sequence[Any] | None) -> str | None:
    """The home postcode first, never an old address's."""
    for address in sorted(addresses or [], key=lambda a: a.use != "home"):
        if address.postalCode and address.use != "old":
            return str(address.postalCode)
    return None


def encounter_of(encounter: Any) -> Encounter:
    """The encounter's kind in the model's words, and its first location."""
    kind = "unknown"
    if encounter.class_fhir is not None and encounter.class_fhir.code:
        kind = codes.ENCOUNTER_KINDS.get(
            encounter.class_fhir.code, encounter.class_fhir.code.lower()
        )
    location = None
    for loc in encounter.location or []:
        if loc.location is not None and loc.location.reference:
            location = loc.location.reference
            break
    return Encounter(id=encounter.id or "unknown", kind=kind, location=location)


def household_member(
    related: Any, adult: Person, living_refs: set[str] | None, code_lists: CodeLists
) -> HouseholdMember:
    """One RelatedPerson as a household member of the adult."""
    relationship, unrecognised = _relationship(related.relationship or [], code_lists)
    ref = f"RelatedPerson/{related.id}"
    postcode = postcode_of(related.address)
    lives: bool | None
    if living_refs is not None:
        lives = ref in living_refs
    elif postcode and adult.postcode:
        lives = _same_postcode(postcode, adult.postcode)
    else:
        lives = None
    return HouseholdMember(
        relationship=relationship,
        unrecognised_relationship=unrecognised,
        id=ref,
        name=person_name(related.name),
        birth_date=related.birthDate if isinstance(related.birthDate, date) else None,
        lives_with_patient=lives,
        postcode=postcode,
        source="fhir",
    )


def _relationship(
    concepts: Sequence[Any], code_lists: CodeLists
) -> tuple[Relationship, str | None]:
    """The relationship from the codes, then their displays and the text.

    A RelatedPerson often carries a contact role ("next of kin") beside the family relation,
    and codes can disagree; the one that keeps a child in wins (a child kind, then a sibling
    or relative, then an adult-only relationship). With nothing recognised, the first word
    given is kept to be shown.
    """
    words: list[str] = []
    for concept in concepts:
        words += [c.code for c in concept.coding or [] if c.code]
        words += [c.display for c in concept.coding or [] if c.display]
        if concept.text:
            words.append(concept.text)
    best, unrecognised = Relationship.UNKNOWN, None
    for word in words:
        mapped, unknown_word = read_relationship(word, code_lists)
        if _keeps_child(mapped) > _keeps_child(best):
            best = mapped
        if unrecognised is None:
            unrecognised = unknown_word
    return best, (unrecognised if best is Relationship.UNKNOWN else None)


def _keeps_child(relationship: Relationship) -> int:
    """How strongly a relationship keeps a child in, for choosing between disagreeing codes."""
    if relationship.is_child_kind:
        return 4
    if relationship is Relationship.UNKNOWN:
        return 0
    if relationship is Relationship.OTHER:
        return 1
    return 2 if relationship.is_adult_only else 3


def _same_postcode(a: str, b: str) -> bool:
    return a.replace(" ", "").upper() == b.replace(" ", "").upper()
