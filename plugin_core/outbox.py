"""The outbox worker: delivers recorded referrals, retries with backoff, escalates when late.

Delivery is at least once (a worker that dies after sending but before recording will send
again, with the same idempotency key); exactly one delivery is recorded, because recording
requires the claim and a referral not yet delivered.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from plugin_core.host.plugins import PluginError, fault_fields
from plugin_core.model import Referral, ReferralStatus
from plugin_core.service import Service
from plugin_core.store.audit import AuditEntry

log = logging.getLogger("thinkfamily.outbox")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: ``base * 2**(attempt-1)``, capped, times 0.5–1."""

    base_seconds: float = 2.0
    cap_seconds: float = 300.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        raw = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))
        return float(raw * rng.uniform(0.5, 1.0))


class OutboxWorker:
    """Polls the outbox on its own thread; ``stop()`` finishes the current cycle and returns."""

    def __init__(
        self,
        service: Service,
        *,
        poll_seconds: float = 1.0,
        batch: int = 20,
        lease_seconds: float = 60.0,
    ) -> None:
        section = service.config.section("outbox")
        self.service = service
        self.poll_seconds = float(section.get("poll_seconds", poll_seconds))
        self.batch = int(section.get("batch", batch))
        self.lease_seconds = float(section.get("lease_seconds", lease_seconds))
        self.backoff = Backoff(
            float(section.get("retry_base_seconds", 2.0)),
            float(section.get("retry_cap_seconds", 300.0)),
        )
        self.name = f"worker-{service.instance}"
        self._rng = random.Random()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_cycle_at: datetime | None = None
        self.last_error: str | None = None
        self.cycles = 0

    # Lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def state(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "cycles": self.cycles,
            "last_cycle_at": self.last_cycle_at.isoformat() if self.last_cycle_at else None,
            "last_error": self.last_error,
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
                self.last_error = None
            except Exception as exc:  # keep serving: a database hiccup must not stop delivery
                self.last_error = type(exc).__name__
                log.exception("outbox cycle failed")
                busy = 0
            if not busy:
                self._stop.wait(self.poll_seconds)

    # One cycle -------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Attempt every due referral once and raise due escalations; returns attempts made."""
        now = self.service.clock()
        claimed = self.service.store.claim_referrals(
            self.name, now, lease_seconds=self.lease_seconds, limit=self.batch
        )
        for claim in claimed:
            self._attempt(claim.referral, claim.attempts)
        self._retry_write_backs(self.service.clock())
        self._escalate(self.service.clock())
        if self.cycles % 60 == 0:
            self.service.store.purge_once_keys(self.service.clock())
        self.last_cycle_at = self.service.clock()
        self.cycles += 1
        return len(claimed)

    def _attempt(self, referral: Referral, attempts_so_far: int) -> None:
        service = self.service
        fault: dict[str, str] = {}
        try:
            attempt = service.engine.attempt(referral)
            status, receipt, prompt = attempt.status, attempt.receipt, attempt.prompt
        except Exception as exc:  # a transport's fault becomes a failed attempt, retried later
            fault = fault_fields(exc)  # plugin, hook, error class: audited with the attempt
            log.warning("delivery raised", extra={"referral_id": referral.id, **fault})
            if isinstance(exc, PluginError):
                service.count(f"hooks.{exc.hook.removeprefix('thinkfamily_')}.failed")
            status, receipt, prompt = ReferralStatus.FAILED, None, None
        now = service.clock()
        retry_at = None
        if status is ReferralStatus.FAILED:
            retry_at = now + timedelta(seconds=self.backoff.delay(attempts_so_far + 1, self._rng))
        details: dict[str, Any] = {"status": status.value, "attempt": attempts_so_far + 1, **fault}
        if receipt is not None:
            details.update(
                {
                    "channel": receipt.channel.value,
                    "reference": receipt.reference,
                    "detail": receipt.detail[:200],
                }
            )
        recorded = service.store.finish_attempt(
            referral,
            self.name,
            status=status,
            receipt=receipt,
            prompt=prompt,
            next_attempt_at=retry_at,
            audit=[AuditEntry(f"referral.{status.value}", self.name, referral.id, details)],
            at=now,
        )
        if not recorded:
            log.info(
                "attempt outcome not recorded: claim lost or already delivered",
                extra={"referral_id": referral.id},
            )
            return
        log.info("referral attempt", extra={"referral_id": referral.id, "status": status.value})
        service.notify(
            "referral_update",
            referral.id,
            service.engine.hooks.referral_update,
            referral,
            status,
            receipt,
            prompt,
        )

    def _retry_write_backs(self, now: datetime) -> None:
        store = self.service.store
        for task in store.claim_host_tasks(
            self.name, now, lease_seconds=self.lease_seconds, limit=self.batch
        ):
            try:
                ok = self.service.retry_write_back(task)
            except Exception as exc:  # the store or the plugin lookup failed: try again later
                log.warning(
                    "write-back retry raised",
                    extra={"decision_id": task.subject, "error": type(exc).__name__},
                )
                ok = False
            done = self.service.clock()
            retry_at = done + timedelta(seconds=self.backoff.delay(task.attempts + 1, self._rng))
            kind = "writeback.done" if ok else "writeback.failed"
            entry = AuditEntry(kind, task.plugin, task.subject, {"attempt": task.attempts + 1})
            store.finish_host_task(
                task,
                ok=ok,
                error="" if ok else "retry failed",
                retry_at=retry_at,
                at=done,
                audit=[entry],
            )

    def _escalate(self, now: datetime) -> None:
        for referral in self.service.store.due_escalations(now):
            prompt = self.service.engine.call_prompt(referral, at=now)
            where = self.service.engine.destination_for(referral, now)
            entry = AuditEntry(
                "referral.escalated",
                self.name,
                referral.id,
                {
                    "phones": list(where.phones),
                    "in_hours": where.in_hours,
                    "route": where.route.value,
                },
            )
            if self.service.store.mark_escalated(referral, prompt, audit=[entry], at=now):
                log.warning("urgent referral escalated", extra={"referral_id": referral.id})
                self.service.notify(
                    "referral_update",
                    referral.id,
                    self.service.engine.hooks.referral_update,
                    referral,
                    ReferralStatus.ESCALATED,
                    None,
                    prompt,
                )
