"""Write-backs to a host's record to retry, one plugin at a time, until they succeed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, ts
from plugin_core.store.records import HostTask
from plugin_core.store.trail import append


class HostTasks(StoreBase):
    def add_host_task(
        self,
        hook: str,
        plugin: str,
        subject: str,
        *,
        error: str,
        at: datetime,
        audit: Sequence[AuditEntry],
    ) -> None:
        """Queue a retry of ``hook`` for one plugin about ``subject`` (a decision id)."""
        task_id = f"{hook}|{plugin}|{subject}"
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO host_tasks (id, hook, plugin, subject, attempts, next_attempt_at,"
                " last_error) VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (id) DO NOTHING",
                (task_id, hook, plugin, subject, ts(at), error),
            )
            append(tx, audit, at)

    def claim_host_tasks(
        self, worker: str, now: datetime, *, lease_seconds: float, limit: int
    ) -> list[HostTask]:
        stamp = ts(now)
        expires = ts(datetime.fromtimestamp(now.timestamp() + lease_seconds, UTC))
        claimed: list[HostTask] = []
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT id FROM host_tasks WHERE done_at IS NULL AND next_attempt_at <= ?"
                " AND (claim_expires_at IS NULL OR claim_expires_at < ?)"
                " ORDER BY next_attempt_at LIMIT ?" + self.backend.skip_locked,
                (stamp, stamp, limit),
            )
            for (task_id,) in rows:
                row = tx.one(
                    "UPDATE host_tasks SET claimed_by = ?, claim_expires_at = ? WHERE id = ?"
                    " RETURNING id, hook, plugin, subject, attempts",
                    (worker, expires, task_id),
                )
                if row is not None:
                    claimed.append(HostTask(row[0], row[1], row[2], row[3], int(row[4])))
        return claimed

    def finish_host_task(
        self,
        task: HostTask,
        *,
        ok: bool,
        error: str,
        retry_at: datetime,
        at: datetime,
        audit: Sequence[AuditEntry],
    ) -> None:
        with self.transaction() as tx:
            if ok:
                tx.execute(
                    "UPDATE host_tasks SET done_at = ?, claimed_by = NULL, claim_expires_at = NULL"
                    " WHERE id = ?",
                    (ts(at), task.id),
                )
            else:
                tx.execute(
                    "UPDATE host_tasks SET attempts = attempts + 1, next_attempt_at = ?,"
                    " last_error = ?, claimed_by = NULL, claim_expires_at = NULL WHERE id = ?",
                    (ts(retry_at), error, task.id),
                )
            append(tx, audit, at)

    def host_tasks(self) -> list[tuple[HostTask, bool]]:
        """Every queued write-back, with whether it is done."""
        with self.reading() as tx:
            rows = tx.all(
                "SELECT id, hook, plugin, subject, attempts, done_at FROM host_tasks ORDER BY id"
            )
        return [(HostTask(r[0], r[1], r[2], r[3], int(r[4])), r[5] is not None) for r in rows]
