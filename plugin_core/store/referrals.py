"""Referrals: the outbox. Claimed by one worker at a time, one delivery recorded, escalated once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from plugin_core.formats import serialise
from plugin_core.model import Prompt, Receipt, Referral, ReferralStatus
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, Tx, placeholders, ts
from plugin_core.store.records import REFERRAL_COLUMNS, Claim, StoredReferral, stored_referral
from plugin_core.store.trail import append

SENDABLE = (ReferralStatus.PENDING, ReferralStatus.FAILED)
"""A referral in one of these states is waiting for an attempt."""

SETTLED = (ReferralStatus.ACKNOWLEDGED, ReferralStatus.CANCELLED)
"""A referral in one of these states is never escalated."""

_DELIVERED = (ReferralStatus.DELIVERED, ReferralStatus.ACKNOWLEDGED)


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


def _values(states: Sequence[ReferralStatus]) -> tuple[str, ...]:
    return tuple(s.value for s in states)


class Referrals(StoreBase):
    def save_amendment(
        self, referral: Referral, *, audit: Sequence[AuditEntry], at: datetime
    ) -> bool:
        """Queue an update or cancellation with its audit entries; False if already queued."""
        with self.transaction() as tx:
            if tx.one("SELECT 1 FROM referrals WHERE id = ?", (referral.id,)) is not None:
                return False
            insert_referral(tx, referral)
            append(tx, audit, at)
        return True

    def withdraw_unsent(
        self, referral_id: str, *, audit: Sequence[AuditEntry], at: datetime
    ) -> bool:
        """Cancel a referral that has not been sent and is not being sent now.

        Returns False when it was delivered, is claimed by a worker, or is not waiting; the
        caller then sends a cancellation message instead.
        """
        stamp = ts(at)
        with self.transaction() as tx:
            row = tx.one(
                f"UPDATE referrals SET status = ? WHERE id = ? AND status IN ({placeholders(SENDABLE)})"
                " AND delivered_at IS NULL AND (claim_expires_at IS NULL OR claim_expires_at < ?)"
                " RETURNING id",
                (ReferralStatus.CANCELLED.value, referral_id, *_values(SENDABLE), stamp),
            )
            if row is None:
                return False
            append(tx, audit, at)
        return True

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
                (*_values(SENDABLE), stamp, stamp, limit),
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
            if row is None or row[1] != worker or ReferralStatus(row[0]) not in SENDABLE:
                return False
            attempt = int(row[2]) + 1
            stamp = ts(at)
            tx.execute(
                "UPDATE referrals SET status = ?, attempts = ?, next_attempt_at = ?,"
                " claimed_by = NULL, claim_expires_at = NULL, receipt = ?,"
                " prompt = COALESCE(?, prompt),"
                " delivered_at = CASE WHEN ? = 1 THEN ? ELSE delivered_at END,"
                " acknowledged_at = CASE WHEN ? = 1 THEN ? ELSE acknowledged_at END WHERE id = ?",
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
    ) -> StoredReferral | None:
        """Mark a referral acknowledged by a person (a call made, a reply received)."""
        with self.transaction() as tx:
            row = tx.one(
                f"SELECT status FROM referrals WHERE id = ?{self.backend.for_update}",
                (referral_id,),
            )
            if row is None:
                return None
            if row[0] != ReferralStatus.ACKNOWLEDGED.value:
                tx.execute(
                    "UPDATE referrals SET status = ?, acknowledged_at = ?, claimed_by = NULL,"
                    " claim_expires_at = NULL, prompt = NULL WHERE id = ?",
                    (ReferralStatus.ACKNOWLEDGED.value, ts(at), referral_id),
                )
                append(tx, audit, at)
        return self.get_referral(referral_id)

    def due_escalations(self, now: datetime) -> list[Referral]:
        """Referrals past their deadline, urgent or routine, not acknowledged and not yet
        escalated."""
        with self.transaction() as tx:
            rows = tx.all(
                f"SELECT referral FROM referrals WHERE status NOT IN ({placeholders(SETTLED)})"
                " AND escalated_at IS NULL AND due_by <= ?",
                (*_values(SETTLED), ts(now)),
            )
        return [serialise.loads(Referral, r[0]) for r in rows]

    def mark_escalated(
        self, referral: Referral, prompt: Prompt, *, audit: Sequence[AuditEntry], at: datetime
    ) -> bool:
        """Record an escalation once; returns False when another worker already did."""
        with self.transaction() as tx:
            row = tx.one(
                "UPDATE referrals SET escalated_at = ?, prompt = ? WHERE id = ?"
                " AND escalated_at IS NULL RETURNING id",
                (ts(at), serialise.dumps(prompt), referral.id),
            )
            if row is None:
                return False
            append(tx, audit, at)
        return True

    def get_referral(self, referral_id: str) -> StoredReferral | None:
        with self.transaction() as tx:
            row = tx.one(f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = ?", (referral_id,))
        return stored_referral(row) if row else None

    def list_referrals(self, *, contact_id: str | None = None) -> list[StoredReferral]:
        sql = f"SELECT {REFERRAL_COLUMNS} FROM referrals"
        params: tuple[Any, ...] = ()
        if contact_id:
            sql += " WHERE contact_id = ?"
            params = (contact_id,)
        with self.transaction() as tx:
            rows = tx.all(sql + " ORDER BY next_attempt_at", params)
        return [stored_referral(r) for r in rows]

    def delivery_attempts(self, referral_id: str) -> list[tuple[int, str, str]]:
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT attempt, worker, outcome FROM delivery_attempts WHERE referral_id = ?"
                " ORDER BY attempted_at",
                (referral_id,),
            )
        return [(int(r[0]), r[1], r[2]) for r in rows]
