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
        if self.backend.name != "sqlite":
            with self.transaction() as tx:
                yield tx
            return
        yield Tx(self._conn(), self.backend)  # autocommit: each read sees the latest commit

    @contextmanager
    def _writing(self) -> Iterator[Tx]:
        path = getattr(self.backend, "path", ":memory:")
        if self.backend.name != "sqlite" or path == ":memory:":
            with self.transaction() as tx:
                yield tx
            return
        conn = self._conn()
        with self.backend.writer:
            if self._lock_file is None:
                self._lock_file = os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                self.backend.begin(conn)
                yield Tx(conn, self.backend)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
