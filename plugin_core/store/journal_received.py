"""The store's side of :mod:`plugin_core.store.journal_file`: opening the files (moving what a
crash left in them to the table first), the reads that tell a resend, and the moves.

Only a listener acknowledging on receipt opens them, on a SQLite file; everything else
journals to the table directly.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

from plugin_core.journal import Journaled, JournalItem
from plugin_core.store.file_lock import FileLocked
from plugin_core.store.journal_file import JournalFile
from plugin_core.store.journal_records import OwnerLock, Record, read_segments, segments

PENDING = "waiting"
RECOVERY_BATCH = 512
"""Records moved per transaction when a start finds records a crash left behind."""
_MOVED = "received"
RENAMED_KEPT = 100_000
"""Other names kept at most; the oldest, long answered, go first."""
_KNOWN = (
    "SELECT (SELECT coalesce(message_hash, '') FROM contacts WHERE message_key = ?),"
    " EXISTS (SELECT 1 FROM journal WHERE source = ? AND message_key = ? AND digest = ?)"
)


class JournalReceived(FileLocked):
    _journal_file: JournalFile | None = None
    _journal_owner: OwnerLock | None = None
    _journal_reader: Any = None
    _journal_renamed: dict[int, int] | None = None
    """Ids given on receipt whose rows were written under others; only in a listener's
    process, and only when another process journaled to the same table."""
    _renaming = threading.Lock()

    def open_journal_file(self) -> bool:
        """Journal messages received into files of this process from now on (SQLite files
        only); False when they cannot be used here and messages go to the table instead."""
        if self._journal_file is not None:
            return True
        path = getattr(self.backend, "path", ":memory:")
        if self.backend.name != "sqlite" or path == ":memory:":
            return False
        owner = OwnerLock(path)
        if not owner.take():
            return False
        try:
            moved = self.journal_moved_through()
            left = [r for r in read_segments(path) if r.id > moved]
            for start in range(0, len(left), RECOVERY_BATCH):
                self._move_records(left[start : start + RECOVERY_BATCH])
            with self._reading() as tx:
                top = tx.one("SELECT MAX(id) FROM journal")[0] or 0
            last = max(int(top), moved, left[-1].id if left else 0)
            journal_file = JournalFile(path, self._known, self._move_records, last + 1)
            for old in segments(path):  # new files are numbered after these
                old.unlink()
            journal_file.start()
        except BaseException:
            owner.release()
            raise
        self._journal_file, self._journal_owner = journal_file, owner
        return True

    def close_journal_file(self) -> None:
        """Move what waits in the files to the table and stop using them."""
        journal_file, self._journal_file = self._journal_file, None
        owner, self._journal_owner = self._journal_owner, None
        try:
            if journal_file is not None:
                journal_file.close()
        finally:
            reader, self._journal_reader = self._journal_reader, None
            if reader is not None:
                with contextlib.suppress(Exception):
                    reader.close()
            if owner is not None:
                owner.release()

    def journal_moved_through(self) -> int:
        """The last id moved from the files to the table (0 before any)."""
        with self._reading() as tx:
            row = tx.one("SELECT last_id FROM journal_moved WHERE name = ?", (_MOVED,))
        return int(row[0]) if row else 0

    def _received(self, source: str, items: Sequence[JournalItem], stamp: str) -> list[Journaled]:
        journal_file = self._journal_file
        assert journal_file is not None
        return journal_file.append(source, items, stamp)

    def journal_files_waiting(self) -> int:
        """Messages in the listener's files not yet moved to the table; read from the files
        themselves in any process but the listener's."""
        journal_file = self._journal_file
        if journal_file is not None:
            return journal_file.waiting
        path = getattr(self.backend, "path", ":memory:")
        if self.backend.name != "sqlite" or path == ":memory:" or not segments(path):
            return 0
        moved = self.journal_moved_through()
        return sum(1 for r in read_segments(path) if r.id > moved)

    def _known(self, source: str, key: str, digest: str) -> tuple[str | None, bool]:
        """Called with the files' lock held, so one at a time: on a connection of its own,
        which spares a pooled reader's hand-overs on every message."""
        conn = self._journal_reader
        if conn is None:
            conn = self._journal_reader = self.backend.connect()
            self.backend.prepare_reader(conn)
        row = conn.execute(_KNOWN, (key, source, key, digest)).fetchone()
        return row[0], bool(row[1])

    def _move_records(self, records: list[Record]) -> None:
        """Rows for the records, keeping their ids, and the last id moved: one transaction.

        A record already in the table is left alone. One whose id another process took (a
        second listener writing to the table) is given a new id, and one that process journaled
        too is left to its row; either way the id given on receipt is kept as another name for
        the row, so an application ACK still answers with this message's outcome."""
        if not records:
            return
        renamed: dict[int, int] = {}
        columns = (
            "source, message_key, digest, received_at, encoding, message, state, next_attempt_at"
        )
        with self._writing() as tx:
            for r in records:
                values = (
                    r.source,
                    r.message_key,
                    r.digest,
                    r.received_at,
                    r.encoding,
                    r.text,
                    PENDING,
                    r.received_at,
                )
                new = tx.one(
                    f"INSERT INTO journal (id, {columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING RETURNING id",
                    (r.id, *values),
                )
                if new is not None:
                    continue
                held = tx.one(
                    "SELECT id FROM journal WHERE source = ? AND message_key = ? AND digest = ?",
                    (r.source, r.message_key, r.digest),
                )
                if held is None:  # the id was taken by another message
                    held = tx.one(
                        f"INSERT INTO journal ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                        " RETURNING id",
                        values,
                    )
                if int(held[0]) != r.id:
                    renamed[r.id] = int(held[0])
            tx.execute(
                "INSERT INTO journal_moved (name, last_id) VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET last_id = MAX(journal_moved.last_id, excluded.last_id)",
                (_MOVED, records[-1].id),
            )
        if renamed:
            with self._renaming:
                kept = self._journal_renamed = self._journal_renamed or {}
                kept.update(renamed)
                while len(kept) > RENAMED_KEPT:
                    del kept[next(iter(kept))]

    def journal_row_ids(self, ids: Sequence[int]) -> dict[int, int]:
        """For ids given on receipt: the row each now names (the same id but for a record
        moved under another, see :meth:`_move_records`)."""
        with self._renaming:
            kept = self._journal_renamed or {}
            return {i: kept.get(i, i) for i in ids}

    def close(self) -> None:
        self.close_journal_file()
        super().close()
