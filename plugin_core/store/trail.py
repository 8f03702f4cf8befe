"""Writing and reading the hash-chained audit trail (the chain itself is in ``audit``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from plugin_core.store.audit import (
    GENESIS,
    AuditEntry,
    Break,
    StoredEntry,
    canonical_details,
    entry_hash,
    verify,
    verify_head,
)
from plugin_core.store.base import StoreBase, Tx, ts


def append(tx: Tx, entries: Sequence[AuditEntry], at: datetime) -> None:
    """Chain ``entries`` onto the trail inside the caller's transaction.

    The head row is locked first, so two writers never chain onto the same entry.
    """
    if not entries:
        return
    head = tx.one(f"SELECT seq, hash FROM audit_head WHERE id = 1{tx.backend.for_update}")
    seq, prev = int(head[0]), str(head[1])
    stamp = ts(at)
    for entry in entries:
        seq += 1
        details = canonical_details(entry.details)
        digest = entry_hash(seq, stamp, entry.kind, entry.actor, entry.subject, details, prev)
        tx.execute(
            "INSERT INTO audit (seq, at, kind, actor, subject, details, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, stamp, entry.kind, entry.actor, entry.subject, details, prev, digest),
        )
        prev = digest
    tx.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))


class AuditTrail(StoreBase):
    def append_audit(self, entries: Sequence[AuditEntry], at: datetime) -> None:
        with self.transaction() as tx:
            append(tx, entries, at)

    def audit_entries(self) -> list[StoredEntry]:
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT seq, at, kind, actor, subject, details, prev_hash, hash FROM audit"
                " ORDER BY seq"
            )
        return [StoredEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    def verify_audit(self) -> tuple[int, Break | None]:
        """Check the whole trail; returns (entries, first break or None)."""
        entries = self.audit_entries()
        count, broken = verify(entries)
        if broken:
            return count, broken
        with self.transaction() as tx:
            head = tx.one("SELECT seq, hash FROM audit_head WHERE id = 1")
        last = entries[-1].hash if entries else GENESIS
        return count, verify_head(count, last, int(head[0]), str(head[1]))
