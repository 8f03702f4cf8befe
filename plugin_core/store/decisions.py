"""Decisions, written with their referrals, escalations and re-check basis in one transaction.

A contact's decisions form one line: each after the first names the one it supersedes, and
the schema's unique indexes keep it one line even when two instances record at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from plugin_core.formats import serialise
from plugin_core.model import Decision, DecisionEscalation, Referral
from plugin_core.rules.recheck import Basis, Facts
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, Tx, parse_ts, ts
from plugin_core.store.decision_writes import SavedDecision, Succession, write_decision
from plugin_core.store.errors import StoreError
from plugin_core.store.records import CONTACT_COLUMNS, StoredContact, stored_contact

__all__ = ["Decisions", "SavedDecision", "Succession", "current_decision", "standing"]


def current_decision(tx: Tx, contact_id: str) -> str | None:
    """The contact's decision that no other supersedes, or None when it has none."""
    row = tx.one(
        "SELECT d.id FROM decisions d WHERE d.contact_id = ? AND NOT EXISTS"
        " (SELECT 1 FROM decisions s WHERE s.supersedes = d.id)"
        " ORDER BY d.decided_at DESC, d.id DESC LIMIT 1",
        (contact_id,),
    )
    return str(row[0]) if row else None


def standing(tx: Tx, decision_id: str, contact_id: str) -> tuple[bool, str | None]:
    """Lock the contact and find, in one round trip: whether ``decision_id`` is recorded, and
    the contact's decision in force; the audit trail's head comes along for the entries."""
    row = tx.one(
        "SELECT (SELECT 1 FROM decisions WHERE id = ?), (SELECT d.id FROM decisions d"
        " WHERE d.contact_id = c.id AND NOT EXISTS (SELECT 1 FROM decisions s"
        " WHERE s.supersedes = d.id) ORDER BY d.decided_at DESC, d.id DESC LIMIT 1),"
        " h.seq, h.hash FROM contacts c, audit_head h WHERE c.id = ? AND h.id = 1"
        f"{tx.backend.for_update}",
        (decision_id, contact_id),
    )
    if row is not None:
        tx.audit_head = (int(row[2]), str(row[3]))
    if row is None:  # no such contact: only a repeat is answered, else the insert fails
        return tx.one("SELECT 1 FROM decisions WHERE id = ?", (decision_id,)) is not None, None
    return row[0] is not None, (str(row[1]) if row[1] is not None else None)


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
        succession: Sequence[Succession] = (),
        texts: Mapping[str, str] | None = None,
    ) -> SavedDecision:
        """Record a decision, its referrals, its escalations and audit entries in one transaction.

        A contact's decisions form one line: the decision must supersede the contact's current
        one (``decision.supersedes``, None for the first), or nothing is written and the
        current one is named. Of two decisions made at once, exactly one is recorded.

        :param basis: (patient key, what the decision was made on), which starts the adult's
            re-check period.
        :param succession: for each live referral of the superseded decision, what to do:
            withdraw it if unsent, else queue its update instead of the new referral it
            stands for (whose ``referral.created`` entry in ``audit`` is then left out).
        :param texts: the decision (under "") and its referrals (by id) as
            ``serialise.dumps`` gives them, when the caller has made them already.
        """
        try:
            return self._save_decision(
                decision, referrals, audit, at, basis, escalations, succession, texts or {}
            )
        except Exception as exc:
            if not self.backend.is_unique_violation(exc):
                raise
        # Another instance committed first (the indexes keep one line of decisions per contact).
        if self.get_decision(decision.id) is not None:
            return SavedDecision(False, duplicate=True)
        with self.reading() as tx:
            current = current_decision(tx, decision.contact_id)
        if current == decision.supersedes:
            raise StoreError("the decision clashed with a record already stored")
        return SavedDecision(False, current=current)

    def _save_decision(
        self,
        decision: Decision,
        referrals: Sequence[Referral],
        audit: Sequence[AuditEntry],
        at: datetime,
        basis: tuple[str, Basis] | None,
        escalations: Sequence[DecisionEscalation],
        succession: Sequence[Succession],
        made: Mapping[str, str],
    ) -> SavedDecision:
        # Serialised before taking the writer, which other requests wait for.
        texts = {r.id: made.get(r.id) or serialise.dumps(r) for r in referrals}
        texts[""] = made.get("") or serialise.dumps(decision)
        facts = basis[1].facts.to_json() if basis is not None else ""

        def write(tx: Tx, repeat: bool, current: str | None) -> SavedDecision:
            if repeat:
                return SavedDecision(False, duplicate=True)
            if current != decision.supersedes:
                return SavedDecision(False, current=current)
            # The writes below touch different rows: on PostgreSQL, one statement.
            with tx.batch(independent=True):
                return write_decision(
                    tx,
                    decision,
                    referrals,
                    audit,
                    at,
                    basis,
                    escalations,
                    succession,
                    texts=texts,
                    facts=facts,
                )

        held = self._held(decision)
        if held is None:
            with self.transaction() as tx:
                # Decisions on one contact queue here, one at a time (a lock on PostgreSQL;
                # SQLite has one writer).
                return write(tx, *standing(tx, decision.id, decision.contact_id))
        # Checked by the read that holds the contact in this transaction: written into it
        # without a savepoint of its own. A clash here cannot be a race: it fails the request.
        with self.writer.transaction(hold=True) as tx:
            try:
                return write(tx, *held)
            except Exception as exc:
                if self.backend.is_unique_violation(exc):
                    raise StoreError("the decision clashed with a record already stored") from exc
                raise

    def _held(self, decision: Decision) -> tuple[bool, str | None] | None:
        """What the read holding the contact found for ``decision`` (already recorded, the
        decision in force), when this thread's open transaction made it; else None."""
        tx = self.writer.current()
        found = tx.checked.pop("decision", None) if tx is not None else None
        if found is None or found[:2] != (decision.id, decision.contact_id):
            return None
        return bool(found[2]), found[3]

    def before_decision(
        self, decision_id: str, contact_id: str, *, hold: bool = False
    ) -> tuple[StoredContact | None, bool, str | None]:
        """What recording a decision checks first, in one read: the contact, whether the
        decision is already recorded, and the contact's decision in force. (None, False, None)
        when the contact is not stored.

        :param hold: read in this thread's write transaction (see ``Writer.transaction``), the
            contact locked until the decision is saved, which then checks nothing again.
        """
        sql = (
            f"SELECT {CONTACT_COLUMNS}, (SELECT 1 FROM decisions WHERE id = ?),"
            " (SELECT d.id FROM decisions d WHERE d.contact_id = contacts.id AND NOT EXISTS"
            " (SELECT 1 FROM decisions s WHERE s.supersedes = d.id)"
            " ORDER BY d.decided_at DESC, d.id DESC LIMIT 1)"
        )
        if not hold:
            with self.reading() as tx:
                row = tx.one(f"{sql} FROM contacts WHERE id = ?", (decision_id, contact_id))
            return _before(row)
        with self.writer.transaction(hold=True) as tx:
            row = tx.one(
                f"{sql}, (SELECT seq FROM audit_head WHERE id = 1),"
                " (SELECT hash FROM audit_head WHERE id = 1)"
                f" FROM contacts WHERE id = ?{self.backend.for_update}",
                (decision_id, contact_id),
            )
            if row is None:
                return None, False, None
            tx.audit_head = (int(row[-2]), str(row[-1]))
            found = _before(row[:-2])
            tx.checked["decision"] = (decision_id, contact_id, found[1], found[2])
        return found

    def current_decision(self, contact_id: str) -> str | None:
        """The id of the contact's decision in force: the one no other supersedes."""
        with self.reading() as tx:
            return current_decision(tx, contact_id)

    def get_decision(self, decision_id: str) -> Decision | None:
        with self.reading() as tx:
            row = tx.one("SELECT decision, supersedes FROM decisions WHERE id = ?", (decision_id,))
        return _decision(row) if row else None

    def get_decisions(self, contact_id: str) -> list[Decision]:
        with self.reading() as tx:
            rows = tx.all(
                "SELECT decision, supersedes FROM decisions WHERE contact_id = ?"
                " ORDER BY decided_at, id",
                (contact_id,),
            )
        return [_decision(r) for r in rows]

    def latest_bases(self, patients: Sequence[str], *, after: datetime) -> dict[str, Basis]:
        """Each adult's latest decision made after ``after``, with the facts it was made on."""
        found: dict[str, Basis] = {}
        with self.reading(snapshot=True) as tx:
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
        with self.reading() as tx:
            rows = tx.all(sql, (*params, limit))
        return [serialise.loads(DecisionEscalation, r[0]) for r in rows]


def _before(row: Any) -> tuple[StoredContact | None, bool, str | None]:
    if row is None:
        return None, False, None
    current = str(row[-1]) if row[-1] is not None else None
    return stored_contact(row[:-2]), row[-2] is not None, current


def _decision(row: Any) -> Decision:
    """A stored decision; what it supersedes is the column's (decisions recorded before the
    column existed were given theirs by the migration)."""
    decision = serialise.loads(Decision, row[0])
    return replace(decision, supersedes=row[1]) if decision.supersedes != row[1] else decision
