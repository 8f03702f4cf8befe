"""The household as a professional records it: what a valid answer is, and what it means.

Three answers: no children under 18 (one confirmation), children (each one entered), or the
patient declined or could not answer. Declined is never no: it leaves the household unknown,
so the ``record-household`` prompt stays and the question is asked again at the next contact.
A child whose date of birth nobody knows is entered with an estimated age, kept as a child of
unknown exact age with the band the estimate falls in.

Pure functions over the domain model, so each rule is tested without a store or a page.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from plugin_core.errors import ThinkFamilyError
from plugin_core.model import (
    Assessment,
    FirstContact,
    HouseholdAnswer,
    HouseholdChild,
    HouseholdMember,
    HouseholdOutcome,
    Prompt,
    PromptCode,
    Relationship,
)
from plugin_core.rules.children import ADULT_AGE, age_on
from plugin_core.rules.clock import LONDON
from plugin_core.rules.decide import FieldProblem

MAX_TEXT = 200
SOURCE = "thinkfamily"
"""The ``source`` of members entered on the household question."""

AGE_BANDS = ((0, 0, "under 1"), (1, 4, "1 to 4"), (5, 9, "5 to 9"), (10, 15, "10 to 15"))
LAST_BAND = "16 or 17"

CHILD_RELATIONSHIPS = tuple(r for r in Relationship if not r.is_adult_only)
"""What a child entered may be to the adult: every relationship but the adult-only ones."""

DECLINED_SUMMARY = (
    "Patient declined or could not say who lives with them. Ask again at the next contact."
)


class HouseholdInvalid(ThinkFamilyError, ValueError):
    """A household answer that cannot be recorded as it stands; ``problems`` names each field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def age_band(estimated_age: int) -> str:
    """The band an estimated age falls in; an estimate is never taken as an exact age."""
    for low, high, words in AGE_BANDS:
        if low <= estimated_age <= high:
            return words
    return LAST_BAND


def answer_problems(answer: HouseholdAnswer, *, on: date) -> list[FieldProblem]:
    """Every fault in ``answer``, each against its field; empty when it can be recorded.

    Fields of the n-th child (from 0) are named ``children.n.name`` and so on.
    """
    problems: list[FieldProblem] = []
    if answer.outcome is HouseholdOutcome.CHILDREN and not answer.children:
        problems.append(FieldProblem("children", "add each child, or choose no children under 18"))
    for index, child in enumerate(answer.children):
        problems += _child_problems(f"children.{index}", child, on)
    return problems


def _child_problems(at: str, child: HouseholdChild, on: date) -> list[FieldProblem]:
    found: list[FieldProblem] = []
    if not child.name.strip():
        found.append(FieldProblem(f"{at}.name", "enter the child's name, or 'not known'"))
    for name, value in (("name", child.name), ("school", child.school)):
        if len(value) > MAX_TEXT:
            found.append(FieldProblem(f"{at}.{name}", f"keep this under {MAX_TEXT} characters"))
    if child.birth_date is None and child.estimated_age is None:
        found.append(FieldProblem(f"{at}.birth_date", "enter a date of birth or an estimated age"))
    if child.birth_date is not None:
        if child.birth_date > on:
            found.append(FieldProblem(f"{at}.birth_date", "the date of birth must be in the past"))
        elif age_on(child.birth_date, on) >= ADULT_AGE:
            found.append(
                FieldProblem(f"{at}.birth_date", "this person is 18 or over: add only children")
            )
    if child.estimated_age is not None and not 0 <= child.estimated_age < ADULT_AGE:
        found.append(FieldProblem(f"{at}.estimated_age", "enter an age from 0 to 17"))
    if child.relationship.is_adult_only:
        found.append(
            FieldProblem(f"{at}.relationship", "choose how the child is related to the patient")
        )
    return found


def members_of(answer: HouseholdAnswer) -> tuple[HouseholdMember, ...] | None:
    """The household the answer records: None (unknown) when declined, never ``()``."""
    if answer.outcome is HouseholdOutcome.DECLINED:
        return None
    return tuple(
        HouseholdMember(
            relationship=child.relationship,
            id=f"{answer.id}-{index}",
            name=child.name.strip() or None,
            birth_date=child.birth_date,
            lives_with_patient=child.lives_with_patient,
            source=SOURCE,
            age_band=(
                age_band(child.estimated_age)
                if child.birth_date is None and child.estimated_age is not None
                else None
            ),
        )
        for index, child in enumerate(answer.children, start=1)
    )


def contact_with_answer(contact: FirstContact, answer: HouseholdAnswer) -> FirstContact:
    """The contact as it stands once the answer is recorded, to assess again.

    The answer replaces the household the contact carried: the professional was asked because
    it was unknown, old or implausible, and was shown what was there. A declined answer leaves
    the contact as it was: unknown stays unknown.
    """
    if answer.outcome is HouseholdOutcome.DECLINED:
        return contact
    pregnant = answer.pregnant if answer.pregnant is not None else contact.pregnant
    return replace(
        contact,
        household=members_of(answer),
        household_recorded_at=answer.recorded_at,
        pregnant=pregnant,
    )


def with_declined_noted(assessment: Assessment, answer: HouseholdAnswer) -> Assessment:
    """For a declined answer: the ``record-household`` prompt kept, saying it was asked.

    The prompt is not cleared (the household is still unknown) and keeps its severity.
    """
    if answer.outcome is not HouseholdOutcome.DECLINED:
        return assessment
    when = answer.recorded_at.astimezone(LONDON)
    note = f"Asked {when:%d/%m/%Y %H:%M}: declined or unable to answer."

    def noted(prompt: Prompt) -> Prompt:
        if prompt.code is not PromptCode.RECORD_HOUSEHOLD:
            return prompt
        return replace(prompt, summary=DECLINED_SUMMARY, detail=f"{note} {prompt.detail}".strip())

    return replace(assessment, prompts=tuple(noted(p) for p in assessment.prompts))


def carried_over(
    latest: HouseholdAnswer | None, *, at: datetime, recheck_days: int
) -> HouseholdAnswer | None:
    """The answer a later contact for the same adult may take its household from.

    Only a household recorded within the re-check period, and never a declined one: declined
    asks again at the next contact.
    """
    if latest is None or latest.outcome is HouseholdOutcome.DECLINED:
        return None
    if at - latest.recorded_at > timedelta(days=recheck_days):
        return None
    return latest


def with_carried_household(contact: FirstContact, answer: HouseholdAnswer) -> FirstContact:
    """A later contact that came with no household, given the one recorded for the adult.

    Only the household is carried, with when it was recorded, so it goes stale on time; a
    pregnancy is not (it may have ended), nor is anything for a contact that has a household.
    """
    if contact.household is not None or answer.outcome is HouseholdOutcome.DECLINED:
        return contact
    return replace(contact, household=members_of(answer), household_recorded_at=answer.recorded_at)


def needs_household(assessment: Assessment) -> bool:
    """True when the form should ask the household first."""
    return assessment.prompt(PromptCode.RECORD_HOUSEHOLD) is not None
