"""The listener's side of acknowledging on receipt: the journal worker process, kept running,
and the application ACKs sent as the worker settles rows.

The worker is a process, not a thread, so reading messages never competes with the listener
for the interpreter lock. If it dies, it is started again; rows it held are claimed again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from adapters.hl7.app_acks import ApplicationAcks
from plugin_core.contract import ServicePort
from plugin_core.worker_process import WorkerProcess

log = logging.getLogger("adapters.hl7.listener")

TARGET = "adapters.hl7.journal_worker:run"
POLL_SECONDS = 0.05
CHECK_SECONDS = 1.0


class JournalMode:
    def __init__(
        self, service: Callable[[], ServicePort | None], count: Callable[[str, int], None]
    ) -> None:
        self.service = service
        self.count = count
        self.acks = ApplicationAcks(service)
        self.worker: Any = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.files = False
        """Messages are journaled into the listener's files (SQLite), then moved to the table."""

    def start(self) -> bool:
        """Start the worker; False when the service cannot run one (a database in memory)."""
        where = getattr(self.service(), "worker_settings", None)
        found = where() if where is not None else None
        if found is None:
            self.worker = None
            return False
        trust_file, database = found
        opener = getattr(self.service(), "open_journal_file", None)
        if opener is not None:  # before the worker starts: what a crash left is moved first
            try:
                self.files = bool(opener())
            except Exception as exc:  # journal to the table instead; the files stay for later
                log.error("hl7: journal files not opened", extra={"error": type(exc).__name__})
        self.worker = WorkerProcess(TARGET, trust_file, database, "hl7-journal")
        self.worker.start()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="hl7-journal", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        closer = getattr(self.service(), "close_journal_file", None)
        if self.files and closer is not None:
            try:  # moved to the table for the worker to read before it stops
                closer()
            except Exception as exc:  # the files are read again on the next start
                log.error("hl7: journal files not moved", extra={"error": type(exc).__name__})
        if self.worker is not None:
            self.worker.stop()
        self.acks.poll()  # the last rows settled before the worker stopped

    def health(self) -> dict[str, Any]:
        worker = self.worker
        return {
            "worker_running": bool(worker is not None and worker.alive),
            "worker_starts": worker.starts if worker is not None else 0,
            "awaiting_application_ack": self.acks.waiting,
            "journal_files": self.files,
        }

    def _run(self) -> None:
        checked = time.monotonic()
        while not self._stopping.wait(POLL_SECONDS):
            try:
                self.acks.poll()
            except Exception as exc:  # the next poll tries again
                log.warning("hl7: application ACKs failed", extra={"error": type(exc).__name__})
            if time.monotonic() - checked >= CHECK_SECONDS:
                checked = time.monotonic()
                self._keep_running()

    def _keep_running(self) -> None:
        worker = self.worker
        if worker is None or worker.alive or self._stopping.is_set():
            return
        log.error("hl7: journal worker stopped unexpectedly; starting it again")
        self.count("hl7.journal_worker_restarts", 1)
        worker.start()
