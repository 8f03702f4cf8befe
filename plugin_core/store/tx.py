"""A transaction's cursor, and how its statements reach the database in few round trips.

On PostgreSQL every statement is a round trip to the server, so three things are sent with
the statement after them rather than on their own: the group's ``BEGIN`` and lock, and a
savepoint (one that succeeds is left to end with the transaction). Writes whose results are
not needed and that do not depend on one another go as one statement (see :meth:`Tx.batch`).
SQLite runs in the process: each statement is executed as it comes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plugin_core.store.base import Backend

MAX_FUSED_PARAMS = 30_000
"""Parameters of one joined statement at most (PostgreSQL takes 65,535)."""
_WRITES = ("INSERT ", "UPDATE ", "DELETE ")


class Tx:
    """A transaction's cursor with the backend's placeholder style applied.

    :param ahead: statements without parameters still to be sent before the next one (the
        writer's group start and savepoints), shared by the requests of one group.
    """

    def __init__(self, conn: Any, backend: Backend, ahead: list[str] | None = None) -> None:
        self.cursor = conn.cursor()
        self.backend = backend
        self._ahead: list[str] = [] if ahead is None else ahead
        self._pipelined = backend.name == "postgresql"
        self._in_batch = False
        self._joined: list[tuple[str, Sequence[Any]]] | None = None
        self._depth = 0
        self.audit_head: tuple[int, str] | None = None
        """The audit trail's head (count, last seal) as read and locked earlier in this
        transaction, for the next append to use instead of a round trip of its own."""
        self.checked: dict[str, tuple[Any, ...]] = {}
        """What a read under lock found earlier in this transaction, by what it is about, for
        the write it was made for to use instead of reading again."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._joined is None:
            self._send(sql, params)
            return
        self._joined.append((sql, params))
        if sum(len(p) for _, p in self._joined) > MAX_FUSED_PARAMS:
            self._flush()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._flush()
        self._send(sql, params)
        return self.cursor.fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self._flush()
        self._send(sql, params)
        return list(self.cursor.fetchall())

    def ahead(self, sql: str) -> None:
        """Run ``sql`` (no parameters, no result needed) before the next statement: on
        PostgreSQL, in the same round trip as that statement."""
        if self._pipelined:
            self._ahead.append(sql)
        else:
            self.cursor.execute(sql)

    def _send(self, sql: str, params: Sequence[Any]) -> None:
        if not self._ahead:
            self.cursor.execute(self.backend.sql(sql), tuple(params))
            return
        ahead = list(self._ahead)
        self._ahead.clear()
        with self.cursor.connection.pipeline():
            for statement in ahead:
                self.cursor.execute(statement)
            self.cursor.execute(self.backend.sql(sql), tuple(params))

    def _flush(self) -> None:
        """Send the writes joined so far, as one statement."""
        if not self._joined:
            return
        writes = list(self._joined)
        self._joined.clear()
        self._send(*joined(writes))

    # Savepoints ------------------------------------------------------------------------------

    @contextmanager
    def savepoint(self) -> Iterator[Tx]:
        """The block's work, undone alone when it fails."""
        self._depth += 1
        name = f"tf_nested_{self._depth}"
        self.mark(name)
        try:
            yield self
        except BaseException:
            with suppress(Exception):  # a broken connection fails the whole request anyway
                self.undo(name)
            raise
        else:
            self.release(name)
        finally:
            self._depth -= 1

    def mark(self, name: str) -> None:
        """Start savepoint ``name``."""
        self.ahead(f"SAVEPOINT {name}")

    def release(self, name: str) -> None:
        """Keep what was done since savepoint ``name``."""
        if not self._forget(name) and not self._pipelined:
            self.cursor.execute(f"RELEASE SAVEPOINT {name}")

    def undo(self, name: str) -> None:
        """Undo what was done since savepoint ``name``."""
        self.audit_head = None
        self.checked.clear()
        if self._joined:
            self._joined.clear()
        if self._forget(name):
            return
        self._ahead.clear()  # savepoints inside this one, never sent
        self.cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
        if not self._pipelined:
            self.cursor.execute(f"RELEASE SAVEPOINT {name}")

    def _forget(self, name: str) -> bool:
        """Drop savepoint ``name`` and what follows it when not sent yet."""
        mark = f"SAVEPOINT {name}"
        if mark not in self._ahead:
            return False
        del self._ahead[self._ahead.index(mark) :]
        return True

    # Statements sent together ----------------------------------------------------------------

    @contextmanager
    def batch(self, *, independent: bool = False) -> Iterator[None]:
        """Send the statements of the block together where the backend can (PostgreSQL: one
        round trip, not one each). Reading a result inside sends what is queued so far; an
        error surfaces at the latest when the block ends. A batch inside another joins it.

        :param independent: the block's writes touch different rows, and none reads what
            another writes: on PostgreSQL they are sent as one statement, which costs the
            client far less than one each.
        """
        if not self._pipelined:
            yield
            return
        if self._in_batch:
            if independent or self._joined is None:
                yield
                return
            # Writes that depend on one another, inside independent ones: sent one by one.
            self._flush()
            outer, self._joined = self._joined, None
            try:
                yield
            finally:
                self._joined = outer
            return
        self._in_batch = True
        try:
            if independent:
                self._joined = []
                try:
                    yield
                    self._flush()
                finally:
                    self._joined = None
            else:
                with self.cursor.connection.pipeline():
                    yield
        finally:
            self._in_batch = False


def joined(writes: Sequence[tuple[str, Sequence[Any]]]) -> tuple[str, list[Any]]:
    """Writes as one statement: each but the last in a ``WITH`` of its own (PostgreSQL runs
    every one of them; none sees the others' rows)."""
    params: list[Any] = []
    for sql, values in writes:
        assert sql.lstrip().upper().startswith(_WRITES), "only writes are joined"
        params += values
    if len(writes) == 1:
        return writes[0][0], params
    parts = [f"w{i} AS ({sql})" for i, (sql, _) in enumerate(writes[:-1])]
    return f"WITH {', '.join(parts)} {writes[-1][0]}", params
