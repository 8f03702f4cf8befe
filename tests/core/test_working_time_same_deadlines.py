"""Deadlines in working hours come out exactly as the plain day-by-day walk gives them.

The walk below is the rule as first written: step to the next opening, count to closing,
carry the rest to the next working day. The office hours' own calculation keeps each day's
opening and closing instead of working them out again; it must agree with the walk on every
start, at weekends, on bank holidays (Christmas, Easter, May), across both clock changes
and exactly at opening and closing times.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import holidays
import pytest

from plugin_core.rules.clock import LONDON, OfficeHours, is_bank_holiday


@cache
def _bank(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def _walk_is_working_day(hours: OfficeHours, day: date) -> bool:
    return day.weekday() in hours.weekdays and day not in _bank(day.year)


def _walk_next_open(hours: OfficeHours, at: datetime) -> datetime:
    local = at.astimezone(LONDON)
    if _walk_is_working_day(hours, local.date()) and (
        hours.opens <= local.time().replace(tzinfo=None) < hours.closes
    ):
        return local
    day = local.date()
    for _ in range(31):
        opening = datetime.combine(day, hours.opens, LONDON)
        if _walk_is_working_day(hours, day) and opening >= local:
            return opening
        day += timedelta(days=1)
    raise ValueError("never opens")


def _walk(hours: OfficeHours, start: datetime, span: timedelta) -> datetime:
    remaining = span
    at = _walk_next_open(hours, start).astimezone(UTC)
    while True:
        local = at.astimezone(LONDON)
        closing = datetime.combine(local.date(), hours.closes, LONDON).astimezone(UTC)
        available = closing - at
        if remaining <= available:
            return at + remaining
        remaining -= available
        at = _walk_next_open(hours, closing).astimezone(UTC)


HOURS = [
    OfficeHours(),
    OfficeHours(time(8, 30), time(16, 30)),
    OfficeHours(time(0, 30), time(23, 30), frozenset(range(7))),
    OfficeHours(time(1, 30), time(2, 30), frozenset(range(7))),  # inside both clock changes
    OfficeHours(time(10), time(14), frozenset({5, 6})),  # weekends only
]
SPANS = [timedelta(0), timedelta(minutes=30), timedelta(hours=8), timedelta(hours=24)]


def _starts(first: date, days: int, step: timedelta) -> list[datetime]:
    at = datetime.combine(first, time(0), UTC)
    return [at + step * n for n in range(int(timedelta(days=days) / step))]


# Christmas and New Year, Easter and the May bank holidays, and both clock changes of 2026.
STARTS = [
    *_starts(date(2025, 12, 19), 18, timedelta(minutes=50)),
    *_starts(date(2026, 3, 26), 12, timedelta(minutes=25)),
    *_starts(date(2026, 4, 30), 6, timedelta(minutes=50)),
    *_starts(date(2026, 10, 22), 6, timedelta(minutes=25)),
]


@pytest.mark.parametrize("hours", HOURS, ids=lambda h: f"{h.opens}-{h.closes}")
def test_every_start_gives_the_deadline_of_the_day_by_day_walk(hours: OfficeHours) -> None:
    for start in STARTS:
        for span in SPANS:
            expected = _walk(hours, start, span)
            found = hours.after_working(start, span)
            assert (found, found.utcoffset()) == (expected, expected.utcoffset()), (start, span)


@pytest.mark.parametrize("hours", HOURS, ids=lambda h: f"{h.opens}-{h.closes}")
def test_starts_exactly_at_opening_and_closing_agree_with_the_walk(hours: OfficeHours) -> None:
    day = date(2026, 3, 27)
    for offset in range(12):
        for at in (hours.opens, hours.closes):
            local = datetime.combine(day + timedelta(days=offset), at, LONDON)
            for start in (local, local - timedelta(microseconds=1), local + timedelta(seconds=1)):
                for span in SPANS:
                    assert hours.after_working(start, span) == _walk(hours, start, span)
                assert hours.next_open(start) == _walk_next_open(hours, start)


def test_bank_holidays_are_those_of_england_and_wales() -> None:
    for year in (2025, 2026, 2027):
        listed = _bank(year)
        for n in range(365):
            day = date(year, 1, 1) + timedelta(days=n)
            assert is_bank_holiday(day) == (day in listed)
    assert is_bank_holiday(datetime(2026, 12, 25, 12, tzinfo=UTC))
