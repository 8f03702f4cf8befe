"""The SQLite and PostgreSQL backends, chosen by the database URL."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plugin_core.store.base import StoreError
from plugin_core.store.store import Store


class SqliteBackend:
    """Embedded default. WAL mode with ``synchronous=FULL``: a commit is on disk before any
    sender is acknowledged."""

    name = "sqlite"
    skip_locked = ""
    for_update = ""
    migration_lock = ""

    def __init__(self, url: str, path: str) -> None:
        self.url = url
        self.path = path
        # SQLite has one writer at a time. Queueing this process's threads on a lock is fairer
        # and far quicker than SQLite's busy handler, which sleeps up to 100 ms between tries.
        self.writer: AbstractContextManager[Any] = threading.Lock()

    def connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def begin(self, conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers never deadlock on upgrade.
        conn.execute("BEGIN IMMEDIATE")

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

    def __init__(self, url: str) -> None:
        self.url = url
        self.writer: AbstractContextManager[Any] = nullcontext()

    def connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=False, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {_safe(self.url)}: {exc.sqlstate or 'connection failed'}"
            ) from None

    def begin(self, conn: Any) -> None:
        # psycopg opens a transaction on the first statement.
        return None

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


def open_store(url: str, *, migrate: bool = True, must_exist: bool = False) -> Store:
    """A store for ``sqlite:///PATH`` or ``postgresql://...``, migrated to the current schema.

    :param must_exist: for read-only tools: a missing SQLite file is an error, not a new database.
    """
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///") or ":memory:"
        if must_exist and not Path(path).is_file():
            raise StoreError(f"no database file at {path}")
        backend: SqliteBackend | PostgresBackend = SqliteBackend(url, path)
    elif url.startswith(("postgresql://", "postgres://")):
        backend = PostgresBackend(url)
    else:
        raise StoreError("the database URL must start with sqlite:/// or postgresql://")
    store = Store(backend)
    if migrate:
        store.migrate()
    return store
