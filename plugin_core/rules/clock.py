"""Time rules: UTC for storage, Europe/London for office hours, England and Wales bank holidays.

Bank holidays come from the maintained ``holidays`` package rather than a hand-written list,
so a new royal or substitute holiday arrives with a package update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


def utc_now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    # England and Wales share one set of bank holidays; "ENG" is that set.
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """Opening hours of a front door: weekdays ``opens``–``closes`` London time."""

    opens: time = time(9, 0)
    closes: time = time(17, 0)
    weekdays: frozenset[int] = frozenset(range(5))

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` (any zone) falls in office hours on a working day in London."""
        local = at.astimezone(LONDON)
        day = local.date()
        if local.weekday() not in self.weekdays or is_bank_holiday(day):
            return False
        return self.opens <= local.time().replace(tzinfo=None) < self.closes
