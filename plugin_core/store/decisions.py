"""Decisions, written with their referrals, escalations and re-check basis in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from plugin_core.formats import serialise
from plugin_core.model import ContactState, Decision, DecisionEscalation, Referral
from plugin_core.rules.recheck import Basis, Facts
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, Tx, parse_ts, ts
from plugin_core.store.referrals import insert_referral
from plugin_core.store.trail import append


class Decisions(StoreBase):
    def save_decision(
        self,
        decision: Decision,
        referrals: Sequence[Referral],
        *,
        audit: Sequence[AuditEntry],
        at: datetime,
        basis: tuple[str, Basis] | None = None,
        escalations: Sequence[DecisionEscalation] = (),
    ) -> bool:
        """Record a decision, its referrals, its escalations and audit entries in one transaction.

        :param basis: (patient key, what the decision was made on), which starts the adult's
            re-check period.
        Returns False (writing nothing) when a decision with this id is already recorded.
        """
        with self.transaction() as tx:
            if tx.one("SELECT 1 FROM decisions WHERE id = ?", (decision.id,)) is not None:
                return False
            tx.execute(
                "INSERT INTO decisions (id, contact_id, decided_at, share, decision)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    decision.id,
                    decision.contact_id,
                    ts(decision.decided_at),
                    int(decision.share),
                    serialise.dumps(decision),
                ),
            )
            for referral in referrals:
                insert_referral(tx, referral)
            if basis is not None:
                patient, found = basis
                tx.execute(
                    "INSERT INTO decision_facts (decision_id, patient_key, since, facts)"
                    " VALUES (?, ?, ?, ?)",
                    (decision.id, patient, ts(found.since), found.facts.to_json()),
                )
            for escalation in escalations:
                _insert_escalation(tx, escalation)
            state = ContactState.REFERRED if referrals else ContactState.DECIDED
            tx.execute(
                "UPDATE contacts SET state = ? WHERE id = ?", (state.value, decision.contact_id)
            )
            append(tx, audit, at)
        return True

    def get_decision(self, decision_id: str) -> Decision | None:
        with self.transaction() as tx:
            row = tx.one("SELECT decision FROM decisions WHERE id = ?", (decision_id,))
        return serialise.loads(Decision, row[0]) if row else None

    def get_decisions(self, contact_id: str) -> list[Decision]:
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT decision FROM decisions WHERE contact_id = ? ORDER BY decided_at",
                (contact_id,),
            )
        return [serialise.loads(Decision, r[0]) for r in rows]

    def latest_bases(self, patients: Sequence[str], *, after: datetime) -> dict[str, Basis]:
        """Each adult's latest decision made after ``after``, with the facts it was made on."""
        found: dict[str, Basis] = {}
        with self.transaction() as tx:
            for patient in dict.fromkeys(patients):
                row = tx.one(
                    "SELECT decision_id, since, facts FROM decision_facts WHERE patient_key = ?"
                    " AND since > ? ORDER BY since DESC, decision_id DESC LIMIT 1",
                    (patient, ts(after)),
                )
                if row is not None:
                    found[patient] = Basis(row[0], parse_ts(row[1]), Facts.from_json(row[2]))
        return found

    def list_decision_escalations(
        self, *, contact_id: str | None = None, limit: int = 100
    ) -> list[DecisionEscalation]:
        """Decisions not to share put before a safeguarding lead, newest first."""
        sql = "SELECT escalation FROM decision_escalations"
        params: tuple[Any, ...] = ()
        if contact_id:
            sql += " WHERE contact_id = ?"
            params = (contact_id,)
        sql += " ORDER BY created_at DESC, id LIMIT ?"
        with self.transaction() as tx:
            rows = tx.all(sql, (*params, limit))
        return [serialise.loads(DecisionEscalation, r[0]) for r in rows]


def _insert_escalation(tx: Tx, escalation: DecisionEscalation) -> None:
    tx.execute(
        "INSERT INTO decision_escalations (id, decision_id, contact_id, kind, created_at,"
        " escalation) VALUES (?, ?, ?, ?, ?, ?)",
        (
            escalation.id,
            escalation.decision_id,
            escalation.contact_id,
            escalation.kind.value,
            ts(escalation.created_at),
            serialise.dumps(escalation),
        ),
    )
