"""The store's core: connections, one transaction per call, migrations, and time as text.

SQL is written once with ``?`` placeholders; a backend supplies connections, the locking
statements its engine needs, and the placeholder style. Each concern (contacts, decisions,
referrals, host tasks, counters, the audit trail) adds its methods in its own module.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from plugin_core.errors import ThinkFamilyError
from plugin_core.store.schema import MIGRATIONS

if TYPE_CHECKING:
    from plugin_core.store.audit_key import AuditKeys


class StoreError(ThinkFamilyError, RuntimeError):
    """The database could not do what was asked; the message carries no patient data."""


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
    writer: AbstractContextManager[Any]
    audit_keys: AuditKeys
    """Seals the audit entries written through this backend; never stored in the database."""

    def connect(self) -> Any: ...
    def shutdown(self) -> None: ...
    def begin(self, conn: Any) -> None: ...
    def sql(self, text: str) -> str: ...
    def is_unique_violation(self, exc: BaseException) -> bool: ...


class Tx:
    """A transaction's cursor with the backend's placeholder style applied."""

    def __init__(self, conn: Any, backend: Backend) -> None:
        self.cursor = conn.cursor()
        self.backend = backend

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self.backend.sql(sql), tuple(params))

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.cursor.execute(self.backend.sql(sql), tuple(params))
        return self.cursor.fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self.cursor.execute(self.backend.sql(sql), tuple(params))
        return list(self.cursor.fetchall())


class _Held:
    """One thread's connection. Held weakly by the store, so a thread that ends lets its
    connection go as before, while a clean stop can still close every one alive."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: Any) -> None:
        self.conn = conn


class StoreBase:
    """One connection per thread; every public method of the store is one transaction, so a
    decision and its referrals, or a contact and its message key, commit together or not at all.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._local = threading.local()
        self._held: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._held_lock = threading.Lock()

    def _conn(self) -> Any:
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            held = _Held(self.backend.connect())
            self._local.held = held
            with self._held_lock:
                self._held.add(held)
        return held.conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._conn()
        with self.backend.writer:
            try:
                self.backend.begin(conn)
                yield Tx(conn, self.backend)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def close(self) -> None:
        """Close this thread's connection."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None:
            held.conn.close()
            self._local.held = None
            with self._held_lock:
                self._held.discard(held)

    def shutdown(self) -> None:
        """On a clean stop: close every thread's connection, then leave the database whole in
        its file (for SQLite, the write-ahead log folded in)."""
        with self._held_lock:
            found = list(self._held)
            self._held.clear()
        self._local = threading.local()
        for held in found:
            with suppress(Exception):  # a broken connection is closed enough
                held.conn.close()
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
        return len(MIGRATIONS)

    def ping(self) -> bool:
        with self.transaction() as tx:
            return tx.one("SELECT 1") is not None
