"""Every referral has an acknowledgement deadline, counted in the hours its route is staffed.

Urgent referrals to the police or the front door: ``urgent_ack_minutes`` on the clock (out of
hours the emergency duty team answers). Routine referrals: ``routine_ack_hours`` of the route's
working hours; LADO referrals: ``lado_ack_hours`` of the LADO's. Weekends and bank holidays do
not count; London time throughout, so the clock change moves nothing. In 2026 the clocks go
forward on 29 March and back on 25 October; 4 May is a bank holiday.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest

from plugin_core.model import (
    Consent,
    Decision,
    LadoCriterion,
    LawfulBasis,
    Professional,
    Referral,
    ReferralAction,
    Route,
)
from plugin_core.rules.clock import LONDON, OfficeHours
from plugin_core.rules.decide import amendment, make_referrals
from plugin_core.settings.trust_config import TrustConfig

NINE_TO_FIVE = OfficeHours()
WORKING_DAY_HOURS = 8


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def made(
    config: TrustConfig,
    level: int,
    at: datetime,
    *,
    danger: bool = False,
    lado: bool = False,
    authority: str = "redbridge",
) -> dict[Route, Referral]:
    decision = Decision(
        id=f"d-deadline-{level}",
        contact_id="c-deadline",
        decided_by=Professional("nurse-5"),
        decided_at=at,
        share=True,
        reasons="Parent admitted; the children's care at home is not settled.",
        level_of_need=level,
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        consent=Consent.GIVEN,
        what_shared="Admission and the household.",
        authority_id=authority,
        immediate_danger=danger,
        concerns_person_working_with_children=lado,
        lado_criteria=(LadoCriterion.HARMED_CHILD,) if lado else (),
    )
    return {
        r.route: r for r in make_referrals(decision, authority_id=None, rules=config.rules, now=at)
    }


# Working time -----------------------------------------------------------------------------------


def test_24_working_hours_from_1730_on_a_friday_end_at_1700_on_wednesday() -> None:
    friday = london(2026, 3, 6, 17, 30)
    assert NINE_TO_FIVE.after_working(friday, timedelta(hours=24)) == london(2026, 3, 11, 17)


def test_a_bank_holiday_monday_does_not_count_towards_working_hours() -> None:
    friday = london(2026, 5, 1, 17, 30)  # Monday 4 May is the early May bank holiday
    assert NINE_TO_FIVE.after_working(friday, timedelta(hours=24)) == london(2026, 5, 7, 17)
    assert NINE_TO_FIVE.after_working(friday, timedelta(hours=8)) == london(2026, 5, 5, 17)


def test_working_hours_from_inside_the_day_carry_over_closing_time() -> None:
    monday = london(2026, 3, 2, 10, 30)
    assert NINE_TO_FIVE.after_working(monday, timedelta(hours=24)) == london(2026, 3, 5, 10, 30)
    assert NINE_TO_FIVE.after_working(monday, timedelta(hours=6, minutes=30)) == london(
        2026, 3, 2, 17
    )
    assert NINE_TO_FIVE.after_working(monday, timedelta(hours=7)) == london(2026, 3, 3, 9, 30)


@pytest.mark.parametrize(
    ("start", "due", "due_utc_hour"),
    [
        # Friday 27 March in GMT; Wednesday 1 April in BST: 10:00 London is 09:00 UTC.
        (london(2026, 3, 27, 10), london(2026, 4, 1, 10), 9),
        # Friday 23 October in BST; Wednesday 28 October in GMT: 10:00 London is 10:00 UTC.
        (london(2026, 10, 23, 10), london(2026, 10, 28, 10), 10),
    ],
    ids=["spring-forward", "autumn-back"],
)
def test_working_hours_across_a_clock_change_count_in_london_time(
    start: datetime, due: datetime, due_utc_hour: int
) -> None:
    found = NINE_TO_FIVE.after_working(start, timedelta(hours=24))
    assert found == due
    assert found.utcoffset() == timedelta(0) and found.hour == due_utc_hour  # stored in UTC


def test_next_opening_is_now_in_hours_and_the_next_working_morning_after() -> None:
    tuesday = london(2026, 3, 3, 11)
    assert NINE_TO_FIVE.next_open(tuesday) == tuesday
    assert NINE_TO_FIVE.next_open(london(2026, 3, 3, 8, 59)) == london(2026, 3, 3, 9)
    assert NINE_TO_FIVE.next_open(london(2026, 3, 6, 17)) == london(2026, 3, 9, 9)
    assert NINE_TO_FIVE.next_open(london(2026, 12, 24, 17)) == london(2026, 12, 29, 9)


def test_hours_that_never_open_are_refused_rather_than_searched_for_ever() -> None:
    never = OfficeHours(time(9, 0), time(17, 0), frozenset())
    with pytest.raises(ValueError, match="never open"):
        never.next_open(london(2026, 3, 3, 11))


# Deadlines of referrals -------------------------------------------------------------------------


def test_level_3_referral_on_a_friday_evening_is_due_after_24_working_hours(
    config: TrustConfig,
) -> None:
    friday = london(2026, 3, 6, 17, 30)
    referral = made(config, 3, friday)[Route.FRONT_DOOR]
    assert not referral.urgent
    assert referral.due_by == london(2026, 3, 11, 17)


def test_routine_deadline_follows_the_trusts_setting_in_working_hours(
    config: TrustConfig,
) -> None:
    one_day = replace(config, urgency=replace(config.urgency, routine_ack_hours=WORKING_DAY_HOURS))
    referral = made(one_day, 3, london(2026, 3, 6, 17, 30))[Route.FRONT_DOOR]
    assert referral.due_by == london(2026, 3, 9, 17)


def test_lado_referral_is_due_one_working_day_later(config: TrustConfig) -> None:
    assert config.urgency.lado_ack_hours == WORKING_DAY_HOURS
    tuesday = made(config, 1, london(2026, 3, 3, 10), lado=True)
    assert list(tuesday) == [Route.LADO]
    assert tuesday[Route.LADO].due_by == london(2026, 3, 4, 10)
    friday = made(config, 1, london(2026, 3, 6, 15), lado=True)
    assert friday[Route.LADO].due_by == london(2026, 3, 9, 15)
    saturday = made(config, 1, london(2026, 3, 7, 11), lado=True)
    assert saturday[Route.LADO].due_by == london(2026, 3, 9, 17)


def test_urgent_referral_is_due_in_minutes_at_any_hour(config: TrustConfig) -> None:
    saturday_night = london(2026, 3, 7, 23)
    both = made(config, 4, saturday_night, danger=True)
    assert both[Route.POLICE].due_by == london(2026, 3, 8, 0)
    assert both[Route.FRONT_DOOR].due_by == london(2026, 3, 8, 0)


def test_urgent_lado_referral_counts_its_minutes_in_the_lado_hours(config: TrustConfig) -> None:
    saturday = london(2026, 3, 7, 11)
    found = made(config, 4, saturday, lado=True)
    assert found[Route.FRONT_DOOR].due_by == london(2026, 3, 7, 12)  # the duty team answers
    assert found[Route.LADO].urgent and found[Route.LADO].due_by == london(2026, 3, 9, 10)


def test_early_help_deadline_counts_working_hours(config: TrustConfig) -> None:
    evening = london(2026, 3, 3, 19)  # Tuesday
    referral = made(config, 2, evening)[Route.EARLY_HELP]
    assert referral.due_by == london(2026, 3, 6, 17)


def test_an_update_of_a_routine_referral_counts_working_hours_from_when_it_is_made(
    config: TrustConfig,
) -> None:
    original = made(config, 3, london(2026, 3, 2, 10))[Route.FRONT_DOOR]
    update = amendment(
        original,
        action=ReferralAction.UPDATE,
        amendment_id="u1",
        reasons="The children are now with their grandmother.",
        rules=config.rules,
        now=london(2026, 3, 6, 16),
    )
    assert update.due_by == london(2026, 3, 11, 16)
