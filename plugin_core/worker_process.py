"""A worker in a process of its own, started and stopped by ``thinkfamily serve``.

Work that is pure CPU (reading journaled messages, assessing them) runs in a separate process
so that it never competes with the listeners for the interpreter lock. The child builds its own
service from the same trust configuration and database, runs ``module:function`` with it, and
ends when told to or when the process that started it is gone.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugin_core.service import Service

log = logging.getLogger("thinkfamily.worker")

Target = Callable[["Service", Callable[[], bool]], None]


class WorkerProcess:
    """One child process running ``target`` (``module:function``) with a service of its own."""

    def __init__(self, target: str, config_path: Path, db_url: str, name: str) -> None:
        self.target = target
        self.config_path = config_path
        self.db_url = db_url
        self.name = name
        self._context = multiprocessing.get_context("spawn")
        self._stop: Event | None = None
        self._process: BaseProcess | None = None
        self.starts = 0

    def start(self) -> None:
        self._stop = self._context.Event()
        self._process = self._context.Process(
            target=_child,
            args=(self.target, str(self.config_path), self.db_url, os.getpid(), self._stop),
            name=self.name,
            daemon=True,
        )
        self._process.start()
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the child to finish its batch and end; end it after ``timeout`` if it has not."""
        if self._stop is not None:
            self._stop.set()
        process = self._process
        if process is None:
            return
        process.join(timeout)
        if process.is_alive():
            log.warning("worker process did not stop in time", extra={"worker": self.name})
            process.terminate()
            process.join(5)
        # Let go of the stop event with the process, so its semaphores are removed now and not
        # reported as leaked when the service exits.
        self._stop = self._process = None


def _child(target: str, config_path: str, db_url: str, parent: int, stop: Event) -> None:
    from plugin_core.logs import configure_logging
    from plugin_core.service import Service
    from plugin_core.settings.load import load_trust_config
    from plugin_core.store import open_store
    from plugin_core.store.audit_key import keys_for_service
    from plugin_core.store.backends import sqlite_path

    configure_logging()
    # Told to stop by the event; a signal to the whole process group (Ctrl-C, a service
    # manager stopping the unit) means the same, so the batch in hand is finished first.
    signalled: list[int] = []
    signal.signal(signal.SIGINT, lambda sig, frame: signalled.append(sig))
    signal.signal(signal.SIGTERM, lambda sig, frame: signalled.append(sig))
    module, _, name = target.partition(":")
    run: Target = getattr(importlib.import_module(module), name)
    config = load_trust_config(Path(config_path))
    keys = keys_for_service(os.environ, sqlite_path=sqlite_path(db_url)).keys
    store = open_store(db_url, audit_keys=keys, migrate=False)
    service = Service(config, store)
    try:
        run(service, lambda: bool(signalled) or stop.is_set() or os.getppid() != parent)
    finally:
        store.close()
