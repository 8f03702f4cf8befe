"""Phone calls about referrals: each recorded once, with the referral's new state and the
call prompt cleared, in one transaction with its audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from plugin_core.formats import serialise
from plugin_core.model import PhoneCall, ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, parse_ts, ts
from plugin_core.store.referrals import Changed, ChangeOutcome
from plugin_core.store.trail import append

S = ReferralStatus


class PhoneCalls(StoreBase):
    def record_call(
        self, call: PhoneCall, *, audit: Sequence[AuditEntry], at: datetime
    ) -> Changed | None:
        """Record a call and move the referral as :func:`~plugin_core.rules.referral_states.after_call` says, when its
        state allows (``rules.referral_states``); a call id seen before writes nothing.
        None when the referral is not stored; BUSY while a worker is sending it."""
        with self.transaction() as tx:
            row = tx.one(
                "SELECT status, claim_expires_at FROM referrals"
                f" WHERE id = ?{self.backend.for_update}",
                (call.referral_id,),
            )
            if row is None:
                return None
            status = ReferralStatus(row[0])
            if tx.one("SELECT 1 FROM phone_calls WHERE id = ?", (call.id,)):
                return Changed(ChangeOutcome.REPEAT, status)
            if not states.allows(states.Change.CALL, status):
                return Changed(ChangeOutcome.REFUSED, status)
            if status in states.SENDABLE and row[1] is not None and parse_ts(row[1]) >= at:
                return Changed(ChangeOutcome.BUSY, status)
            after = states.after_call(status, acknowledged=call.acknowledged)
            stamp = ts(at)
            tx.execute(
                "UPDATE referrals SET status = ?, prompt = NULL, claimed_by = NULL,"
                " claim_expires_at = NULL, delivered_at = COALESCE(delivered_at, ?),"
                " acknowledged_at = CASE WHEN ? = 1 THEN COALESCE(acknowledged_at, ?)"
                " ELSE acknowledged_at END WHERE id = ? AND status = ?",
                (
                    after.value,
                    stamp,
                    int(after is S.ACKNOWLEDGED),
                    stamp,
                    call.referral_id,
                    status.value,
                ),
            )
            tx.execute(
                "INSERT INTO phone_calls (id, referral_id, called_at, call) VALUES (?, ?, ?, ?)",
                (call.id, call.referral_id, ts(call.called_at), serialise.dumps(call)),
            )
            append(tx, audit, at)
        return Changed(ChangeOutcome.DONE, after)

    def phone_calls(self, referral_id: str) -> list[PhoneCall]:
        """The calls recorded about a referral, oldest first."""
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT call FROM phone_calls WHERE referral_id = ? ORDER BY called_at, id",
                (referral_id,),
            )
        return [serialise.loads(PhoneCall, r[0]) for r in rows]
