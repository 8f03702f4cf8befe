"""The outbox: referrals claimed by one worker at a time, one delivery recorded, escalated once.

A claim is a conditional ``UPDATE`` of rows picked with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so workers of several instances on one database never take the same referral, nor
wait for rows another has claimed; a claim held by a worker that died expires and is taken up
again. Nothing of a claim lives outside the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from plugin_core.formats import serialise
from plugin_core.model import Prompt, Receipt, Referral, ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.rules.referral_states import SENDABLE, SETTLED
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, placeholders, ts
from plugin_core.store.records import Claim
from plugin_core.store.trail import append

_DELIVERED = (ReferralStatus.DELIVERED, ReferralStatus.ACKNOWLEDGED)


class Outbox(StoreBase):
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

    def delivery_attempts(self, referral_id: str) -> list[tuple[int, str, str]]:
        with self.reading() as tx:
            rows = tx.all(
                "SELECT attempt, worker, outcome FROM delivery_attempts WHERE referral_id = ?"
                " ORDER BY attempted_at",
                (referral_id,),
            )
        return [(int(r[0]), r[1], r[2]) for r in rows]
