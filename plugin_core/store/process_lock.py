"""A file lock shared by the threads of one process and exclusive between processes.

``flock`` belongs to an open file, not to a thread: two threads of one process locking the same
descriptor both "hold" it, and the first to unlock frees it for every other process while the
second is still writing. So the threads of a process count themselves in: the first in takes
the file lock, the last out gives it back. Threads of one process still share the writer's
group commit; another process waits for the whole group.

A process that keeps the lock for longer than ``MAX_HOLD`` (a busy listener whose threads
overlap without a gap) lets no new thread in until the ones inside are done, so the other
process gets its turn instead of waiting for a quiet moment that may never come.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_HOLD = 0.1
"""Seconds this process keeps the file lock before it lets the other process have a turn."""
PAUSE = 0.001
"""After such a turn, how long the next thread waits before locking again: time for the other
process, woken by the release, to take the lock first."""


class ProcessLock:
    """``flock`` on one file, held while any thread of this process is inside :meth:`held`."""

    def __init__(self, path: str) -> None:
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._state = threading.Condition()
        self._inside = 0
        self._since = 0.0
        self._draining = False
        self._pause = False
        self._mine = threading.local()

    @property
    def inside(self) -> int:
        """Threads of this process holding the lock now (for tests)."""
        with self._state:
            return self._inside

    @contextmanager
    def held(self) -> Iterator[None]:
        depth = getattr(self._mine, "depth", 0)
        if depth == 0:
            self._enter()
        self._mine.depth = depth + 1
        try:
            yield
        finally:
            self._mine.depth = depth
            if depth == 0:
                self._leave()

    def _enter(self) -> None:
        with self._state:
            while self._draining:
                self._state.wait()
            if self._inside == 0:
                assert self._fd is not None, "the lock was closed"
                if self._pause:  # the other process was woken by our release: let it in
                    self._pause = False
                    time.sleep(PAUSE)
                # Blocks only this thread: the others wait on the condition above or below.
                fcntl.flock(self._fd, fcntl.LOCK_EX)
                self._since = time.monotonic()
            elif time.monotonic() - self._since > MAX_HOLD:
                self._draining = True
            self._inside += 1

    def _leave(self) -> None:
        with self._state:
            self._inside -= 1
            if self._inside == 0:
                if self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                if self._draining:
                    self._draining = False
                    self._pause = True
                    self._state.notify_all()

    def close(self) -> None:
        with self._state:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the file also releases a lock still held on it
