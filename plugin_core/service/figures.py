"""The dashboard's figures, counted from the store's small rows; pure, so each rule is tested
without a database. docs/web.md says what each figure means.

Weeks start on Monday at midnight in Europe/London. A contact counts in the week it was
received; a decision, a referral and an escalation in the week the decision was recorded
(or the escalation made).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from plugin_core.model import ContactState, EscalationKind, PromptCode, Route
from plugin_core.rules.clock import LONDON
from plugin_core.store.report_facts import (
    ContactFact,
    DashboardFacts,
    DecisionFact,
    ReferralFact,
)
from plugin_core.store.reports import OVERDUE

WITHIN = timedelta(hours=24)
LEVELS = ("1", "2", "3", "4", "not given")
NOT_SHARED = "not shared"
ROUTES = (NOT_SHARED, *(r.value for r in Route))
NO_AUTHORITY = "none (police, or not confirmed)"
NO_UNIT = "not given"

_SHOWN = frozenset({ContactState.OPEN, ContactState.DECIDED, ContactState.REFERRED})
_ANSWERED = frozenset({ContactState.DECIDED, ContactState.REFERRED})


def unit_of(location: str | None) -> str:
    """The ward or team a location belongs to: its first two ``/`` parts, so an HL7 place
    ``facility/ward/room/bed`` counts under ``facility/ward``, a FHIR ``Location/id`` as it
    is, and a plain name as it is."""
    if not location or not location.strip():
        return NO_UNIT
    return "/".join(p.strip() for p in location.split("/")[:2])


def week_of(at: datetime) -> date:
    """The Monday (Europe/London) of the week ``at`` falls in."""
    day = at.astimezone(LONDON).date()
    return day - timedelta(days=day.weekday())


def week_start(day: date) -> datetime:
    """Midnight in London at the start of the Monday of ``day``'s week, as an aware time."""
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=LONDON)


@dataclass(frozen=True, slots=True)
class ContactFigures:
    """Adult first contacts and what became of their prompts, for one week or one unit."""

    label: str
    contacts: int = 0
    recorded_within_24h: int = 0
    recorded: int = 0
    shown: int = 0
    answered: int = 0
    suppressed: int = 0


@dataclass(frozen=True, slots=True)
class EscalationFigures:
    week: str
    not_shared: int = 0
    overrides: int = 0
    overdue: int = 0


@dataclass(frozen=True, slots=True)
class AuthorityFigures:
    authority: str
    referrals: int
    delivered: int
    acknowledged: int
    escalated: int
    median_hours_to_delivery: float | None
    median_hours_to_acknowledgement: float | None


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Every figure on the dashboard for one period and one unit (or all)."""

    start: datetime
    end: datetime
    unit: str | None
    weeks: tuple[ContactFigures, ...]
    units: tuple[ContactFigures, ...]
    total: ContactFigures
    decisions: tuple[tuple[str, tuple[int, ...]], ...]
    """(level, counts by route in ``ROUTES`` order)."""
    escalations: tuple[EscalationFigures, ...]
    authorities: tuple[AuthorityFigures, ...]

    @property
    def first_day(self) -> date:
        return self.start.astimezone(LONDON).date()

    @property
    def last_day(self) -> date:
        """The last day the period covers (London), its end being exclusive."""
        return (self.end - timedelta(microseconds=1)).astimezone(LONDON).date()


def recorded(fact: ContactFact) -> bool:
    """The household was on record for the contact: it did not need asking."""
    return PromptCode.RECORD_HOUSEHOLD.value not in fact.prompt_codes


def recorded_within_24h(fact: ContactFact) -> bool:
    """On record no later than 24 hours after the contact (a household recorded before the
    contact counts); without a time of its own, a household was recorded at the contact."""
    if not recorded(fact):
        return False
    if fact.occurred_at is None or fact.household_recorded_at is None:
        return True
    return fact.household_recorded_at - fact.occurred_at <= WITHIN


def _flags(fact: ContactFact) -> tuple[int, int, int, int, int, int]:
    """What one contact adds to each of :class:`ContactFigures`' counts, worked out once."""
    state = fact.state
    return (
        1,
        int(recorded_within_24h(fact)),
        int(recorded(fact)),
        int(state in _SHOWN),
        int(state in _ANSWERED),
        int(state is ContactState.SUPPRESSED),
    )


def _figures(label: str, sums: Sequence[int]) -> ContactFigures:
    return ContactFigures(label, *sums)


def contact_figures(label: str, facts: Iterable[ContactFact]) -> ContactFigures:
    sums = [0] * 6
    for fact in facts:
        sums = [a + b for a, b in zip(sums, _flags(fact), strict=True)]
    return _figures(label, sums)


def decisions_by_level(
    decisions: Iterable[DecisionFact],
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Decisions by level (rows) and route (columns): a decision not to share counts once
    under ``not shared``; a decision to share once under each route it referred to."""
    counts: Counter[tuple[str, str]] = Counter()
    for d in decisions:
        level = str(d.level_of_need) if d.level_of_need is not None else LEVELS[-1]
        for route in d.routes if d.share else (NOT_SHARED,):
            counts[(level, route)] += 1
    return tuple((lv, tuple(counts[(lv, r)] for r in ROUTES)) for lv in LEVELS)


def _median_hours(spans: Sequence[timedelta]) -> float | None:
    if not spans:
        return None
    return round(statistics.median(s.total_seconds() for s in spans) / 3600, 1)


def authority_figures(
    referrals: Iterable[ReferralFact], name: Callable[[str | None], str]
) -> tuple[AuthorityFigures, ...]:
    groups: dict[str, list[ReferralFact]] = {}
    for r in referrals:
        groups.setdefault(name(r.authority_id), []).append(r)
    return tuple(
        AuthorityFigures(
            authority,
            referrals=len(rs),
            delivered=sum(r.delivered_at is not None for r in rs),
            acknowledged=sum(r.acknowledged_at is not None for r in rs),
            escalated=sum(r.escalated_at is not None for r in rs),
            median_hours_to_delivery=_median_hours(
                [r.delivered_at - r.created_at for r in rs if r.delivered_at]
            ),
            median_hours_to_acknowledgement=_median_hours(
                [r.acknowledged_at - r.created_at for r in rs if r.acknowledged_at]
            ),
        )
        for authority, rs in sorted(groups.items())
    )


def weeks_between(start: datetime, end: datetime) -> list[date]:
    """Every Monday from ``start``'s week to ``end``'s (exclusive of an empty last week)."""
    first, last = week_of(start), week_of(end - timedelta(microseconds=1))
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def dashboard(
    facts: DashboardFacts,
    *,
    start: datetime,
    end: datetime,
    unit: str | None,
    authority_name: Callable[[str | None], str],
) -> Dashboard:
    weeks = weeks_between(start, end)
    by_week: dict[date, list[int]] = {w: [0] * 6 for w in weeks}
    by_unit: dict[str, list[int]] = {}
    total = [0] * 6
    for c in facts.contacts:
        flags = _flags(c)
        for sums in (
            by_week.setdefault(week_of(c.received_at), [0] * 6),
            by_unit.setdefault(unit_of(c.location), [0] * 6),
            total,
        ):
            for i, v in enumerate(flags):
                sums[i] += v
    escalations = {w: Counter[str]() for w in weeks}
    for e in facts.escalations:
        escalations.setdefault(week_of(e.at), Counter())[e.kind] += 1
    return Dashboard(
        start=start,
        end=end,
        unit=unit,
        weeks=tuple(_figures(w.isoformat(), by_week[w]) for w in sorted(by_week)),
        units=tuple(_figures(u, sums) for u, sums in sorted(by_unit.items())),
        total=_figures("Total", total),
        decisions=decisions_by_level(facts.decisions),
        escalations=tuple(
            EscalationFigures(
                w.isoformat(),
                n[EscalationKind.NOT_SHARED.value],
                n[EscalationKind.OVERRIDE.value],
                n[OVERDUE],
            )
            for w, n in sorted(escalations.items())
        ),
        authorities=authority_figures(facts.referrals, authority_name),
    )
