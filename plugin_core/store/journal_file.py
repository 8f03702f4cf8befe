"""The listener's side of the journal on SQLite: one write and one flush per message received.

A durable SQLite commit of a journal row writes six or so pages to the write-ahead log, and the
log grows, so the flush also commits file metadata. Here a message is one record written into
a file whose blocks were filled with zeros and flushed beforehand: the write changes no
metadata, and its ``fdatasync`` is a single data flush. A thread of the listener process moves
the records into the journal table in batches (when the listener is quiet, or once many wait),
and the worker process reads the table as before.

Crash safety. A message is acknowledged only after the flush of its record returns. A record
carries its length and a CRC over its id and content, and records are written one batch after
another, each flushed before the next begins, so a crash can tear only the last one (never
acknowledged): reading stops at the first record that does not check out. Moving is
idempotent: a record keeps the id it was given on receipt, and the table keeps, in the same
transaction as the rows, the last id moved (``journal_moved``), so records moved already are
skipped when the files are read again after a crash. A file is deleted once all its records
are moved. Only one process at a time holds the files (a lock file beside them); another
process journaling into the same database writes to the table as before.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from plugin_core.journal import Journaled, JournalItem
from plugin_core.store.errors import StoreError
from plugin_core.store.journal_records import (
    BLOCK,
    Record,
    Segment,
    encode,
    number_of,
    segments,
    sync_directory,
)

log = logging.getLogger("thinkfamily.store")

SEGMENT_BYTES = 8 << 20
"""Size of one file, filled with zeros before use (about 2,000 typical ADT messages, one a
block)."""
_ZEROS = bytes(256 << 10)
_PADDING = memoryview(bytes(BLOCK))
MOVE_QUIET = 0.05
"""Seconds without a new record after which what waits is moved to the table."""
MOVE_AT = 1024
"""Records waiting that are moved anyway, however busy the listener."""
MOVE_AFTER = 2.0
"""Seconds a record waits at most before it is moved anyway (the worker reads it soon after)."""
MAX_WAITING = 100_000
"""Records waiting beyond which new ones are refused (the table cannot take them)."""


Known = Callable[[str, str, str], tuple[str | None, bool]]
"""(source, key, digest) to (the digest of a contact holding the key: "" when it has none,
None when there is no such contact; whether the journal table holds the message)."""
Move = Callable[[list[Record]], None]
"""Commits records to the table, with the last id moved, in one transaction."""


class JournalFile:
    """The files of one database, held by this process; see the module's description."""

    def __init__(self, db_path: str, known: Known, move: Move, next_id: int) -> None:
        self._db = db_path
        self._known = known
        self._move = move
        self._next_id = next_id
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._waiting: list[Record] = []
        self._keys: set[tuple[str, str, str]] = set()
        self._segments: list[Segment] = []
        self._spare: Segment | None = None
        self._number = max((number_of(p) for p in segments(db_path)), default=0)
        self._last_append = 0.0
        self._first_at = 0.0
        """When the oldest record waiting was written (monotonic)."""
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._move_lock = threading.Lock()
        self._numbering = threading.Lock()
        self._buffer = mmap.mmap(-1, BLOCK)
        self._view = memoryview(self._buffer)

    @property
    def waiting(self) -> int:
        """Records not yet moved to the table."""
        with self._lock:
            return len(self._waiting)

    def start(self) -> None:
        self._segments.append(self._prepare(SEGMENT_BYTES))
        self._thread = threading.Thread(target=self._run, name="thinkfamily-journal", daemon=True)
        self._thread.start()

    # Receiving -------------------------------------------------------------------------------

    def append(self, source: str, items: Sequence[JournalItem], stamp: str) -> list[Journaled]:
        """Write the new messages among ``items`` with one flush; return once it is done."""
        out: list[Journaled] = []
        records: list[Record] = []
        with self._lock:
            if len(self._waiting) >= MAX_WAITING:
                raise StoreError("too many received messages wait to be moved to the journal")
            taken: set[tuple[str, str, str]] = set()
            for item in items:
                key = (source, item.message_key, item.digest)
                if key in self._keys or key in taken:
                    out.append(Journaled(None, duplicate=True))
                    continue
                held, journaled = self._known(*key)
                if held in ("", item.digest) or journaled:
                    out.append(Journaled(None, duplicate=True))
                    continue
                ident = self._next_id
                self._next_id += 1
                records.append(
                    Record(
                        ident,
                        source,
                        item.message_key,
                        item.digest,
                        stamp,
                        item.encoding,
                        item.text,
                    )
                )
                taken.add(key)
                out.append(Journaled(ident, conflict=held is not None))
            if records:
                self._write(records)
                if not self._waiting:
                    self._first_at = time.monotonic()
                self._waiting += records
                self._keys |= taken
                self._last_append = time.monotonic()
                if len(self._waiting) >= MOVE_AT:
                    self._wake.notify()
        return out

    def _write(self, records: list[Record]) -> None:
        data = encode(records[0]) if len(records) == 1 else b"".join(encode(r) for r in records)
        size = len(data)
        padded = -(-size // BLOCK) * BLOCK
        segment = self._segments[-1]
        if segment.full or segment.end + padded > segment.size:
            segment.full = True
            segment = self._next_segment(padded)
        if len(self._buffer) < padded:
            self._buffer = mmap.mmap(-1, padded)  # aligned to a page, as direct writes need
            self._view = memoryview(self._buffer)
        view = self._view
        view[:size] = data
        view[size:padded] = _PADDING[: padded - size]  # less than a block
        try:
            written = os.pwritev(segment.fd, [view[:padded]], segment.end)
            if written != padded:
                raise OSError("short write")
            if not segment.direct:
                os.fdatasync(segment.fd)
        except OSError as exc:  # what reached the disk is unknown: write on in a new file
            segment.full = True
            raise StoreError("the received message could not be written to disk") from exc
        segment.end += padded
        segment.last_id = records[-1].id

    def _next_segment(self, needed: int) -> Segment:
        spare, self._spare = self._spare, None
        if spare is None or spare.size < needed:
            if spare is not None:
                self._discard(spare)
            spare = self._prepare(max(SEGMENT_BYTES, needed))
        self._segments.append(spare)
        return spare

    def _prepare(self, size: int) -> Segment:
        """A new file of ``size`` zeros, flushed, its name flushed into the directory."""
        size = -(-size // BLOCK) * BLOCK
        with self._numbering:  # the moving thread makes spares while a write may need a file
            self._number += 1
            number = self._number
        path = Path(f"{self._db}.received-{number:08d}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            left = size
            while left > 0:
                left -= os.write(fd, _ZEROS[: min(left, len(_ZEROS))])
            os.fsync(fd)
        finally:
            os.close(fd)
        sync_directory(path.parent)
        return Segment(path, size)

    def _discard(self, segment: Segment) -> None:
        segment.close()
        with contextlib.suppress(FileNotFoundError):
            segment.path.unlink()

    # Moving to the table ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and not self._due():
                    self._wake.wait(MOVE_QUIET)
                if self._stopping:
                    return
            try:
                self.move()
                self._keep_spare()
            except Exception as exc:  # the records stay in their files; tried again
                log.warning(
                    "received messages not yet moved to the journal",
                    extra={"error": type(exc).__name__},
                )
                time.sleep(1.0)

    def _due(self) -> bool:
        if not self._waiting:
            return False
        now = time.monotonic()
        quiet = now - self._last_append >= MOVE_QUIET
        return quiet or len(self._waiting) >= MOVE_AT or now - self._first_at >= MOVE_AFTER

    def move(self) -> int:
        """Move what waits now to the table; returns how many were moved."""
        with self._move_lock:
            with self._lock:
                batch = list(self._waiting)
            if not batch:
                return 0
            self._move(batch)
            with self._lock:
                del self._waiting[: len(batch)]
                self._first_at = time.monotonic()
                self._keys -= {(r.source, r.message_key, r.digest) for r in batch}
                moved = batch[-1].id
                done = [s for s in self._segments[:-1] if s.last_id <= moved]
                self._segments = [s for s in self._segments if s not in done]
            for segment in done:
                self._discard(segment)
            return len(batch)

    def _keep_spare(self) -> None:
        """Have the next file ready before the current one fills."""
        with self._lock:
            current = self._segments[-1] if self._segments else None
            needed = self._spare is None and current is not None and current.end > current.size // 2
        if needed:
            spare = self._prepare(SEGMENT_BYTES)
            with self._lock:
                if self._spare is None:
                    self._spare = spare
                    return
            self._discard(spare)

    def close(self) -> None:
        """Move everything left, delete the files and let the thread end."""
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.move()
        except BaseException:  # the files stay, and are read again on the next start
            for segment in [*self._segments, *([self._spare] if self._spare else [])]:
                segment.close()
            raise
        with self._lock:
            left = [*self._segments, *([self._spare] if self._spare else [])]
            self._segments, self._spare = [], None
        for segment in left:
            self._discard(segment)
