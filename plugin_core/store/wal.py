"""SQLite's write-ahead log folded into the database file by a thread of its own.

Left to itself, SQLite folds the log in on the connection that commits, every thousand pages:
one request in a hundred or so would wait for it. The writer turns that off and nudges this
thread after each commit instead; it folds in without blocking the writer (``PASSIVE``).
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("thinkfamily.store")

EVERY = 100
"""Commits between two foldings."""
IDLE_SECONDS = 1.0
"""Fold in what is left once no commit came for this long."""
IDLE_ROUNDS = 60
"""Idle periods after which the thread ends; the next commit starts it again."""


class Checkpointer:
    def __init__(self, path: str) -> None:
        self._path = path
        self._commits = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.runs = 0
        """Foldings done, for tests and the benchmark."""

    def nudge(self) -> None:
        """Called by the writer after each commit, holding the writer: cheap."""
        self._commits += 1
        if self._thread is None:
            self._start()
        if self._commits >= EVERY:
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(
                    target=self._run, name="thinkfamily-wal", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            idle = 0
            while not self._stopping:
                self._wake.wait(IDLE_SECONDS)
                self._wake.clear()
                if self._stopping:
                    break
                if self._commits == 0:
                    idle += 1
                    if idle >= IDLE_ROUNDS and self._retire():
                        return
                    continue
                idle = 0
                self._commits = 0
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.runs += 1
                except sqlite3.Error as exc:
                    log.warning("database log not folded in", extra={"error": type(exc).__name__})
        finally:
            conn.close()

    def _retire(self) -> bool:
        """End the thread while nothing is written; False when a commit came meanwhile."""
        with self._start_lock:
            if self._commits:
                return False
            self._thread = None
            return True

    def stop(self) -> None:
        with self._start_lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)
        with self._start_lock:
            self._stopping = False  # the store may be used again: start afresh then
            self._thread = None
