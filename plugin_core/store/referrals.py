"""Referrals: the outbox. Claimed by one worker at a time, one delivery recorded, escalated once.

Every change of state is a conditional ``UPDATE`` on the states ``rules.referral_states``
allows it from, inside one transaction with its audit entries, so two workers or instances
racing for one referral cannot make a move the table forbids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from plugin_core.formats import serialise
from plugin_core.model import Prompt, Receipt, Referral, ReferralAction, ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.rules.referral_states import SENDABLE, SETTLED
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, Tx, placeholders, ts
from plugin_core.store.records import REFERRAL_COLUMNS, Claim, StoredReferral, stored_referral
from plugin_core.store.trail import append

_DELIVERED = (ReferralStatus.DELIVERED, ReferralStatus.ACKNOWLEDGED)


class ChangeOutcome(StrEnum):
    """What the store did with a change a person asked for."""

    DONE = "done"
    REPEAT = "repeat"
    """Made before: nothing new is written; the first message, if any, is given back."""
    REFUSED = "refused"
    """The referral's state does not allow it (see ``rules.referral_states``)."""
    BUSY = "busy"
    """A worker is sending the referral now; ask again when the attempt is recorded."""


@dataclass(frozen=True, slots=True)
class Changed:
    """A change's outcome, the referral's state after it, and the message it queued."""

    outcome: ChangeOutcome
    status: ReferralStatus
    message: Referral | None = None


def insert_referral(tx: Tx, referral: Referral) -> None:
    """Queue a referral in the outbox inside the caller's transaction."""
    tx.execute(
        "INSERT INTO referrals (id, decision_id, contact_id, idempotency_key, urgent, status,"
        " next_attempt_at, due_by, referral) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            referral.id,
            referral.decision_id,
            referral.contact_id,
            referral.idempotency_key,
            int(referral.urgent),
            ReferralStatus.PENDING.value,
            ts(referral.created_at),
            ts(referral.due_by),
            serialise.dumps(referral),
        ),
    )


def withdraw_unsent(tx: Tx, referral_id: str, at: datetime) -> bool:
    """Cancel, inside the caller's transaction, a referral not sent and not being sent now.

    False when it was delivered, is claimed by a worker, or is not waiting.
    """
    moved = tx.one(
        f"UPDATE referrals SET status = ? WHERE id = ? AND status IN ({placeholders(SENDABLE)})"
        " AND delivered_at IS NULL AND (claim_expires_at IS NULL OR claim_expires_at < ?)"
        " RETURNING id",
        (ReferralStatus.CANCELLED.value, referral_id, *states.values(SENDABLE), ts(at)),
    )
    return moved is not None


def cancel_sent(tx: Tx, referral_id: str) -> bool:
    """Mark cancelled, inside the caller's transaction, a referral a cancellation is sent for."""
    allowed = states.values(states.CHANGES[states.Change.CANCEL].allowed_in)
    moved = tx.one(
        f"UPDATE referrals SET status = ? WHERE id = ? AND status IN ({placeholders(allowed)})"
        " RETURNING id",
        (ReferralStatus.CANCELLED.value, referral_id, *allowed),
    )
    return moved is not None


def _cancellation_of(tx: Tx, referral_id: str, contact_id: str) -> Referral | None:
    """The cancellation message sent for a referral, if one was (a withdrawn one has none)."""
    rows = tx.all("SELECT referral FROM referrals WHERE contact_id = ?", (contact_id,))
    for (text,) in rows:
        found = serialise.loads(Referral, text)
        if found.action is ReferralAction.CANCEL and found.amends == referral_id:
            return found
    return None


class Referrals(StoreBase):
    def update_referral(
        self, update: Referral, *, audit: Sequence[AuditEntry], at: datetime
    ) -> Changed | None:
        """Queue an update of a referral with its audit entries, when the referral's state
        allows it. An update already queued under the same id is given back, writing nothing.
        None when the referral it amends is not stored."""
        assert update.amends is not None
        with self.transaction() as tx:
            row = tx.one(
                f"SELECT status FROM referrals WHERE id = ?{self.backend.for_update}",
                (update.amends,),
            )
            if row is None:
                return None
            status = ReferralStatus(row[0])
            first = tx.one("SELECT referral FROM referrals WHERE id = ?", (update.id,))
            if first is not None:
                return Changed(ChangeOutcome.REPEAT, status, serialise.loads(Referral, first[0]))
            if not states.allows(states.Change.UPDATE, status):
                return Changed(ChangeOutcome.REFUSED, status)
            insert_referral(tx, update)
            append(tx, audit, at)
        return Changed(ChangeOutcome.DONE, status, update)

    def cancel_referral(
        self,
        referral_id: str,
        cancellation: Referral,
        *,
        withdrawn: Sequence[AuditEntry],
        sent: Sequence[AuditEntry],
        at: datetime,
    ) -> Changed | None:
        """Cancel a referral once: withdraw it unsent, or queue ``cancellation`` for one that
        went (or may have). A referral already cancelled is answered with the cancellation
        sent the first time (None for one withdrawn), writing nothing. None when not stored.

        :param withdrawn: audit entries for a referral withdrawn unsent.
        :param sent: audit entries for a cancellation queued.
        """
        with self.transaction() as tx:
            row = tx.one(
                "SELECT status, delivered_at, contact_id FROM referrals"
                f" WHERE id = ?{self.backend.for_update}",
                (referral_id,),
            )
            if row is None:
                return None
            status = ReferralStatus(row[0])
            if states.already_done(states.Change.CANCEL, status):
                return Changed(
                    ChangeOutcome.REPEAT, status, _cancellation_of(tx, referral_id, row[2])
                )
            if not states.allows(states.Change.CANCEL, status):
                return Changed(ChangeOutcome.REFUSED, status)
            if status in SENDABLE and row[1] is None:
                if not withdraw_unsent(tx, referral_id, at):
                    return Changed(ChangeOutcome.BUSY, status)  # a worker holds it now
                append(tx, withdrawn, at)
                return Changed(ChangeOutcome.DONE, ReferralStatus.CANCELLED)
            if not cancel_sent(tx, referral_id):
                return Changed(ChangeOutcome.REFUSED, status)
            if tx.one("SELECT 1 FROM referrals WHERE id = ?", (cancellation.id,)) is None:
                insert_referral(tx, cancellation)
            append(tx, sent, at)
        return Changed(ChangeOutcome.DONE, ReferralStatus.CANCELLED, cancellation)

    def claim_referrals(
        self, worker: str, now: datetime, *, lease_seconds: float, limit: int
    ) -> list[Claim]:
        """Claim up to ``limit`` referrals due for an attempt; a claim is never shared.

        A claim lasts ``lease_seconds``; a worker that dies leaves its claims to expire, and
        another worker then takes them up.
        """
        stamp = ts(now)
        expires = ts(datetime.fromtimestamp(now.timestamp() + lease_seconds, UTC))
        with self.transaction() as tx:
            rows = tx.all(
                f"SELECT id FROM referrals WHERE status IN ({placeholders(SENDABLE)})"
                " AND next_attempt_at <= ? AND (claim_expires_at IS NULL OR claim_expires_at < ?)"
                " ORDER BY urgent DESC, next_attempt_at LIMIT ?" + self.backend.skip_locked,
                (*states.values(SENDABLE), stamp, stamp, limit),
            )
            claimed: list[Claim] = []
            for (referral_id,) in rows:
                row = tx.one(
                    "UPDATE referrals SET claimed_by = ?, claim_expires_at = ? WHERE id = ?"
                    " AND (claim_expires_at IS NULL OR claim_expires_at < ?)"
                    " RETURNING referral, attempts",
                    (worker, expires, referral_id, stamp),
                )
                if row is not None:
                    claimed.append(Claim(serialise.loads(Referral, row[0]), int(row[1])))
        return claimed

    def finish_attempt(
        self,
        referral: Referral,
        worker: str,
        *,
        status: ReferralStatus,
        receipt: Receipt | None,
        prompt: Prompt | None,
        next_attempt_at: datetime | None,
        audit: Sequence[AuditEntry],
        at: datetime,
    ) -> bool:
        """Record the outcome of a claimed attempt. Returns False, writing nothing, when the
        claim was lost or the referral was already delivered: one delivery is recorded."""
        with self.transaction() as tx:
            row = tx.one(
                "SELECT status, claimed_by, attempts FROM referrals"
                f" WHERE id = ?{self.backend.for_update}",
                (referral.id,),
            )
            if row is None or row[1] != worker:
                return False
            current = ReferralStatus(row[0])
            if current not in SENDABLE or status not in states.TRANSITIONS[current]:
                return False
            attempt = int(row[2]) + 1
            stamp = ts(at)
            tx.execute(
                "UPDATE referrals SET status = ?, attempts = ?, next_attempt_at = ?,"
                " claimed_by = NULL, claim_expires_at = NULL, receipt = ?,"
                " prompt = COALESCE(?, prompt),"
                " delivered_at = CASE WHEN ? = 1 THEN ? ELSE delivered_at END,"
                " acknowledged_at = CASE WHEN ? = 1 THEN ? ELSE acknowledged_at END"
                " WHERE id = ? AND status = ?",
                (
                    status.value,
                    attempt,
                    ts(next_attempt_at) if next_attempt_at else stamp,
                    serialise.dumps(receipt) if receipt else None,
                    serialise.dumps(prompt) if prompt else None,
                    int(status in _DELIVERED),
                    stamp,
                    int(status is ReferralStatus.ACKNOWLEDGED),
                    stamp,
                    referral.id,
                    current.value,
                ),
            )
            tx.execute(
                "INSERT INTO delivery_attempts (referral_id, attempt, attempted_at, worker,"
                " outcome, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    referral.id,
                    attempt,
                    stamp,
                    worker,
                    status.value,
                    receipt.detail[:500] if receipt else "",
                ),
            )
            append(tx, audit, at)
        return True

    def acknowledge(
        self, referral_id: str, *, audit: Sequence[AuditEntry], at: datetime
    ) -> Changed | None:
        """Mark a referral acknowledged by a person (a call made, a reply received), when its
        state allows; once acknowledged, asking again writes nothing. None when not stored."""
        rule = states.CHANGES[states.Change.ACKNOWLEDGE]
        allowed = states.values(rule.allowed_in)
        with self.transaction() as tx:
            row = tx.one(
                f"SELECT status FROM referrals WHERE id = ?{self.backend.for_update}",
                (referral_id,),
            )
            if row is None:
                return None
            status = ReferralStatus(row[0])
            if states.already_done(states.Change.ACKNOWLEDGE, status):
                return Changed(ChangeOutcome.REPEAT, status)
            moved = tx.one(
                "UPDATE referrals SET status = ?, acknowledged_at = ?, claimed_by = NULL,"
                f" claim_expires_at = NULL, prompt = NULL WHERE id = ? AND status IN ({placeholders(allowed)})"
                " RETURNING id",
                (ReferralStatus.ACKNOWLEDGED.value, ts(at), referral_id, *allowed),
            )
            if moved is None:
                return Changed(ChangeOutcome.REFUSED, status)
            append(tx, audit, at)
        return Changed(ChangeOutcome.DONE, ReferralStatus.ACKNOWLEDGED)

    def due_escalations(self, now: datetime) -> list[Referral]:
        """Referrals past their deadline, urgent or routine, not acknowledged and not yet
        escalated."""
        with self.reading() as tx:
            rows = tx.all(
                f"SELECT referral FROM referrals WHERE status NOT IN ({placeholders(SETTLED)})"
                " AND escalated_at IS NULL AND due_by <= ?",
                (*states.values(SETTLED), ts(now)),
            )
        return [serialise.loads(Referral, r[0]) for r in rows]

    def mark_escalated(
        self, referral: Referral, prompt: Prompt, *, audit: Sequence[AuditEntry], at: datetime
    ) -> bool:
        """Record an escalation once; returns False when another worker already did."""
        with self.transaction() as tx:
            row = tx.one(
                "UPDATE referrals SET escalated_at = ?, prompt = ? WHERE id = ?"
                f" AND escalated_at IS NULL AND status NOT IN ({placeholders(SETTLED)})"
                " RETURNING id",
                (ts(at), serialise.dumps(prompt), referral.id, *states.values(SETTLED)),
            )
            if row is None:
                return False
            append(tx, audit, at)
        return True

    def get_referral(self, referral_id: str) -> StoredReferral | None:
        with self.reading() as tx:
            row = tx.one(f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = ?", (referral_id,))
        return stored_referral(row) if row else None

    def list_referrals(self, *, contact_id: str | None = None) -> list[StoredReferral]:
        sql = f"SELECT {REFERRAL_COLUMNS} FROM referrals"
        params: tuple[Any, ...] = ()
        if contact_id:
            sql += " WHERE contact_id = ?"
            params = (contact_id,)
        with self.reading() as tx:
            rows = tx.all(sql + " ORDER BY next_attempt_at", params)
        return [stored_referral(r) for r in rows]

    def delivery_attempts(self, referral_id: str) -> list[tuple[int, str, str]]:
        with self.reading() as tx:
            rows = tx.all(
                "SELECT attempt, worker, outcome FROM delivery_attempts WHERE referral_id = ?"
                " ORDER BY attempted_at",
                (referral_id,),
            )
        return [(int(r[0]), r[1], r[2]) for r in rows]
