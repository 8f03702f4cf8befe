"""Referrals withdrawn before they were sent: when, by whom and why, read by referral id.

The audit trail holds the same facts but has no index by subject, so the referral's document
would have to read all of it. A row is written here only when a referral is withdrawn, in the
transaction that withdraws it: recording a decision that withdraws nothing writes nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import Tx, parse_ts, ts


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A referral withdrawn before it was sent."""

    referral_id: str
    withdrawn_at: datetime
    withdrawn_by: str
    """The professional's id, as the audit entry names them."""
    reasons: str
    """The reasons given; for a withdrawal by a later decision, that decision's reasons."""
    superseded_by: str | None = None
    """The later decision that replaced the one the referral was made for, if that is why."""


def withdrawal_of(entry: AuditEntry, at: datetime) -> Withdrawal:
    """The withdrawal its ``referral.withdrawn`` audit entry tells of."""
    later = entry.details.get("superseded_by")
    return Withdrawal(
        referral_id=entry.subject,
        withdrawn_at=at,
        withdrawn_by=entry.actor,
        reasons=str(entry.details.get("reasons", "")),
        superseded_by=str(later) if later else None,
    )


def insert_withdrawal(tx: Tx, withdrawal: Withdrawal) -> None:
    """Keep a withdrawal, inside the transaction that withdrew the referral."""
    tx.execute(
        "INSERT INTO referral_withdrawals (referral_id, withdrawn_at, withdrawn_by, reasons,"
        " superseded_by) VALUES (?, ?, ?, ?, ?)",
        (
            withdrawal.referral_id,
            ts(withdrawal.withdrawn_at),
            withdrawal.withdrawn_by,
            withdrawal.reasons,
            withdrawal.superseded_by,
        ),
    )


def read_withdrawal(tx: Tx, referral_id: str) -> Withdrawal | None:
    """How a referral was withdrawn; None when it was not, or was withdrawn before
    withdrawals were kept (the audit trail then holds it alone)."""
    row = tx.one(
        "SELECT withdrawn_at, withdrawn_by, reasons, superseded_by"
        " FROM referral_withdrawals WHERE referral_id = ?",
        (referral_id,),
    )
    if row is None:
        return None
    return Withdrawal(referral_id, parse_ts(row[0]), row[1], row[2], row[3])
