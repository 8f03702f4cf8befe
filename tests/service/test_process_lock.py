"""The file lock the HL7 listener and the journal worker share on SQLite.

These would have caught a listener that stopped acknowledging for good: two threads of the
service opened the lock file at the same moment, the first locked one descriptor and unlocked
the other, and the first stayed locked with no thread left to free it.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from plugin_core.store import open_store
from plugin_core.store.process_lock import ProcessLock


def _free_elsewhere(path: Path) -> bool:
    """Could another open file (as another process has) take the lock now?"""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def test_the_lock_stays_held_until_the_last_thread_of_the_process_is_out(tmp_path: Path) -> None:
    path = tmp_path / "db.writer-lock"
    lock = ProcessLock(str(path))
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with lock.held():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with lock.held():
            second_in.set()
            first_out.wait(5)
            seen.append(_free_elsewhere(path))  # the first has left; this one is still in
        seen.append(_free_elsewhere(path))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    lock.close()

    assert seen == [False, True]


def test_many_threads_opening_the_lock_at_once_leave_it_free_afterwards(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'journal.db'}")
    barrier = threading.Barrier(16)
    failures: list[BaseException] = []

    def write() -> None:
        try:
            barrier.wait(5)
            for _ in range(5):
                with store._writing() as tx:  # the journal's own way in
                    tx.one("SELECT 1")
        except BaseException as exc:
            failures.append(exc)

    try:
        threads = [threading.Thread(target=write) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not failures
        assert not any(t.is_alive() for t in threads)
        assert _free_elsewhere(tmp_path / "journal.db.writer-lock")
    finally:
        store.close()


def test_a_busy_process_gives_the_other_process_its_turn(tmp_path: Path) -> None:
    """Threads that overlap without a gap must not keep the worker out indefinitely."""
    path = tmp_path / "db.writer-lock"
    lock = ProcessLock(str(path))
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            with lock.held():
                time.sleep(0.005)

    threads = [threading.Thread(target=busy) for _ in range(4)]
    for t in threads:
        t.start()
    other = os.open(path, os.O_RDWR)
    got = threading.Event()

    def take() -> None:  # the other process, blocked in flock like the journal worker
        fcntl.flock(other, fcntl.LOCK_EX)
        got.set()
        fcntl.flock(other, fcntl.LOCK_UN)

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    try:
        assert got.wait(10), "the other process never got the lock"
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        taker.join(10)
        os.close(other)
        lock.close()


@pytest.mark.parametrize("depth", [2, 3])
def test_a_thread_may_enter_again_while_it_holds_the_lock(tmp_path: Path, depth: int) -> None:
    lock = ProcessLock(str(tmp_path / "db.writer-lock"))

    def enter(n: int) -> int:
        with lock.held():
            return lock.inside if n == 1 else enter(n - 1)

    assert enter(depth) == 1
    assert lock.inside == 0
    lock.close()
