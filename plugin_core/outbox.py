"""The outbox worker: delivers recorded referrals, retries with backoff, escalates when late,
and tells an escalation again once the route it waited for opens.

The worker owns the loop, the leases and the backoff; every claim, attempt and escalation is a
state transition the service records.

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

from plugin_core.model import ReferralStatus
from plugin_core.service import Claim, Service

log = logging.getLogger("thinkfamily.outbox")

REMIND_EVERY = timedelta(minutes=1)
"""How often escalations waiting for a route to open are looked at: routes open on the clock,
so a minute late is soon enough, and the look costs a read of the open escalations."""


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
        self._remind_at: datetime | None = None
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
        service = self.service
        claimed = service.claim_referrals(
            self.name, lease_seconds=self.lease_seconds, limit=self.batch
        )
        for claim in claimed:
            self._attempt(claim)
        self._retry_write_backs()
        service.escalate_overdue(self.name)
        now = service.clock()
        if self._remind_at is None or now >= self._remind_at:
            service.remind_opened(self.name)
            self._remind_at = now + REMIND_EVERY
        if self.cycles % 60 == 0:
            service.purge_once_keys()
        self.last_cycle_at = service.clock()
        self.cycles += 1
        return len(claimed)

    def _attempt(self, claim: Claim) -> None:
        outcome = self.service.attempt_delivery(claim.referral)
        retry_at = None
        if outcome.status is ReferralStatus.FAILED:
            retry_at = self._retry_at(claim.attempts + 1)
        self.service.record_attempt(claim, self.name, outcome, retry_at=retry_at)

    def _retry_write_backs(self) -> None:
        service = self.service
        for task in service.claim_write_backs(
            self.name, lease_seconds=self.lease_seconds, limit=self.batch
        ):
            try:
                ok = service.retry_write_back(task)
            except Exception as exc:  # the store or the plugin lookup failed: try again later
                log.warning(
                    "write-back retry raised",
                    extra={"decision_id": task.subject, "error": type(exc).__name__},
                )
                ok = False
            service.finish_write_back(task, ok=ok, retry_at=self._retry_at(task.attempts + 1))

    def _retry_at(self, attempt: int) -> datetime:
        return self.service.clock() + timedelta(seconds=self.backoff.delay(attempt, self._rng))
