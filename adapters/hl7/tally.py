"""The listener's counters: connection events counted in memory, added to the service's
counters in the background, and logged at most once a minute each."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable

from plugin_core.contract import ServicePort

log = logging.getLogger("adapters.hl7.listener")

NOTE_SECONDS = 60.0


class Tally:
    def __init__(self, service: Callable[[], ServicePort | None], lock: threading.Lock) -> None:
        self.service = service
        self.lock = lock
        """The listener's lock: ``add`` and ``note`` are called holding it."""
        self.totals: Counter[str] = Counter()
        self._pending: Counter[str] = Counter()
        self._noted: dict[str, float] = {}

    def add(self, metric: str) -> None:
        """Count a connection event (caller holds the lock); added to the service's counters
        in the background, so a flood of connections never waits on the database."""
        self._pending[metric] += 1
        self.totals[metric] += 1

    def note(self, kind: str, now: float, what: str) -> None:
        """Log a connection event once a minute at most (caller holds the lock): under a
        flood, the counters tell how many; the log need only say that it is happening."""
        last = self._noted.get(kind)
        if last is None or now - last >= NOTE_SECONDS:
            self._noted[kind] = now
            log.warning("hl7: connection event", extra={"reason": what})

    def flush(self) -> None:
        with self.lock:
            pending, self._pending = self._pending, Counter()
        for metric, amount in pending.items():
            self.count(metric, amount)

    def count(self, metric: str, amount: int = 1) -> None:
        service = self.service()
        if service is None:
            return
        try:
            service.count(metric, amount)
        except Exception as exc:
            log.warning("hl7: counting failed", extra={"code": metric, "error": type(exc).__name__})
