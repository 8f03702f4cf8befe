"""Time rules: UTC for storage, Europe/London for office hours, England and Wales bank holidays.

Bank holidays come from the maintained ``holidays`` package rather than a hand-written list,
so a new royal or substitute holiday arrives with a package update.

Working time is the time a route is open: its office hours on its working days, bank holidays
left out. An acknowledgement window in working hours therefore stops at closing time and goes
on when the route next opens, through weekends, bank holidays and clock changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")

_SEARCH_DAYS = 31
"""Days ahead searched for the next opening: more than any run of weekends and bank holidays."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    # England and Wales share one set of bank holidays; "ENG" is that set.
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


@lru_cache(maxsize=64)
def _bank_holiday_dates(year: int) -> frozenset[date]:
    """The year's bank holidays as plain dates: looked up several times per deadline."""
    return frozenset(_bank_holidays(year))


def is_bank_holiday(day: date) -> bool:
    if isinstance(day, datetime):
        day = day.date()
    return day in _bank_holiday_dates(day.year)


def london_text(at: datetime) -> str:
    """A time as a professional reads it, London time: ``09:00 on Monday 9 March``."""
    local = at.astimezone(LONDON)
    return f"{local:%H:%M} on {local:%A} {local.day} {local:%B}"


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """Opening hours of a route: weekdays ``opens``–``closes`` London time."""

    opens: time = time(9, 0)
    closes: time = time(17, 0)
    weekdays: frozenset[int] = frozenset(range(5))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and not is_bank_holiday(day)

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` (any zone) falls in office hours on a working day in London."""
        return self._open_locally(at.astimezone(LONDON))

    def _open_locally(self, local: datetime) -> bool:
        if not self.is_working_day(local.date()):
            return False
        return self.opens <= local.time() < self.closes

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, otherwise the next opening time; in London time.

        Raises ValueError for hours that never open (no working weekday).
        """
        local = at.astimezone(LONDON)
        if self._open_locally(local):
            return local
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if self.is_working_day(day):
                opening = _london(day, self.opens)
                if opening >= local:  # one zone: compared as London wall-clock times
                    return opening
            day += timedelta(days=1)
        raise ValueError("these office hours never open")

    def after_working(self, start: datetime, span: timedelta) -> datetime:
        """The instant when ``span`` of working time has passed since ``start`` (UTC).

        Time before opening, after closing, at weekends and on bank holidays does not count:
        24 working hours from 17:30 on a Friday, at 09:00–17:00, end at 17:00 on Wednesday.
        Each working day counts from the opening (or ``start``) to its closing; the days'
        times in UTC are worked out once and kept, since every referral asks for them.
        """
        remaining = span
        at = self.next_open(start).astimezone(UTC)
        while True:
            closing = _utc(at.astimezone(LONDON).date(), self.closes)
            available = closing - at
            if remaining <= available:
                return at + remaining
            remaining -= available
            at = self.next_open(closing).astimezone(UTC)


@lru_cache(maxsize=4096)
def _london(day: date, at: time) -> datetime:
    """``at`` on ``day`` in London (as written on the clock there)."""
    return datetime.combine(day, at, LONDON)


@lru_cache(maxsize=4096)
def _utc(day: date, at: time) -> datetime:
    """The UTC instant of ``at`` on ``day`` in London."""
    return _london(day, at).astimezone(UTC)
