"""The inbound journal: messages committed as received, processed later by a worker process.

A listener commits the raw message with its dedupe key in one small write and acknowledges;
a worker claims journal rows, reads them, and in one transaction records their contacts and
marks the rows settled, so a row's effect is applied exactly once even when a worker is killed
mid-batch. On PostgreSQL rows are claimed with ``FOR UPDATE SKIP LOCKED`` under a lease, so
several instances share one journal; SQLite has one writer and needs no claim.

The table is created here (its identity column differs between the backends), after the
shared migrations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from plugin_core.journal import (
    ERRORS,
    JournalBacklog,
    JournalClaimLost,
    Journaled,
    JournalError,
    JournalItem,
    JournalOutcome,
    JournalRow,
)
from plugin_core.store.base import Tx, parse_ts, placeholders, ts
from plugin_core.store.contacts import encode, save_in
from plugin_core.store.counters import count
from plugin_core.store.journal_received import JournalReceived
from plugin_core.store.journal_records import last_written
from plugin_core.store.journal_schema import statements
from plugin_core.store.records import NewContact, SavedContact

PENDING = "waiting"
SETTLED = "settled"
NEWEST = "SELECT received_at FROM journal WHERE source || '' = ? ORDER BY id DESC LIMIT 1"
"""When the newest message came. ``source || ''`` keeps the key's index out of it: through
that index every row of the source would be sorted by id on each look (every tenth of a second
from the worker), where the table read from its newest row back stops at the first match."""


Settle = Callable[[list[SavedContact]], Sequence[JournalOutcome]]


class Journal(JournalReceived):
    """The journal's reads and writes (see :class:`FileLocked` for how they share SQLite, and
    :class:`JournalReceived` for the listener's files)."""

    def migrate(self) -> int:
        version = super().migrate()
        with self.transaction() as tx:
            if self.backend.migration_lock:
                tx.one(self.backend.migration_lock)
            for statement in statements(self.backend.name):
                tx.execute(statement)
        return version

    def journal_messages(
        self, source: str, items: Sequence[JournalItem], *, at: datetime
    ) -> list[Journaled]:
        """Commit messages as received, in one transaction (one disk flush for the lot); into
        the listener's files when it opened them."""
        stamp = ts(at)
        if self._journal_file is not None:
            return self._received(source, items, stamp)
        out: list[Journaled] = []
        with self._writing() as tx:
            for item in items:
                row = tx.one(
                    "SELECT message_hash FROM contacts WHERE message_key = ?", (item.message_key,)
                )
                if row is not None and row[0] in (None, item.digest):
                    out.append(Journaled(None, duplicate=True))
                    continue
                new = tx.one(
                    "INSERT INTO journal (source, message_key, digest, received_at, encoding,"
                    " message, state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (source, message_key, digest) DO NOTHING RETURNING id",
                    (
                        source,
                        item.message_key,
                        item.digest,
                        stamp,
                        item.encoding,
                        item.text,
                        PENDING,
                        stamp,
                    ),
                )
                conflict = row is not None
                out.append(Journaled(int(new[0]) if new else None, new is None, conflict))
        return out

    def claim_journal(
        self, source: str, worker: str, now: datetime, *, lease_seconds: float, limit: int
    ) -> list[JournalRow]:
        """Pending rows due now, oldest first; leased to ``worker`` where several may claim."""
        stamp = ts(now)
        columns = "id, message_key, received_at, encoding, message, attempts"
        where = (
            " FROM journal WHERE state = ? AND source = ? AND next_attempt_at <= ?"
            " AND (claim_expires_at IS NULL OR claim_expires_at < ?)"
        )
        params = (PENDING, source, stamp, stamp)
        with self._reading() if not self.backend.skip_locked else self.transaction() as tx:
            if not self.backend.skip_locked:  # SQLite: one worker; see ``_settle``
                rows = tx.all(f"SELECT {columns}{where} ORDER BY id LIMIT ?", (*params, limit))
            else:
                ids = [
                    r[0]
                    for r in tx.all(
                        f"SELECT id{where} ORDER BY id LIMIT ?{self.backend.skip_locked}",
                        (*params, limit),
                    )
                ]
                if not ids:
                    return []
                expires = ts(now + timedelta(seconds=lease_seconds))
                rows = tx.all(
                    f"UPDATE journal SET claimed_by = ?, claim_expires_at = ?"
                    f" WHERE id IN ({placeholders(ids)}) RETURNING {columns}",
                    (worker, expires, *ids),
                )
        found = [JournalRow(int(r[0]), r[1], parse_ts(r[2]), r[3], r[4], int(r[5])) for r in rows]
        return sorted(found, key=lambda r: r.id)

    def settle_journal(
        self,
        worker: str,
        ids: Sequence[int],
        contacts: Sequence[NewContact],
        settle: Settle,
        *,
        at: datetime,
        counters: dict[str, int] | None = None,
    ) -> list[SavedContact]:
        """Record the batch's contacts and settle its rows in one transaction.

        ``settle`` turns what was done with each contact into the rows' outcomes. Raises
        :class:`JournalClaimLost`, writing nothing, when a row is no longer this worker's.
        """
        found = counters if counters is not None else {}  # ``settle`` may fill it in
        try:
            return self._settle(worker, ids, contacts, settle, at, found)
        except Exception as exc:
            if not self.backend.is_unique_violation(exc):
                raise
        return self._settle(worker, ids, contacts, settle, at, found)

    def _settle(
        self,
        worker: str,
        ids: Sequence[int],
        contacts: Sequence[NewContact],
        settle: Settle,
        at: datetime,
        counters: dict[str, int],
    ) -> list[SavedContact]:
        encoded = encode(contacts)  # before the lock: the listener waits on it
        with self._writing() as tx:
            if ids:
                held = tx.all(
                    f"SELECT id FROM journal WHERE id IN ({placeholders(ids)}) AND state = ?"
                    " AND (claimed_by IS NULL OR claimed_by = ?)" + self.backend.for_update,
                    (*ids, PENDING, worker),
                )
                if len(held) != len(set(ids)):
                    raise JournalClaimLost("a journal row was settled or claimed elsewhere")
            saved = save_in(tx, contacts, at, encoded) if contacts else []
            for outcome in settle(saved):
                _settle_row(tx, outcome, at)
            for name, amount in counters.items():
                if amount:
                    count(tx, name, amount)
        return saved

    def journal_outcomes(self, ids: Sequence[int]) -> dict[int, JournalOutcome]:
        """The settled rows among ``ids`` (ids given on receipt), by those ids."""
        if not ids:
            return {}
        rows_of = self.journal_row_ids(ids)
        asked = sorted(set(rows_of.values()))
        with self._reading() as tx:
            rows = tx.all(
                f"SELECT id, outcome, ack_code, error_code, reason, segment, field, contact_id"
                f" FROM journal WHERE id IN ({placeholders(asked)}) AND state = ?",
                (*asked, SETTLED),
            )
        settled = {int(r[0]): _outcome(r) for r in rows}
        return {i: settled[row] for i, row in rows_of.items() if row in settled}

    def journal_errors(self, *, limit: int = 100) -> list[JournalError]:
        """Content errors found after acknowledging, newest first."""
        with self._reading() as tx:
            rows = tx.all(
                "SELECT id, message_key, received_at, processed_at, outcome, ack_code,"
                " error_code, reason, segment, field FROM journal"
                f" WHERE outcome IN ({placeholders(ERRORS)}) ORDER BY processed_at DESC LIMIT ?",
                (*ERRORS, limit),
            )
        return [
            JournalError(
                int(r[0]),
                r[1],
                parse_ts(r[2]),
                parse_ts(r[3]),
                r[4],
                r[5] or "AE",
                int(r[6] or 0),
                r[7] or "",
                r[8] or "",
                int(r[9] or 0),
            )
            for r in rows
        ]

    def journal_depth(self) -> int:
        """Messages waiting to be processed: rows, and messages in the listener's files."""
        with self._reading() as tx:
            row = tx.one("SELECT COUNT(*) FROM journal WHERE state = ?", (PENDING,))
        return int(row[0]) + self.journal_files_waiting()

    def journal_backlog(self, source: str, now: datetime) -> JournalBacklog:
        """Rows due now, how long the oldest has waited, and how long since the last arrived.

        Cheap enough to ask every tenth of a second: the index on pending rows answers the
        first two, the newest row by its key (or the listener's newest file) the last."""
        stamp = ts(now)
        due = " FROM journal WHERE state = ? AND source = ? AND next_attempt_at <= ?"
        with self._reading() as tx:
            first = tx.one(
                f"SELECT next_attempt_at{due} ORDER BY next_attempt_at, id LIMIT 1",
                (PENDING, source, stamp),
            )
            waiting = tx.one(f"SELECT COUNT(*){due}", (PENDING, source, stamp)) if first else None
            last = tx.one(NEWEST, (source,))
        quiet = (now - parse_ts(last[0])).total_seconds() if last else None
        path = getattr(self.backend, "path", ":memory:")
        sqlite_file = self.backend.name == "sqlite" and path != ":memory:"
        written = last_written(path) if sqlite_file else None
        if written is not None:  # messages still in the listener's files came later
            since = max(now.timestamp() - written, 0.0)
            quiet = since if quiet is None else min(quiet, since)
        if first is None or waiting is None:
            return JournalBacklog(0, quiet_seconds=quiet)
        oldest = (now - parse_ts(first[0])).total_seconds()
        return JournalBacklog(int(waiting[0]), max(oldest, 0.0), quiet)

    def prune_journal(self, before: datetime) -> int:
        """Forget settled rows (not content errors) processed before ``before``."""
        with self._writing() as tx:
            tx.execute(
                f"DELETE FROM journal WHERE state = ? AND processed_at < ?"
                f" AND outcome NOT IN ({placeholders(ERRORS)})",
                (SETTLED, ts(before), *ERRORS),
            )
            return int(tx.cursor.rowcount or 0)


def _settle_row(tx: Tx, o: JournalOutcome, at: datetime) -> None:
    if o.retry_at is not None:
        tx.execute(
            "UPDATE journal SET attempts = attempts + 1, next_attempt_at = ?, claimed_by = NULL,"
            " claim_expires_at = NULL, reason = ? WHERE id = ?",
            (ts(o.retry_at), o.reason, o.id),
        )
        return
    tx.execute(
        "UPDATE journal SET state = ?, processed_at = ?, outcome = ?, ack_code = ?,"
        " error_code = ?, reason = ?, segment = ?, field = ?, contact_id = ?,"
        " claimed_by = NULL, claim_expires_at = NULL, attempts = attempts + 1 WHERE id = ?",
        (
            SETTLED,
            ts(at),
            o.outcome,
            o.ack_code,
            o.code,
            o.reason,
            o.segment,
            o.field,
            o.contact_id,
            o.id,
        ),
    )


def _outcome(r: Any) -> JournalOutcome:
    return JournalOutcome(
        int(r[0]),
        r[1],
        r[2] or "AA",
        int(r[3] or 0),
        r[4] or "",
        r[5] or "",
        int(r[6] or 0),
        r[7],
    )
