"""Service counters (shown on ``/healthz``) and keys that may be used only once."""

from __future__ import annotations

from datetime import datetime

from plugin_core.store.base import StoreBase, Tx, ts


def count(tx: Tx, name: str, amount: int) -> None:
    """Add to a counter inside the caller's transaction."""
    tx.execute(
        "INSERT INTO counters (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
        (name, amount),
    )


def use_once_in(tx: Tx, key: str, *, until: datetime, now: datetime) -> bool:
    """``Counters.use_once`` inside the caller's transaction."""
    tx.execute("DELETE FROM once_keys WHERE key = ? AND expires_at < ?", (key, ts(now)))
    row = tx.one(
        "INSERT INTO once_keys (key, expires_at) VALUES (?, ?)"
        " ON CONFLICT (key) DO NOTHING RETURNING key",
        (key, ts(until)),
    )
    return row is not None


class Counters(StoreBase):
    def add_counter(self, name: str, amount: int = 1) -> None:
        with self.transaction() as tx:
            count(tx, name, amount)

    def counters(self) -> dict[str, int]:
        with self.reading() as tx:
            rows = tx.all("SELECT name, value FROM counters ORDER BY name")
        return {r[0]: int(r[1]) for r in rows}

    def use_once(self, key: str, *, until: datetime, now: datetime) -> bool:
        """True the first time ``key`` is used before it expires; False on every reuse."""
        with self.transaction() as tx:
            return use_once_in(tx, key, until=until, now=now)

    def purge_once_keys(self, now: datetime) -> None:
        with self.transaction() as tx:
            tx.execute("DELETE FROM once_keys WHERE expires_at < ?", (ts(now),))
