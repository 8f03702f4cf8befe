"""Sign-in sessions of the clinician pages, and sign-ins on their way through the provider.

Kept in the database so they survive a restart and are shared by every instance. The key is a
SHA-256 digest of the cookie (or of the ``state`` of a sign-in in progress): someone who reads
the table cannot use what is in it. The table is made on first use rather than by a numbered
migration, so it can be added or dropped without touching the record of decisions.
"""

from __future__ import annotations

from datetime import datetime

from plugin_core.store.base import StoreBase, parse_ts, ts

_TABLE = """CREATE TABLE IF NOT EXISTS web_sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
)"""
_INDEX = "CREATE INDEX IF NOT EXISTS web_sessions_expiry ON web_sessions (expires_at)"


class WebSessions(StoreBase):
    _web_sessions_ready = False

    def _sessions_table(self) -> None:
        if self._web_sessions_ready:
            return
        with self.transaction() as tx:
            tx.execute(_TABLE)
            tx.execute(_INDEX)
        self._web_sessions_ready = True

    def put_web_session(
        self, key: str, kind: str, data: str, *, now: datetime, expires_at: datetime
    ) -> None:
        """Store one session (or sign-in in progress) under the digest ``key``."""
        self._sessions_table()
        with self.transaction() as tx:
            tx.execute("DELETE FROM web_sessions WHERE expires_at < ?", (ts(now),))
            tx.execute(
                "INSERT INTO web_sessions (id, kind, data, created_at, seen_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (key, kind, data, ts(now), ts(now), ts(expires_at)),
            )

    def web_session(
        self, key: str, kind: str, *, now: datetime, idle_since: datetime | None
    ) -> str | None:
        """The data of a live session, marked as seen ``now``; None (and removed) when it has
        passed its end, or was last seen before ``idle_since``."""
        self._sessions_table()
        with self.transaction() as tx:
            row = tx.one(
                "SELECT data, seen_at, expires_at FROM web_sessions WHERE id = ? AND kind = ?",
                (key, kind),
            )
            if row is None:
                return None
            data, seen, expires = str(row[0]), parse_ts(row[1]), parse_ts(row[2])
            if now >= expires or (idle_since is not None and seen < idle_since):
                tx.execute("DELETE FROM web_sessions WHERE id = ?", (key,))
                return None
            tx.execute("UPDATE web_sessions SET seen_at = ? WHERE id = ?", (ts(now), key))
            return data

    def take_web_session(self, key: str, kind: str, *, now: datetime) -> str | None:
        """The data of a live entry, removed so it is used once (a sign-in's ``state``)."""
        self._sessions_table()
        with self.transaction() as tx:
            row = tx.one(
                "DELETE FROM web_sessions WHERE id = ? AND kind = ? RETURNING data, expires_at",
                (key, kind),
            )
        if row is None or now >= parse_ts(row[1]):
            return None
        return str(row[0])

    def drop_web_session(self, key: str) -> None:
        self._sessions_table()
        with self.transaction() as tx:
            tx.execute("DELETE FROM web_sessions WHERE id = ?", (key,))
