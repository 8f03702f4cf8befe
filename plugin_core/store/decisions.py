"""Decisions, written with their referrals, escalations and re-check basis in one transaction.

A contact's decisions form one line: each after the first names the one it supersedes, and
the schema's unique indexes keep it one line even when two instances record at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from plugin_core.formats import serialise
from plugin_core.model import ContactState, Decision, DecisionEscalation, Referral, ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.rules.recheck import Basis, Facts
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, StoreError, Tx, parse_ts, ts
from plugin_core.store.records import CONTACT_COLUMNS, StoredContact, stored_contact
from plugin_core.store.referrals import insert_referral, withdraw_unsent
from plugin_core.store.trail import append


@dataclass(frozen=True, slots=True)
class Succession:
    """What recording a decision does to one live referral of the decision it supersedes."""

    referral_id: str
    """The earlier decision's referral."""
    update: Referral
    """Queued when that referral went, or may have: it carries the new decision."""
    replaces: str | None
    """The new decision's own referral the update stands for (same route and authority),
    written instead of it; None when the new decision makes none there."""
    withdrawn: AuditEntry
    updated: AuditEntry


@dataclass(frozen=True, slots=True)
class SavedDecision:
    """What the store did with a decision: recorded, or why not."""

    saved: bool
    duplicate: bool = False
    """A decision with this id is already recorded: nothing was written."""
    current: str | None = None
    """When refused: the contact's current decision (None when it has none)."""
    referrals: tuple[Referral, ...] = ()
    """What was queued: the new decision's referrals, and updates of referrals already sent."""
    withdrawn: tuple[str, ...] = ()
    """Referrals of the superseded decision withdrawn before they were sent."""


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
        """
        try:
            return self._save_decision(
                decision, referrals, audit, at, basis, escalations, succession
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
    ) -> SavedDecision:
        with self.transaction() as tx:
            # Decisions on one contact queue here, one at a time (a lock on PostgreSQL; SQLite
            # has one writer).
            repeat, current = standing(tx, decision.id, decision.contact_id)
            if repeat:
                return SavedDecision(False, duplicate=True)
            if current != decision.supersedes:
                return SavedDecision(False, current=current)
            with tx.batch():  # the writes below: sent together, not one by one
                return _write(tx, decision, referrals, audit, at, basis, escalations, succession)

    def before_decision(
        self, decision_id: str, contact_id: str
    ) -> tuple[StoredContact | None, bool, str | None]:
        """What recording a decision checks first, in one read: the contact, whether the
        decision is already recorded, and the contact's decision in force. (None, False, None)
        when the contact is not stored."""
        with self.reading() as tx:
            row = tx.one(
                f"SELECT {CONTACT_COLUMNS}, (SELECT 1 FROM decisions WHERE id = ?),"
                " (SELECT d.id FROM decisions d WHERE d.contact_id = contacts.id AND NOT EXISTS"
                " (SELECT 1 FROM decisions s WHERE s.supersedes = d.id)"
                " ORDER BY d.decided_at DESC, d.id DESC LIMIT 1)"
                " FROM contacts WHERE id = ?",
                (decision_id, contact_id),
            )
        if row is None:
            return None, False, None
        current = str(row[-1]) if row[-1] is not None else None
        return stored_contact(row[:-2]), row[-2] is not None, current

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


def _decision(row: Any) -> Decision:
    """A stored decision; what it supersedes is the column's (decisions recorded before the
    column existed were given theirs by the migration)."""
    decision = serialise.loads(Decision, row[0])
    return replace(decision, supersedes=row[1]) if decision.supersedes != row[1] else decision


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


def _write(
    tx: Tx,
    decision: Decision,
    referrals: Sequence[Referral],
    audit: Sequence[AuditEntry],
    at: datetime,
    basis: tuple[str, Basis] | None,
    escalations: Sequence[DecisionEscalation],
    succession: Sequence[Succession],
) -> SavedDecision:
    tx.execute(
        "INSERT INTO decisions (id, contact_id, decided_at, share, decision, supersedes)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            decision.id,
            decision.contact_id,
            ts(decision.decided_at),
            int(decision.share),
            serialise.dumps(decision),
            decision.supersedes,
        ),
    )
    queued: list[Referral] = []
    withdrawn: list[str] = []
    replaced: set[str] = set()
    later: list[AuditEntry] = []
    for step in succession:
        row = tx.one(
            f"SELECT status FROM referrals WHERE id = ?{tx.backend.for_update}",
            (step.referral_id,),
        )
        if row is None:
            continue
        status = ReferralStatus(row[0])
        if withdraw_unsent(tx, step.referral_id, at):
            withdrawn.append(step.referral_id)
            later.append(step.withdrawn)
        elif states.allows(states.Change.UPDATE, status):
            insert_referral(tx, step.update)
            queued.append(step.update)
            later.append(step.updated)
            if step.replaces is not None:
                replaced.add(step.replaces)
    own = [r for r in referrals if r.id not in replaced]
    for referral in own:
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
    tx.execute("UPDATE contacts SET state = ? WHERE id = ?", (state.value, decision.contact_id))
    entries = [e for e in audit if not (e.kind == "referral.created" and e.subject in replaced)]
    append(tx, [*entries, *later], at)
    return SavedDecision(True, referrals=(*own, *queued), withdrawn=tuple(withdrawn))
