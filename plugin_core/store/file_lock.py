"""Reads and writes for a table two processes write on SQLite: the listener and a worker.

Their writes queue on a file lock beside the database, which wakes the next writer as soon as
it is free (SQLite's own busy wait sleeps in steps of milliseconds); reads take no lock at all,
since WAL readers never block the writer. On PostgreSQL both are plain transactions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from plugin_core.store.base import StoreBase, Tx
from plugin_core.store.process_lock import ProcessLock

_OPENING = threading.Lock()


class FileLocked(StoreBase):
    _process_lock: ProcessLock | None = None

    @contextmanager
    def _reading(self) -> Iterator[Tx]:
        with self.reading() as tx:  # WAL readers never wait for the writer
            yield tx

    @contextmanager
    def _writing(self) -> Iterator[Tx]:
        """A write through the store's writer, queued first on the file lock on SQLite. The
        lock is always taken before the writer and never inside it, so two processes cannot
        each hold what the other waits for."""
        lock = self._file_lock()
        if lock is None:
            with self.transaction() as tx:
                yield tx
            return
        with lock.held(), self.transaction() as tx:
            yield tx

    def _file_lock(self) -> ProcessLock | None:
        """The lock for this database, opened once however many threads ask at the same time."""
        path = getattr(self.backend, "path", ":memory:")
        if self.backend.name != "sqlite" or path == ":memory:":
            return None
        with _OPENING:
            if self._process_lock is None:
                self._process_lock = ProcessLock(f"{path}.writer-lock")
            return self._process_lock

    def close(self) -> None:
        super().close()
        with _OPENING:
            lock, self._process_lock = self._process_lock, None
        if lock is not None:
            lock.close()
