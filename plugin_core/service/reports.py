"""Read views for the people who look after the duty: the worklist of a ward or team, and the
safeguarding leads' dashboard.

Who may see which units is the caller's business: each view takes the units in scope
(``None`` for every unit) and an optional filter, and shows nothing outside the scope.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from plugin_core.rules import recheck
from plugin_core.service.base import ServiceBase
from plugin_core.service.figures import (
    NO_AUTHORITY,
    Dashboard,
    dashboard,
    unit_of,
    week_of,
    week_start,
)
from plugin_core.service.worklist import (
    Waiting,
    Worklist,
    contact_items,
    referral_items,
    review_items,
)

MAX_WEEKS = 52
WORKLIST_LIMIT = 500
UNITS_LOOKBACK = timedelta(days=365)


def in_scope(unit: str, scope: Collection[str] | None) -> bool:
    """True when ``unit`` is one of ``scope``'s units or inside one (``None``: every unit)."""
    if scope is None:
        return True
    return any(unit == s or unit.startswith(s + "/") for s in scope)


class Reports(ServiceBase):
    def _units_asked(self, scope: Collection[str] | None, unit: str | None) -> list[str] | None:
        if unit:
            return [unit] if in_scope(unit, scope) else []
        return None if scope is None else sorted(scope)

    def units(self, *, scope: Collection[str] | None = None) -> tuple[str, ...]:
        """Wards and teams named by contacts in the last year, within ``scope``."""
        since = self.clock() - UNITS_LOOKBACK
        found = {unit_of(loc) for loc in self.store.locations(since=since)}
        if scope is not None:
            found = {u for u in found if in_scope(u, scope)} | set(scope)
        return tuple(sorted(found))

    def worklist(
        self,
        *,
        scope: Collection[str] | None,
        unit: str | None = None,
        waiting: Waiting | None = None,
        limit: int = WORKLIST_LIMIT,
    ) -> Worklist:
        """What waits in the units in ``scope`` (every unit for None), or in ``unit`` alone.

        Contacts waiting for the household question or a decision, referrals not yet
        acknowledged, and adults seen since their children were last considered (the review
        at each care-programme meeting); only the kind ``waiting`` asks for, when given.
        """
        units = self._units_asked(scope, unit)
        now = self.clock()
        items = []
        open_ids: set[str] = set()
        if waiting in (None, Waiting.HOUSEHOLD, Waiting.DECISION, Waiting.REVIEW):
            stored = self.store.open_contacts(units=units, limit=limit)
            open_ids = {s.id for s in stored}
            if waiting is not Waiting.REVIEW:
                items += contact_items(stored)
        if waiting in (None, Waiting.ACKNOWLEDGEMENT):
            items += referral_items(self.store.open_referrals(units=units, limit=limit), now)
        if waiting in (None, Waiting.REVIEW):
            since = now - timedelta(days=self.config.recheck_days)
            recent = self.store.recent_contacts(units=units, since=since, limit=limit * 4)
            key = {
                c.patient_id: recheck.patient_key(self.config.trust_id, c.patient_id)
                for c in recent
            }
            considered = self.store.last_considered(list(key.values()))
            items += review_items(recent, considered, key, open_ids)
        chosen = tuple(i for i in items if waiting is None or i.waiting is waiting)
        return Worklist(chosen[:limit], self.units(scope=scope), unit, waiting)

    def dashboard(
        self,
        *,
        weeks: int = 12,
        unit: str | None = None,
        scope: Collection[str] | None = None,
    ) -> Dashboard:
        """The leads' figures for the last ``weeks`` whole weeks, this one included (to the
        end of Sunday), for ``unit`` or every unit in ``scope``."""
        weeks = max(1, min(weeks, MAX_WEEKS))
        this_week = week_of(self.clock())
        start = week_start(this_week - timedelta(weeks=weeks - 1))
        end = week_start(this_week + timedelta(weeks=1))
        return self.dashboard_between(start, end, unit=unit, scope=scope)

    def dashboard_between(
        self,
        start: datetime,
        end: datetime,
        *,
        unit: str | None = None,
        scope: Collection[str] | None = None,
    ) -> Dashboard:
        """The leads' figures for ``[start, end)``."""
        facts = self.store.dashboard_facts(
            start=start, end=end, units=self._units_asked(scope, unit)
        )
        return dashboard(
            facts, start=start, end=end, unit=unit, authority_name=self._authority_name
        )

    def _authority_name(self, authority_id: str | None) -> str:
        if authority_id is None:
            return NO_AUTHORITY
        entry = self.config.directory.get(authority_id)
        return entry.name if entry is not None else authority_id
