"""The SQLite and PostgreSQL backends, chosen by the database URL."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plugin_core.store.audit_key import NO_KEYS, AuditKeys, keys_from_env
from plugin_core.store.errors import StoreError
from plugin_core.store.store import Store
from plugin_core.store.wal import Checkpointer

log = logging.getLogger("thinkfamily.store")

READER_MMAP_BYTES = 64 * 1024 * 1024
"""How much of the SQLite file readers map rather than read (shared with the file cache)."""


class SqliteBackend:
    """Embedded default. WAL mode with ``synchronous=FULL``: a commit is on disk before any
    sender is acknowledged."""

    name = "sqlite"
    skip_locked = ""
    for_update = ""
    migration_lock = ""
    begin_sql = "BEGIN IMMEDIATE"  # the write lock up front: two writers never deadlock on upgrade
    group_lock = ""  # SQLite has one writer: a group holds the database's write lock

    def __init__(self, url: str, path: str, audit_keys: AuditKeys = NO_KEYS) -> None:
        self.url = url
        self.path = path
        self.audit_keys = audit_keys

    def connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def prepare_writer(self, conn: Any) -> None:
        # The log is folded in by the checkpointer's thread, never on a request's commit.
        if self.path != ":memory:":
            conn.execute("PRAGMA wal_autocheckpoint=0")

    def prepare_reader(self, conn: Any) -> None:
        # Each commit by the writer empties a reader's page cache; mapped pages are found
        # again without a read from the file per page.
        conn.execute(f"PRAGMA mmap_size={READER_MMAP_BYTES}")

    def checkpointer(self) -> Checkpointer | None:
        return Checkpointer(self.path) if self.path != ":memory:" else None

    def shutdown(self) -> None:
        """Fold the write-ahead log into the database file, once the store has closed its
        connections, so a copy of the ``.db`` file alone holds everything committed."""
        if self.path == ":memory:":
            return
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
        if busy:
            # Another process still reads the database: its last close will fold the log in.
            log.warning("database log not folded in: the database is in use elsewhere")

    def begin_read(self, conn: Any) -> None:
        conn.execute("BEGIN")

    def sql(self, text: str) -> str:
        return text

    def is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


class PostgresBackend:
    """Shared database for several instances; row claims use ``FOR UPDATE SKIP LOCKED``."""

    name = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    for_update = " FOR UPDATE"
    migration_lock = "SELECT pg_advisory_xact_lock(7354201)"
    begin_sql = "BEGIN"
    group_lock = f"SELECT 1 FROM audit_head WHERE id = 1{for_update}"

    def __init__(self, url: str, audit_keys: AuditKeys = NO_KEYS) -> None:
        self.url = url
        self.audit_keys = audit_keys

    def connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=False, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {_safe(self.url)}: {exc.sqlstate or 'connection failed'}"
            ) from None

    def prepare_writer(self, conn: Any) -> None:
        # The writer begins its transactions itself (``begin_sql``), so the BEGIN goes in the
        # round trip of the first statement rather than in one of its own.
        conn.autocommit = True

    def prepare_reader(self, conn: Any) -> None:
        # One round trip per read, not three: no BEGIN and ROLLBACK around it.
        conn.autocommit = True

    def checkpointer(self) -> Checkpointer | None:
        return None

    def shutdown(self) -> None:
        """Nothing to fold in: PostgreSQL keeps its own log."""
        return None

    def begin_read(self, conn: Any) -> None:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def is_unique_violation(self, exc: BaseException) -> bool:
        import psycopg.errors

        return isinstance(exc, psycopg.errors.UniqueViolation)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///PATH`` URL (``:memory:`` for none); None for PostgreSQL."""
    return (url.removeprefix("sqlite:///") or ":memory:") if url.startswith("sqlite:///") else None


def open_store(
    url: str,
    *,
    migrate: bool = True,
    must_exist: bool = False,
    audit_keys: AuditKeys | None = None,
) -> Store:
    """A store for ``sqlite:///PATH`` or ``postgresql://...``, migrated to the current schema.

    :param must_exist: for read-only tools: a missing SQLite file is an error, not a new database.
    :param audit_keys: the keys that seal and verify the audit trail; by default those the
        environment names (see :mod:`plugin_core.store.audit_key`).
    """
    path = sqlite_path(url)
    if path is not None:
        if must_exist and not Path(path).is_file():
            raise StoreError(f"no database file at {path}")
    elif not url.startswith(("postgresql://", "postgres://")):
        raise StoreError("the database URL must start with sqlite:/// or postgresql://")
    keys = keys_from_env(os.environ, sqlite_path=path) if audit_keys is None else audit_keys
    if path is not None:
        backend: SqliteBackend | PostgresBackend = SqliteBackend(url, path, keys)
    else:
        backend = PostgresBackend(url, keys)
    store = Store(backend)
    if migrate:
        store.migrate()
    return store
