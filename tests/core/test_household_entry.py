"""The household as a professional records it: the rules, without a store or a page."""

from __future__ import annotations

from datetime import date, timedelta

from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    HouseholdAnswer,
    HouseholdChild,
    HouseholdOutcome,
    Professional,
    PromptCode,
    Relationship,
)
from plugin_core.rules import household_entry as entry

from .builders import make_contact, utc

NURSE = Professional("nurse-1", role="staff nurse")
ON = date(2026, 3, 2)
RECORDED = utc(2026, 3, 2, 10, 30)


def answer(
    outcome: HouseholdOutcome,
    *children: HouseholdChild,
    pregnant: bool | None = False,
    answer_id: str = "h-1",
) -> HouseholdAnswer:
    return HouseholdAnswer(
        answer_id, "contact-1", outcome, NURSE, RECORDED, tuple(children), pregnant
    )


def child(**changes: object) -> HouseholdChild:
    values: dict[str, object] = {
        "name": "Robin Example",
        "relationship": Relationship.CHILD,
        "lives_with_patient": True,
        "birth_date": date(2019, 6, 1),
    }
    values.update(changes)
    return HouseholdChild(**values)  # type: ignore[arg-type]


def reassessed(engine: ThinkFamily, found: HouseholdAnswer) -> object:
    contact = entry.contact_with_answer(make_contact(household=None), found)
    return entry.with_declined_noted(engine.assess(contact, now=RECORDED, present=False), found)


def test_declined_is_never_no_children_and_keeps_the_household_unknown(
    engine: ThinkFamily,
) -> None:
    declined = answer(HouseholdOutcome.DECLINED, pregnant=None)
    assert entry.members_of(declined) is None
    assessment = reassessed(engine, declined)
    assert assessment.household_known is False  # type: ignore[attr-defined]
    prompt = assessment.prompt(PromptCode.RECORD_HOUSEHOLD)  # type: ignore[attr-defined]
    assert prompt is not None and "Ask again at the next contact" in prompt.summary
    assert "declined" in prompt.detail


def test_declined_re_asks_at_the_next_contact() -> None:
    declined = answer(HouseholdOutcome.DECLINED, pregnant=None)
    later = RECORDED + timedelta(days=1)
    assert entry.carried_over(declined, at=later, recheck_days=90) is None
    recorded = answer(HouseholdOutcome.NO_CHILDREN)
    assert entry.carried_over(recorded, at=later, recheck_days=90) is recorded
    assert entry.carried_over(recorded, at=RECORDED + timedelta(days=91), recheck_days=90) is None


def test_no_children_confirmation_records_an_empty_known_household(engine: ThinkFamily) -> None:
    confirmed = answer(HouseholdOutcome.NO_CHILDREN)
    assert entry.members_of(confirmed) == ()
    assessment = reassessed(engine, confirmed)
    assert assessment.household_known is True  # type: ignore[attr-defined]
    assert assessment.children == ()  # type: ignore[attr-defined]
    assert assessment.prompts == ()  # type: ignore[attr-defined]


def test_estimated_age_becomes_an_age_band_kept_as_a_child(engine: ThinkFamily) -> None:
    guessed = answer(
        HouseholdOutcome.CHILDREN,
        child(birth_date=None, estimated_age=6, relationship=Relationship.PARTNERS_CHILD),
    )
    assert entry.answer_problems(guessed, on=ON) == []
    (member,) = entry.members_of(guessed) or ()
    assert member.birth_date is None and member.age_band == "5 to 9"
    assessment = reassessed(engine, guessed)
    (kept,) = assessment.children  # type: ignore[attr-defined]
    assert kept.age is None and kept.age_band == "5 to 9" and not kept.unborn
    assert assessment.prompt(PromptCode.CONSIDER_CHILDREN) is not None  # type: ignore[attr-defined]


def test_age_bands_cover_every_child_age() -> None:
    assert [entry.age_band(a) for a in (0, 1, 4, 5, 9, 10, 15, 16, 17)] == [
        "under 1",
        "1 to 4",
        "1 to 4",
        "5 to 9",
        "5 to 9",
        "10 to 15",
        "10 to 15",
        "16 or 17",
        "16 or 17",
    ]


def test_pregnancy_with_no_children_adds_an_unborn_child(engine: ThinkFamily) -> None:
    expecting = answer(HouseholdOutcome.NO_CHILDREN, pregnant=True)
    assessment = reassessed(engine, expecting)
    assert [c.unborn for c in assessment.children] == [True]  # type: ignore[attr-defined]
    assert assessment.prompt(PromptCode.CONSIDER_UNBORN) is not None  # type: ignore[attr-defined]
    assert assessment.household_known is True  # type: ignore[attr-defined]


def test_children_recorded_clear_the_household_prompt_and_ask_for_a_decision(
    engine: ThinkFamily,
) -> None:
    two = answer(
        HouseholdOutcome.CHILDREN, child(), child(name="Sky Example", lives_with_patient=False)
    )
    assessment = reassessed(engine, two)
    assert len(assessment.children) == 2  # type: ignore[attr-defined]
    assert assessment.prompt(PromptCode.RECORD_HOUSEHOLD) is None  # type: ignore[attr-defined]
    assert assessment.prompt(PromptCode.CONSIDER_CHILDREN) is not None  # type: ignore[attr-defined]


def test_each_fault_in_a_child_is_named_against_its_field() -> None:
    faulty = answer(
        HouseholdOutcome.CHILDREN,
        child(name=" ", birth_date=None),
        child(birth_date=date(2001, 1, 1)),
        child(birth_date=None, estimated_age=18, relationship=Relationship.PARTNER),
    )
    fields = [p.field for p in entry.answer_problems(faulty, on=ON)]
    assert fields == [
        "children.0.name",
        "children.0.birth_date",
        "children.1.birth_date",
        "children.2.estimated_age",
        "children.2.relationship",
    ]


def test_children_chosen_with_no_child_added_is_refused() -> None:
    empty = answer(HouseholdOutcome.CHILDREN)
    assert [p.field for p in entry.answer_problems(empty, on=ON)] == ["children"]
