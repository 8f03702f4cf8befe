"""How the dashboard counts, rule by rule, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from plugin_core.model import ContactState
from plugin_core.service.figures import (
    NO_UNIT,
    NOT_SHARED,
    ROUTES,
    decisions_by_level,
    recorded,
    recorded_within_24h,
    unit_of,
    week_of,
    weeks_between,
)
from plugin_core.store.report_facts import ContactFact, DecisionFact

AT = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def fact(*, prompts: tuple[str, ...] = (), recorded_at: datetime | None = None) -> ContactFact:
    return ContactFact(AT, ContactState.OPEN, prompts, "W", AT, recorded_at)


def test_an_hl7_place_counts_under_its_facility_and_ward() -> None:
    assert unit_of("RFH/WARD7/BAY2/BED3") == "RFH/WARD7"
    assert unit_of("Location/123") == "Location/123"
    assert unit_of("Ward 7") == "Ward 7"
    assert unit_of(None) == unit_of("  ") == NO_UNIT


def test_a_contact_asked_the_household_question_has_no_household_recorded() -> None:
    assert not recorded(fact(prompts=("record-household", "consider-unborn")))
    assert recorded(fact(prompts=("consider-children",)))


def test_household_recorded_24_hours_after_the_contact_is_within_and_a_minute_later_is_not() -> (
    None
):
    assert recorded_within_24h(fact(recorded_at=AT + timedelta(hours=24)))
    assert not recorded_within_24h(fact(recorded_at=AT + timedelta(hours=24, minutes=1)))
    assert recorded_within_24h(fact(recorded_at=AT - timedelta(days=30)))
    assert recorded_within_24h(fact())
    assert not recorded_within_24h(fact(prompts=("record-household",)))


def test_a_sharing_decision_counts_under_each_route_and_not_sharing_once() -> None:
    decisions = [
        DecisionFact("d1", AT, True, 4, "W", ("front_door", "police")),
        DecisionFact("d2", AT, False, 3, "W", ()),
        DecisionFact("d3", AT, True, None, "W", ("early_help",)),
    ]
    table = dict(decisions_by_level(decisions))
    assert table["4"][ROUTES.index("front_door")] == table["4"][ROUTES.index("police")] == 1
    assert table["3"][ROUTES.index(NOT_SHARED)] == 1
    assert table["not given"][ROUTES.index("early_help")] == 1
    assert sum(table["1"]) == sum(table["2"]) == 0


def test_weeks_start_on_monday_in_london_time() -> None:
    # 23:30 UTC on Sunday 29 March 2026 is 00:30 on Monday in British Summer Time.
    assert week_of(datetime(2026, 3, 29, 23, 30, tzinfo=UTC)) == date(2026, 3, 30)
    assert week_of(datetime(2026, 3, 29, 22, 30, tzinfo=UTC)) == date(2026, 3, 23)


def test_the_weeks_of_a_period_include_its_first_and_last() -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    end = datetime(2026, 3, 16, tzinfo=UTC)
    assert weeks_between(start, end) == [date(2026, 3, 2), date(2026, 3, 9)]
