"""The store's one writer: each request's writes in one transaction, waiting requests committed
together (group commit).

One connection does every write of this process. A request takes the writer, runs its
statements inside the open group transaction (under a savepoint when others are already in
it, so its failure undoes only its own work), and hands the writer on. When no other request
is waiting to write, or the group is full, the request holding the writer commits the group:
one flush to disk for all of them. Every request returns only after the commit that holds its
writes; a failed commit fails every request of its group, and none was acknowledged.

A request that knows it will write (a unit, see :meth:`Writer.unit`) counts as on its way
from its first read: a group waits for such requests as long as a commit takes, at most
``MAX_GATHER``, so more share a flush. On PostgreSQL every group first locks the audit trail's
head row, which every writer needs, so several instances' groups never deadlock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from plugin_core.store.errors import StoreError
from plugin_core.store.tx import Tx
from plugin_core.store.writer_state import Group, Local, Unit

if TYPE_CHECKING:
    from plugin_core.store.base import Backend

__all__ = ["Unit", "Writer"]

MAX_GROUP = 32
"""Requests committed together at most; the next waits for the following group. (PostgreSQL
keeps up to 64 savepoints of a transaction in memory shared by every session.)"""
MAX_WAIT = 0.05
"""Seconds a request waits for another to commit its group before committing it itself."""
MAX_GATHER = 0.005
"""Seconds a group waits at most for requests on their way to it (units not yet writing)."""


class Writer:
    """One connection for every write; see the module's description."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self._asking = 0
        self._asking_lock = threading.Lock()
        self._conn: Any = None
        self._group: Group | None = None
        self._local = Local()
        self.lead_sql = ""
        """Run first in every group (PostgreSQL: lock the audit head); empty until migrated."""
        self.on_commit: Callable[[], None] | None = None
        self.commits = 0
        """Groups committed so far (for tests and the benchmark)."""
        self._units = 0
        self._last_commit = 0.0

    # Inside a request ------------------------------------------------------------------------

    def current(self) -> Tx | None:
        """This thread's open write transaction, if it has one."""
        return self._local.tx

    @contextmanager
    def transaction(self, *, hold: bool = False) -> Iterator[Tx]:
        """One request's writes, committed (with its group) before the block is left.

        Inside another transaction or an open unit of this thread, it is a savepoint of that
        one instead, committed when the outer one is. With ``hold``, that one itself, with no
        savepoint: for reads whose rows must stay as read until its writes (``FOR UPDATE``),
        which leave nothing to undo; an error there fails the outer one.
        """
        local = self._local
        unit = local.unit
        if local.tx is None and unit is not None:
            self._start()
            unit.started = True
        if local.tx is not None:
            if hold:
                yield local.tx
                return
            with local.tx.savepoint() as tx:
                yield tx
            return
        tx = self._start()
        try:
            yield tx
        except BaseException:
            self._finish(ok=False)
            raise
        self._finish(ok=True)

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        """Every transaction this thread opens inside the block joins one, committed at the end.

        The transaction starts with the first write, so reads and work before it hold nothing.
        """
        local = self._local
        if local.unit is not None or local.tx is not None:
            yield local.unit or Unit()  # already inside one: its commit covers these writes
            return
        unit = Unit()
        local.unit = unit
        self._count_unit(1)
        try:
            yield unit
        except BaseException:
            local.unit = None
            self._count_unit(-1)
            if unit.started:
                self._finish(ok=False)
            raise
        local.unit = None
        self._count_unit(-1)
        if unit.started:
            self._finish(ok=True)
        for call in unit.after:
            call()

    @contextmanager
    def idle(self) -> Iterator[Tx | None]:
        """The writer's connection while no group is open and no request asks for it, else
        None: for a read that finds the connection's cache warm. Held for the block."""
        if not self._lock.acquire(blocking=False):
            yield None
            return
        try:
            if self._group is not None or self._conn is None or self.waiting():
                yield None
            else:
                yield Tx(self._conn, self._backend)
        finally:
            self._lock.release()

    def _count_unit(self, step: int) -> None:
        """Units open and not yet done writing: requests on their way to the writer."""
        with self._asking_lock:
            self._units += step

    def defer(self, call: Callable[[], None]) -> bool:
        """Run ``call`` once this thread's open unit has committed; False when none is open."""
        unit = self._local.unit
        if unit is None:
            return False
        unit.after.append(call)
        return True

    # Taking and handing on the writer --------------------------------------------------------

    def _start(self) -> Tx:
        with self._asking_lock:
            self._asking += 1
        self._lock.acquire()
        with self._asking_lock:
            self._asking -= 1
        try:
            if self._conn is None:
                self._conn = self._backend.connect()
                self._backend.prepare_writer(self._conn)
            if self._group is None:
                # Sent with the group's first statement (on PostgreSQL, in its round trip).
                self._group = Group()
                tx = Tx(self._conn, self._backend, self._group.ahead)
                tx.ahead(self._backend.begin_sql)
                if self.lead_sql:
                    tx.ahead(self.lead_sql)
                self._local.first = True
            else:
                tx = Tx(self._conn, self._backend, self._group.ahead)
                tx.mark("tf_request")
                self._local.first = False
        except BaseException as exc:
            self._fail_group(exc)
            self._lock.release()
            raise
        self._local.tx = tx
        return tx

    def _finish(self, *, ok: bool) -> None:
        """End this thread's request; return once its writes are committed (or raise)."""
        local = self._local
        tx, first = local.tx, local.first
        local.tx = None
        group = self._group
        assert tx is not None and group is not None
        try:
            if not ok and first:
                self._conn.rollback()  # alone in the group: nothing else to keep
                self._group = None
                self._lock.release()
                return
            if ok and not first:
                tx.release("tf_request")
            elif not ok:
                tx.undo("tf_request")
        except BaseException as exc:
            self._fail_group(exc)
            self._lock.release()
            if ok:
                raise
            return
        if ok:
            group.members += 1
        if group.members >= MAX_GROUP or not self._others_coming():
            self._commit()
        self._lock.release()
        if ok:
            self._wait(group)

    @property
    def last_commit(self) -> float:
        """Seconds the last group's commit took (for the decision benchmark)."""
        return self._last_commit

    def waiting(self) -> int:
        """Requests asking for the writer now."""
        with self._asking_lock:
            return self._asking

    def _others_coming(self) -> bool:
        with self._asking_lock:
            return self._asking > 0 or self._units > 0

    def _wait(self, group: Group) -> None:
        """Wait for the group's commit; commit it here when no one else will soon.

        A request asking for the writer commits the group itself when it is the last; a unit
        still on its way is given at most as long as a commit takes (up to ``MAX_GATHER``).
        """
        deadline = time.monotonic() + MAX_WAIT
        while not group.done.wait(min(max(self._last_commit, 0.0005), MAX_GATHER)):
            with self._lock:
                if self._group is group and (self.waiting() == 0 or time.monotonic() > deadline):
                    self._commit()
        if group.error is not None:
            raise StoreError("the database did not commit the write") from group.error

    def _commit(self) -> None:
        """Commit the open group; the caller holds the writer."""
        group = self._group
        if group is None:
            return
        if group.members == 0:  # every request in it failed: keep nothing
            with suppress(Exception):
                self._conn.rollback()
            self._group = None
            group.done.set()
            return
        began = time.monotonic()
        try:
            self._conn.commit()
            self._last_commit = time.monotonic() - began
        except BaseException as exc:
            self._fail_group(exc)
            return
        self._group = None
        self.commits += 1
        group.done.set()
        if self.on_commit is not None:
            self.on_commit()

    def _fail_group(self, exc: BaseException) -> None:
        """The connection failed: the open group is lost, and so is the connection."""
        group, self._group, conn, self._conn = self._group, None, self._conn, None
        if conn is not None:
            with suppress(Exception):
                conn.rollback()
            with suppress(Exception):
                conn.close()
        if group is not None:
            group.error = exc
            group.done.set()

    # Stopping --------------------------------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Close the connection once no group is open (it opens again when next needed)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._group is None or time.monotonic() > deadline:
                    if self._group is not None:
                        self._commit()
                    conn, self._conn = self._conn, None
                    break
            time.sleep(0.001)
        if conn is not None:
            with suppress(Exception):
                conn.close()
