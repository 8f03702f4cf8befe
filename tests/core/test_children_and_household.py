"""Who counts as a child, and when the household must be asked about (issue 2)."""

from __future__ import annotations

from datetime import date, timedelta

from plugin_core.host.engine import ThinkFamily
from plugin_core.model import Assessment, IndicatorKind, PromptCode, Relationship, Severity
from plugin_core.rules.children import age_on, children_in, contact_date

from .builders import MakeContact, indicator, member, utc

CONTACT_AT = utc(2026, 3, 2, 10, 0)  # a Monday in GMT


def codes(assessment: Assessment) -> set[PromptCode]:
    return {p.code for p in assessment.prompts}


def assess(engine: ThinkFamily, make_contact: MakeContact, **kwargs: object) -> Assessment:
    kwargs.setdefault("occurred_at", CONTACT_AT)
    return engine.assess(make_contact(**kwargs), now=kwargs["occurred_at"], present=False)  # type: ignore[arg-type]


# Ages -------------------------------------------------------------------------------------


def test_child_turning_18_tomorrow_is_counted(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(engine, make_contact, household=[member(date(2008, 3, 3))])
    assert [c.age for c in result.children] == [17]
    assert PromptCode.CONSIDER_CHILDREN in codes(result)


def test_person_turning_18_today_is_not_a_child(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(engine, make_contact, household=[member(date(2008, 3, 2))])
    assert result.children == ()
    assert PromptCode.CONSIDER_CHILDREN not in codes(result)


def test_leap_day_birthday_is_still_17_on_28_february_of_a_common_year() -> None:
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17
    assert children_in([member(born)], date(2026, 2, 28), pregnant=False)[0].age == 17


def test_leap_day_birthday_turns_18_on_1_march_of_a_common_year() -> None:
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 3, 1)) == 18
    assert children_in([member(born)], date(2026, 3, 1), pregnant=False) == ()


def test_leap_day_birthday_counts_on_29_february_of_a_leap_year() -> None:
    # 18 is not a multiple of 4, so nobody born on 29 February turns 18 in a leap year;
    # in a leap year the birthday itself is the anniversary.
    born = date(2012, 2, 29)
    assert age_on(born, date(2028, 2, 28)) == 15
    assert age_on(born, date(2028, 2, 29)) == 16


def test_child_turning_18_on_1_march_of_a_leap_year_is_counted_on_29_february() -> None:
    found = children_in([member(date(2010, 3, 1))], date(2028, 2, 29), pregnant=False)
    assert [c.age for c in found] == [17]


def test_contact_at_2330_utc_in_summer_counts_ages_on_the_next_london_day(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    late_evening = utc(2026, 7, 14, 23, 30)  # 00:30 BST on 15 July
    assert contact_date(late_evening) == date(2026, 7, 15)
    result = assess(
        engine, make_contact, household=[member(date(2008, 7, 15))], occurred_at=late_evening
    )
    assert result.children == ()


def test_contact_at_2230_utc_in_summer_is_still_the_same_london_day(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    evening = utc(2026, 7, 14, 22, 30)  # 23:30 BST on 14 July
    result = assess(
        engine, make_contact, household=[member(date(2008, 7, 15))], occurred_at=evening
    )
    assert [c.age for c in result.children] == [17]


def test_contact_at_2330_utc_in_winter_is_the_same_london_day() -> None:
    assert contact_date(utc(2026, 1, 14, 23, 30)) == date(2026, 1, 14)


def test_member_with_child_relationship_and_no_birth_date_is_kept_with_unknown_age(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(engine, make_contact, household=[member(None, Relationship.STEPCHILD)])
    assert [(c.age, c.relationship) for c in result.children] == [(None, Relationship.STEPCHILD)]
    prompt = result.prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None and "Age not known for 1" in prompt.detail


def test_adult_member_without_birth_date_is_not_a_child(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(engine, make_contact, household=[member(None, Relationship.PARTNER)])
    assert result.children == ()


def test_child_not_living_with_the_patient_is_kept_and_marked(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(
        engine, make_contact, household=[member(date(2015, 1, 1), lives_with_patient=False)]
    )
    assert [c.lives_with_patient for c in result.children] == [False]


# Unborn children ----------------------------------------------------------------------------


def test_pregnant_contact_adds_an_unborn_child(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(engine, make_contact, pregnant=True)
    assert [(c.ref, c.unborn) for c in result.children] == [("unborn", True)]
    # With no other children listed, the household is also questioned (record-household).
    assert codes(result) == {PromptCode.CONSIDER_UNBORN, PromptCode.RECORD_HOUSEHOLD}


def test_pregnancy_coded_indicator_adds_an_unborn_child(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(
        engine,
        make_contact,
        indicators=[indicator(IndicatorKind.OTHER, "http://hl7.org/fhir/sid/icd-10", "Z33.1")],
    )
    assert [c.unborn for c in result.children] == [True]
    assert PromptCode.CONSIDER_UNBORN in codes(result)
    assert PromptCode.CONSIDER_CHILDREN not in codes(result)


def test_not_pregnant_contact_has_no_unborn_child(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(engine, make_contact, pregnant=False)
    assert result.children == ()
    assert result.prompts == ()


def test_unborn_prompt_escalates_with_the_toxic_trio(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(
        engine, make_contact, pregnant=True, indicators=[indicator(IndicatorKind.DOMESTIC_ABUSE)]
    )
    prompt = result.prompt(PromptCode.CONSIDER_UNBORN)
    assert prompt is not None and prompt.severity is Severity.WARNING


# Household known or not -----------------------------------------------------------------------


def test_unknown_household_asks_to_record_the_household(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(engine, make_contact, household=None)
    assert result.household_known is False
    prompt = result.prompt(PromptCode.RECORD_HOUSEHOLD)
    assert prompt is not None and prompt.severity is Severity.WARNING
    assert PromptCode.CONSIDER_CHILDREN not in codes(result)


def test_empty_household_raises_no_prompt_at_all(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(engine, make_contact, household=[])
    assert result.household_known is True
    assert result.children == ()
    assert result.prompts == ()


def test_household_recorded_longer_ago_than_recheck_days_asks_for_a_recheck(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    days = engine.config.recheck_days
    result = assess(
        engine,
        make_contact,
        household=[],
        household_recorded_at=CONTACT_AT - timedelta(days=days, minutes=1),
    )
    prompt = result.prompt(PromptCode.RECORD_HOUSEHOLD)
    assert prompt is not None and prompt.severity is Severity.INFO
    assert f"{days} days ago" in prompt.summary


def test_household_recorded_exactly_recheck_days_ago_needs_no_recheck(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(
        engine,
        make_contact,
        household=[],
        household_recorded_at=CONTACT_AT - timedelta(days=engine.config.recheck_days),
    )
    assert result.prompt(PromptCode.RECORD_HOUSEHOLD) is None


def test_household_recorded_at_the_contact_is_not_stale_when_assessed_months_later(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    contact = make_contact(household=[], occurred_at=CONTACT_AT)
    later = CONTACT_AT + timedelta(days=engine.config.recheck_days + 30)
    assert engine.assess(contact, now=later, present=False).prompts == ()


def test_children_living_elsewhere_are_counted_apart_from_those_at_home(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    contact = make_contact(
        household=[
            member(date(2015, 1, 1)),
            member(date(2019, 1, 1), lives_with_patient=None),
            member(date(2012, 1, 1), lives_with_patient=False),
        ]
    )
    prompt = engine.assess(contact, now=contact.occurred_at, present=False).prompt(
        PromptCode.CONSIDER_CHILDREN
    )
    assert prompt is not None
    assert prompt.summary.startswith("2 children under 18 in the household and 1 living elsewhere.")


def test_only_child_living_elsewhere_is_still_considered(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    contact = make_contact(household=[member(date(2012, 1, 1), lives_with_patient=False)])
    prompt = engine.assess(contact, now=contact.occurred_at, present=False).prompt(
        PromptCode.CONSIDER_CHILDREN
    )
    assert prompt is not None and prompt.summary.startswith("1 child under 18 living elsewhere.")
