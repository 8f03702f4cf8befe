"""Referrals: queued with their decision, changed by people (update, cancel, acknowledge), read.

Workers' claims, attempts and escalations are in ``outbox``. Every change of state is a conditional ``UPDATE`` on the states ``rules.referral_states``
allows it from, inside one transaction with its audit entries, so two workers or instances
racing for one referral cannot make a move the table forbids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from plugin_core.formats import serialise
from plugin_core.model import Referral, ReferralAction, ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.rules.referral_states import SENDABLE
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, Tx, placeholders, ts
from plugin_core.store.records import REFERRAL_COLUMNS, StoredReferral, stored_referral
from plugin_core.store.trail import append
from plugin_core.store.withdrawals import (
    Withdrawal,
    insert_withdrawal,
    read_withdrawal,
    withdrawal_of,
)

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


def insert_referral(tx: Tx, referral: Referral, text: str | None = None) -> None:
    """Queue a referral in the outbox inside the caller's transaction.

    :param text: the referral as ``serialise.dumps`` gives it, when made before the
        transaction (less work while the writer is held)."""
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
            serialise.dumps(referral) if text is None else text,
        ),
    )


def withdraw_unsent(tx: Tx, referral_id: str, at: datetime, withdrawal: Withdrawal | None) -> bool:
    """Cancel, inside the caller's transaction, a referral not sent and not being sent now,
    and record ``withdrawal`` (when, by whom, why) for its document to read.

    False when it was delivered, is claimed by a worker, or is not waiting.
    """
    moved = tx.one(
        f"UPDATE referrals SET status = ? WHERE id = ? AND status IN ({placeholders(SENDABLE)})"
        " AND delivered_at IS NULL AND (claim_expires_at IS NULL OR claim_expires_at < ?)"
        " RETURNING id",
        (ReferralStatus.CANCELLED.value, referral_id, *states.values(SENDABLE), ts(at)),
    )
    if moved is not None and withdrawal is not None:
        insert_withdrawal(tx, withdrawal)
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


def _withdrawal(entries: Sequence[AuditEntry], referral_id: str, at: datetime) -> Withdrawal | None:
    """The withdrawal the referral's own audit entry records."""
    found = next((e for e in entries if e.subject == referral_id), None)
    return withdrawal_of(found, at) if found is not None else None


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
                if not withdraw_unsent(
                    tx, referral_id, at, _withdrawal(withdrawn, referral_id, at)
                ):
                    return Changed(ChangeOutcome.BUSY, status)  # a worker holds it now
                append(tx, withdrawn, at)
                return Changed(ChangeOutcome.DONE, ReferralStatus.CANCELLED)
            if not cancel_sent(tx, referral_id):
                return Changed(ChangeOutcome.REFUSED, status)
            if tx.one("SELECT 1 FROM referrals WHERE id = ?", (cancellation.id,)) is None:
                insert_referral(tx, cancellation)
            append(tx, sent, at)
        return Changed(ChangeOutcome.DONE, ReferralStatus.CANCELLED, cancellation)

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

    def get_referral(self, referral_id: str) -> StoredReferral | None:
        with self.reading() as tx:
            row = tx.one(f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = ?", (referral_id,))
        return stored_referral(row) if row else None

    def get_withdrawal(self, referral_id: str) -> Withdrawal | None:
        """When, by whom and why the referral was withdrawn before it was sent; None when it
        was not, or was withdrawn before these were kept."""
        with self.reading() as tx:
            return read_withdrawal(tx, referral_id)

    def list_referrals(self, *, contact_id: str | None = None) -> list[StoredReferral]:
        sql = f"SELECT {REFERRAL_COLUMNS} FROM referrals"
        params: tuple[Any, ...] = ()
        if contact_id:
            sql += " WHERE contact_id = ?"
            params = (contact_id,)
        with self.reading() as tx:
            rows = tx.all(sql + " ORDER BY next_attempt_at", params)
        return [stored_referral(r) for r in rows]
