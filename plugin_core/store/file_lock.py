"""Reads and writes for a table two processes write on SQLite: the listener and a worker.

Their writes queue on a file lock beside the database, which wakes the next writer as soon as
it is free (SQLite's own busy wait sleeps in steps of milliseconds); reads take no lock at all,
since WAL readers never block the writer. On PostgreSQL both are plain transactions.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from plugin_core.store.base import StoreBase, Tx


class FileLocked(StoreBase):
    _lock_file: int | None = None

    @contextmanager
    def _reading(self) -> Iterator[Tx]:
        with self.reading() as tx:  # WAL readers never wait for the writer
            yield tx

    @contextmanager
    def _writing(self) -> Iterator[Tx]:
        """A write through the store's writer, queued first on the file lock on SQLite. The
        lock is always taken before the writer and never inside it, so two processes cannot
        each hold what the other waits for."""
        path = getattr(self.backend, "path", ":memory:")
        if self.backend.name != "sqlite" or path == ":memory:":
            with self.transaction() as tx:
                yield tx
            return
        if self._lock_file is None:
            self._lock_file = os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            with self.transaction() as tx:
                yield tx
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
