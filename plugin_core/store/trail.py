"""Writing and reading the sealed audit trail (the chain itself is in ``audit``).

The key is the backend's (``backend.audit_keys``), set when the store is opened; it is never
written to the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from plugin_core.store.audit import (
    GENESIS,
    AuditEntry,
    Break,
    ChainCheck,
    StoredEntry,
    canonical_details,
    entry_hash,
    entry_seal,
    head_seal,
    key_id_of,
    verify,
    verify_head,
)
from plugin_core.store.audit_key import AuditKeyError, AuditKeys
from plugin_core.store.base import StoreBase, Tx, ts

log = logging.getLogger("thinkfamily.store")
_warned_unkeyed = threading.Event()


def append(tx: Tx, entries: Sequence[AuditEntry], at: datetime) -> None:
    """Chain ``entries`` onto the trail inside the caller's transaction.

    The head row is locked first, so two writers never chain onto the same entry. A keyed
    trail is never continued without the key: the entries would read as a rewrite.
    """
    if not entries:
        return
    key = tx.backend.audit_keys.current
    if tx.audit_head is not None:  # read and locked earlier in this request
        seq, prev = tx.audit_head
        tx.audit_head = None
    else:
        head = tx.one(f"SELECT seq, hash FROM audit_head WHERE id = 1{tx.backend.for_update}")
        seq, prev = int(head[0]), str(head[1])
    if key is None and key_id_of(prev) is not None:
        raise AuditKeyError(
            "the audit trail is keyed, and no audit key is set: set THINKFAMILY_AUDIT_KEY"
        )
    if key is None and not _warned_unkeyed.is_set():
        _warned_unkeyed.set()
        log.warning(
            "audit entries written unkeyed: anyone able to write to the database could rewrite"
            " them unseen",
            extra={"reason": "set THINKFAMILY_AUDIT_KEY"},
        )
    stamp = ts(at)
    values: list[object] = []
    for entry in entries:
        seq += 1
        details = canonical_details(entry.details)
        fields = (seq, stamp, entry.kind, entry.actor, entry.subject, details, prev)
        digest = entry_hash(*fields) if key is None else entry_seal(key, *fields)
        values += (*fields, digest)
        prev = digest
    seal = "" if key is None else head_seal(key, seq, prev)
    width = _FIELDS * PER_STATEMENT
    # Entries in as few statements as the parameter limit allows, then the head: different
    # rows, so on PostgreSQL they go as one statement.
    with tx.batch(independent=True):
        for first in range(0, len(values), width):
            chunk = values[first : first + width]
            tx.execute(
                "INSERT INTO audit (seq, at, kind, actor, subject, details, prev_hash, hash)"
                f" VALUES {', '.join([_ROW] * (len(chunk) // _FIELDS))}",
                chunk,
            )
        tx.execute(
            "UPDATE audit_head SET seq = ?, hash = ?, seal = ? WHERE id = 1", (seq, prev, seal)
        )


_FIELDS = 8
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?)"
PER_STATEMENT = 100
"""Entries written by one statement at most (SQLite takes 999 parameters in older builds)."""


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """A decision as its table holds it, to compare with its audit entry."""

    id: str
    contact_id: str
    decided_at: str
    share: int
    decision: str


@dataclass(frozen=True, slots=True)
class ReferralRow:
    """A referral as its table holds it, to compare with its audit entry."""

    id: str
    decision_id: str
    contact_id: str
    idempotency_key: str
    urgent: int
    due_by: str
    referral: str


class AuditTrail(StoreBase):
    def append_audit(self, entries: Sequence[AuditEntry], at: datetime) -> None:
        with self.transaction() as tx:
            append(tx, entries, at)

    @property
    def audit_keys(self) -> AuditKeys:
        return self.backend.audit_keys

    def audit_entries(self) -> list[StoredEntry]:
        with self.reading() as tx:
            rows = tx.all(
                "SELECT seq, at, kind, actor, subject, details, prev_hash, hash FROM audit"
                " ORDER BY seq"
            )
        return [StoredEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    def check_audit(self, entries: Sequence[StoredEntry] | None = None) -> ChainCheck:
        """Check the whole chain and its head with the configured keys."""
        entries = self.audit_entries() if entries is None else entries
        check = verify(entries, self.audit_keys)
        if check.broken or check.unknown_key:
            return check
        with self.reading() as tx:
            head = tx.one("SELECT seq, hash, seal FROM audit_head WHERE id = 1")
        return verify_head(check, int(head[0]), str(head[1]), str(head[2]), self.audit_keys)

    def verify_audit(self) -> tuple[int, Break | None]:
        """Check the whole trail; returns (entries, first break or None). An entry sealed with
        a key that is not configured counts as a break here."""
        check = self.check_audit()
        if check.unknown_key:
            reason = f"sealed with audit key {check.unknown_key}, which is not configured"
            return check.count, Break(check.count + 1, reason)
        return check.count, check.broken

    def audit_head_key(self) -> str | None:
        """The id of the key that sealed the last entry; None when unkeyed or empty."""
        with self.reading() as tx:
            head = tx.one("SELECT hash FROM audit_head WHERE id = 1")
        return key_id_of(str(head[0])) if head and head[0] != GENESIS else None

    def audited_rows(self) -> tuple[list[DecisionRow], list[ReferralRow]]:
        """Every decision and referral row, for checking against the trail."""
        with self.reading(snapshot=True) as tx:
            decisions = tx.all(
                "SELECT id, contact_id, decided_at, share, decision FROM decisions ORDER BY id"
            )
            referrals = tx.all(
                "SELECT id, decision_id, contact_id, idempotency_key, urgent, due_by, referral"
                " FROM referrals ORDER BY id"
            )
        return (
            [DecisionRow(r[0], r[1], r[2], int(r[3]), r[4]) for r in decisions],
            [ReferralRow(r[0], r[1], r[2], r[3], int(r[4]), r[5], r[6]) for r in referrals],
        )
