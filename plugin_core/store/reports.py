"""Read-only queries for the worklist and the safeguarding leads' dashboard.

A contact's ward or team is its encounter's location, kept inside the stored contact JSON,
so it is read with each backend's JSON operators (the only SQL here that differs between
SQLite and PostgreSQL). A unit matches a location equal to it or beginning with it and a
``/`` (``RFH/WARD7`` matches ``RFH/WARD7/BAY2/BED3``). Figures are counted in the service
from the small rows these queries give back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from plugin_core.formats import serialise
from plugin_core.model import ContactState, FirstContact, ReferralAction, ReferralStatus
from plugin_core.store.base import StoreBase, opt_ts, parse_ts, placeholders, ts
from plugin_core.store.records import (
    CONTACT_COLUMNS,
    REFERRAL_COLUMNS,
    StoredContact,
    stored_contact,
    stored_referral,
)
from plugin_core.store.report_facts import (
    ContactFact,
    DashboardFacts,
    DecisionFact,
    EscalationFact,
    OpenReferral,
    RecentContact,
    ReferralFact,
)

_ESCAPE = "!"
OVERDUE = "overdue"
"""The kind given to a referral escalated because nobody acknowledged it in time."""
_OPEN_REFERRALS = (
    ReferralStatus.PENDING,
    ReferralStatus.DELIVERED,
    ReferralStatus.FAILED,
    ReferralStatus.ESCALATED,
    ReferralStatus.CALL_REQUIRED,
)
"""Referrals nobody at the receiving end has yet confirmed, and not cancelled."""


def like_escape(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern escaped with ``!``."""
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", "!%").replace("_", "!_")


class Reports(StoreBase):
    def _json(self, column: str, *path: str) -> str:
        """SQL for the text at ``path`` inside a JSON text column."""
        if self.backend.name == "postgresql":
            return f"({column}::jsonb #>> '{{{','.join(path)}}}')"
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def _in_units(
        self, units: Sequence[str] | None, column: str = "c.contact"
    ) -> tuple[str, list[Any]]:
        """A condition matching contacts in any of ``units`` (every contact for None)."""
        if units is None:
            return "1 = 1", []
        if not units:
            return "1 = 0", []
        location = self._json(column, "encounter", "location")
        parts, params = [], []
        for unit in units:
            parts.append(f"({location} = ? OR {location} LIKE ? ESCAPE '{_ESCAPE}')")
            params += [unit, like_escape(unit) + "/%"]
        return "(" + " OR ".join(parts) + ")", params

    # Worklist --------------------------------------------------------------------------------

    def open_contacts(self, *, units: Sequence[str] | None, limit: int) -> list[StoredContact]:
        """Contacts whose prompts were shown and wait for an answer, oldest first."""
        where, params = self._in_units(units, "contact")
        with self.transaction() as tx:
            rows = tx.all(
                f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE state = ? AND {where}"
                " ORDER BY received_at LIMIT ?",
                (ContactState.OPEN.value, *params, limit),
            )
        return [stored_contact(r) for r in rows]

    def open_referrals(self, *, units: Sequence[str] | None, limit: int) -> list[OpenReferral]:
        """Referrals not yet acknowledged and not cancelled, soonest deadline first."""
        where, params = self._in_units(units)
        columns = ", ".join(f"r.{c.strip()}" for c in REFERRAL_COLUMNS.split(","))
        with self.transaction() as tx:
            rows = tx.all(
                f"SELECT {columns}, c.contact FROM referrals r JOIN contacts c"
                f" ON c.id = r.contact_id WHERE r.status IN ({placeholders(_OPEN_REFERRALS)})"
                f" AND {where} ORDER BY r.due_by LIMIT ?",
                (*(s.value for s in _OPEN_REFERRALS), *params, limit),
            )
        return [
            OpenReferral(stored_referral(r[:-1]), serialise.loads(FirstContact, r[-1]))
            for r in rows
        ]

    def recent_contacts(
        self, *, units: Sequence[str] | None, since: datetime, limit: int
    ) -> list[RecentContact]:
        """Contacts received since ``since``, newest first, with who and where only."""
        where, params = self._in_units(units, "contact")
        fields = ", ".join(
            self._json("contact", *path)
            for path in (("patient", "id"), ("patient", "name"), ("encounter", "location"))
        )
        with self.transaction() as tx:
            rows = tx.all(
                f"SELECT id, received_at, {fields} FROM contacts WHERE received_at >= ?"
                f" AND {where} ORDER BY received_at DESC LIMIT ?",
                (ts(since), *params, limit),
            )
        return [RecentContact(r[0], parse_ts(r[1]), str(r[2]), r[3], r[4]) for r in rows]

    def last_considered(self, patient_keys: Sequence[str]) -> dict[str, datetime]:
        """When a decision was last recorded for each adult (by re-check key), if ever."""
        keys = list(dict.fromkeys(patient_keys))
        found: dict[str, datetime] = {}
        with self.transaction() as tx:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = tx.all(
                    "SELECT patient_key, MAX(since) FROM decision_facts"
                    f" WHERE patient_key IN ({placeholders(chunk)}) GROUP BY patient_key",
                    chunk,
                )
                found.update({r[0]: parse_ts(r[1]) for r in rows})
        return found

    def locations(self, *, since: datetime) -> list[str]:
        """Every location named by a contact received since ``since``."""
        location = self._json("contact", "encounter", "location")
        with self.transaction() as tx:
            rows = tx.all(
                f"SELECT DISTINCT {location} FROM contacts WHERE received_at >= ?",
                (ts(since),),
            )
        return sorted(r[0] for r in rows if r[0])

    # Dashboard -------------------------------------------------------------------------------

    def dashboard_facts(
        self, *, start: datetime, end: datetime, units: Sequence[str] | None
    ) -> DashboardFacts:
        """What the dashboard counts for ``[start, end)`` in ``units`` (all for None)."""
        where, params = self._in_units(units)
        window = (ts(start), ts(end))
        location = self._json("c.contact", "encounter", "location")
        with self.transaction() as tx:
            contacts = tx.all(
                f"SELECT c.received_at, c.state, c.prompt_codes, {location},"
                f" {self._json('c.contact', 'occurred_at')},"
                f" {self._json('c.contact', 'household_recorded_at')}"
                f" FROM contacts c WHERE c.received_at >= ? AND c.received_at < ? AND {where}",
                (*window, *params),
            )
            decisions = tx.all(
                f"SELECT d.id, d.decided_at, d.share, {self._json('d.decision', 'level_of_need')},"
                f" {location} FROM decisions d JOIN contacts c ON c.id = d.contact_id"
                " WHERE d.decided_at >= ? AND d.decided_at < ? AND NOT EXISTS"
                " (SELECT 1 FROM decisions s WHERE s.supersedes = d.id)"
                f" AND {where}",
                (*window, *params),
            )
            fields = ", ".join(
                self._json("r.referral", name)
                for name in ("action", "route", "authority_id", "created_at")
            )
            referrals = tx.all(
                f"SELECT d.id, {fields}, r.status, r.delivered_at,"
                f" r.acknowledged_at, r.escalated_at, {location} FROM referrals r"
                " JOIN decisions d ON d.id = r.decision_id JOIN contacts c ON c.id = r.contact_id"
                f" WHERE d.decided_at >= ? AND d.decided_at < ? AND {where}",
                (*window, *params),
            )
            escalations = tx.all(
                f"SELECT e.created_at, e.kind, {location} FROM decision_escalations e"
                " JOIN contacts c ON c.id = e.contact_id"
                f" WHERE e.created_at >= ? AND e.created_at < ? AND {where}",
                (*window, *params),
            )
            overdue = tx.all(
                f"SELECT r.escalated_at, {location} FROM referrals r JOIN contacts c"
                " ON c.id = r.contact_id WHERE r.escalated_at >= ? AND r.escalated_at < ?"
                f" AND {where}",
                (*window, *params),
            )
        made = [_referral_fact(r) for r in referrals]
        routes: dict[str, set[str]] = {}
        for decision_id, route in (_route(r) for r in referrals):
            if route is not None:
                routes.setdefault(decision_id, set()).add(route)
        return DashboardFacts(
            contacts=tuple(
                ContactFact(
                    parse_ts(r[0]),
                    ContactState(r[1]),
                    tuple(c for c in r[2].split(",") if c),
                    r[3],
                    _iso(r[4]),
                    _iso(r[5]),
                )
                for r in contacts
            ),
            decisions=tuple(
                DecisionFact(
                    r[0],
                    parse_ts(r[1]),
                    bool(r[2]),
                    int(r[3]) if r[3] is not None else None,
                    r[4],
                    tuple(sorted(routes.get(r[0], ()))),
                )
                for r in decisions
            ),
            referrals=tuple(fact for _, fact in made if fact is not None),
            escalations=(
                *(EscalationFact(parse_ts(r[0]), r[1], r[2]) for r in escalations),
                *(EscalationFact(parse_ts(r[0]), OVERDUE, r[1]) for r in overdue),
            ),
        )


def _iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _route(row: Any) -> tuple[str, str | None]:
    """(decision id, the route it sent to): a new referral or an update standing for one
    (a decision that replaces another updates the referral already sent); None for a
    cancellation or a referral withdrawn before it was sent.

    ``row``: decision id, action, route, authority id, created at, status, delivered at,
    acknowledged at, escalated at, location.
    """
    withdrawn = ReferralStatus(row[5]) is ReferralStatus.CANCELLED and row[6] is None
    if ReferralAction(row[1]) is ReferralAction.CANCEL or withdrawn:
        return row[0], None
    return row[0], str(row[2])


def _referral_fact(row: Any) -> tuple[str, ReferralFact | None]:
    """(decision id, the referral made), or None for an update, a cancellation, or a
    referral withdrawn before it was sent."""
    status = ReferralStatus(row[5])
    delivered = opt_ts(row[6])
    if ReferralAction(row[1]) is not ReferralAction.NEW or (
        status is ReferralStatus.CANCELLED and delivered is None
    ):
        return row[0], None
    return row[0], ReferralFact(
        created_at=datetime.fromisoformat(row[4]),
        authority_id=row[3],
        route=str(row[2]),
        status=status,
        delivered_at=delivered,
        acknowledged_at=opt_ts(row[7]),
        escalated_at=opt_ts(row[8]),
        location=row[9],
    )
