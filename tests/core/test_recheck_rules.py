"""The re-check rule on its own: what counts as new since a decision, and when its period ends."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from plugin_core.rules.recheck import (
    Basis,
    ChildFact,
    Facts,
    IndicatorFact,
    changes_between,
    judge,
)

DECIDED = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def facts(
    *,
    on: date = date(2026, 3, 3),
    children: tuple[tuple[str, int | None], ...] = (("k-1", 8),),
    indicators: tuple[tuple[str, str | None, str | None], ...] = (("mental_health", None, None),),
    pregnant: bool = False,
) -> Facts:
    return Facts(
        on=on,
        children=tuple(ChildFact(ref, age) for ref, age in children),
        indicators=tuple(IndicatorFact(*i) for i in indicators),
        pregnant=pregnant,
        child_protection=any(i[0] == "child_protection" for i in indicators),
    )


def test_stored_facts_read_back_equal_and_hold_no_names_or_birth_dates() -> None:
    before = facts(indicators=(("child_protection", "local", "CPP"),), pregnant=True)
    text = before.to_json()
    assert Facts.from_json(text) == before
    assert set(json.loads(text)) == {
        "v",
        "on",
        "children",
        "indicators",
        "pregnant",
        "child_protection",
    }


def test_fingerprint_is_the_same_on_another_day_and_differs_with_the_facts() -> None:
    assert facts().fingerprint() == facts(on=date(2026, 5, 1)).fingerprint()
    assert facts().fingerprint() != facts(children=(("k-1", 8), ("k-2", 3))).fingerprint()


def test_a_child_a_year_older_after_a_year_is_the_same_child() -> None:
    later = facts(on=date(2027, 3, 10), children=(("k-1", 9),))
    assert changes_between(facts(), later) == ()


def test_a_child_two_years_older_a_week_later_is_another_child() -> None:
    later = facts(on=date(2026, 3, 10), children=(("k-1", 10),))
    assert [c.value for c in changes_between(facts(), later)] == ["new-child"]


def test_a_new_pregnancy_indicator_is_named_once_as_a_pregnancy() -> None:
    later = facts(
        indicators=(("mental_health", None, None), ("pregnancy", None, None)), pregnant=True
    )
    assert [c.value for c in changes_between(facts(), later)] == ["pregnancy"]


def test_period_ends_recheck_days_after_the_decision() -> None:
    basis = Basis("d-1", DECIDED, facts())
    inside = judge(facts(), basis, now=DECIDED + timedelta(days=90, seconds=-1), recheck_days=90)
    assert inside is not None and inside.suppresses and inside.decision_id == "d-1"
    assert judge(facts(), basis, now=DECIDED + timedelta(days=90), recheck_days=90) is None
    assert judge(facts(), None, now=DECIDED, recheck_days=90) is None
