"""The store's core: connections, one transaction per call, migrations, and time as text.

SQL is written once with ``?`` placeholders; a backend supplies connections, the locking
statements its engine needs, and the placeholder style. Each concern (contacts, decisions,
referrals, host tasks, counters, the audit trail) adds its methods in its own module.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from plugin_core.store.schema import MIGRATIONS
from plugin_core.store.tx import Tx as Tx
from plugin_core.store.writer import Unit, Writer

if TYPE_CHECKING:
    from plugin_core.store.audit_key import AuditKeys
    from plugin_core.store.wal import Checkpointer

IDLE_READERS = 8
"""Read connections kept open between uses; more are opened while many threads read."""


def ts(value: datetime) -> str:
    """UTC text with fixed width, so times sort correctly as text on both backends."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


def opt_ts(text: str | None) -> datetime | None:
    return parse_ts(text) if text else None


def placeholders(values: Sequence[object]) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of parameters."""
    return ", ".join("?" for _ in values)


class Backend(Protocol):
    """What differs between SQLite and PostgreSQL."""

    url: str
    name: str
    skip_locked: str
    for_update: str
    migration_lock: str
    begin_sql: str
    """Starts the writer's transaction (SQLite: with the write lock)."""
    group_lock: str
    """Run first in every group of writes, once migrated (see :mod:`plugin_core.store.writer`)."""
    audit_keys: AuditKeys
    """Seals the audit entries written through this backend; never stored in the database."""

    def connect(self) -> Any: ...
    def prepare_writer(self, conn: Any) -> None: ...
    def prepare_reader(self, conn: Any) -> None: ...
    def checkpointer(self) -> Checkpointer | None: ...
    def shutdown(self) -> None: ...
    def begin_read(self, conn: Any) -> None: ...
    def sql(self, text: str) -> str: ...
    def is_unique_violation(self, exc: BaseException) -> bool: ...


class StoreBase:
    """Writes go through the store's one writer (:mod:`plugin_core.store.writer`): every public
    method that writes is one transaction, so a decision and its referrals, or a contact and its
    message key, commit together or not at all. Reads borrow a connection from a small pool.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.writer = Writer(backend)
        self._readers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.wal = backend.checkpointer()
        if self.wal is not None:
            self.writer.on_commit = self.wal.nudge

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A transaction for writes, committed durably before the block is left."""
        with self.writer.transaction() as tx:
            yield tx

    def unit(self) -> AbstractContextManager[Unit]:
        """Every write this thread makes inside the block commits together when it ends.

        See :meth:`plugin_core.store.writer.Writer.unit`."""
        return self.writer.unit()

    @contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[Tx]:
        """A connection for reads of committed data: from a small pool, or on SQLite the
        writer's while it is idle. Inside this thread's own write transaction, its connection
        (to read its own writes).

        :param snapshot: several statements that must see one moment of the database.
        """
        current = self.writer.current()
        if current is not None:
            yield current
            return
        if self.backend.name == "sqlite":
            # SQLite empties a reader's cache after every commit by another connection: the
            # writer's own, when idle, reads without that cost.
            with self.writer.idle() as idle:
                if idle is not None:
                    if snapshot:
                        self.backend.begin_read(idle.cursor.connection)
                    try:
                        yield idle
                    finally:
                        if snapshot:
                            idle.cursor.connection.rollback()
                    return
        conn = self._borrow()
        try:
            if snapshot:
                self.backend.begin_read(conn)
            yield Tx(conn, self.backend)
            if snapshot:
                conn.rollback()
        except BaseException:
            with suppress(Exception):  # a broken connection is closed, not returned
                conn.close()
            raise
        if self._readers.qsize() < IDLE_READERS:
            self._readers.put(conn)
        else:
            conn.close()

    def _borrow(self) -> Any:
        with suppress(queue.Empty):
            return self._readers.get_nowait()
        conn = self.backend.connect()
        self.backend.prepare_reader(conn)
        return conn

    def close(self) -> None:
        """Close the store's connections; they open again when next needed."""
        while True:
            try:
                conn = self._readers.get_nowait()
            except queue.Empty:
                break
            with suppress(Exception):  # a broken connection is closed enough
                conn.close()
        self.writer.close()

    def shutdown(self) -> None:
        """On a clean stop: close every connection, then leave the database whole in its file
        (for SQLite, the write-ahead log folded in)."""
        if self.wal is not None:
            self.wal.stop()
        self.close()
        self.backend.shutdown()

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version."""
        with self.transaction() as tx:
            if self.backend.migration_lock:
                tx.one(self.backend.migration_lock)
            tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = tx.one("SELECT MAX(version) FROM schema_version")
            current = row[0] if row and row[0] is not None else 0
            for version, statements in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in statements:
                    tx.execute(statement)
                tx.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        self.writer.lead_sql = self.backend.group_lock
        return len(MIGRATIONS)

    def ping(self) -> bool:
        with self.reading() as tx:
            return tx.one("SELECT 1") is not None
