"""``thinkfamily serve``: one process with HTTP, the outbox worker and adapter listeners.

uvicorn handles SIGTERM and SIGINT: it stops accepting, finishes requests in flight, then
the app's shutdown stops listeners and lets the worker finish its cycle. Last, the store is
closed (SQLite's write-ahead log folded into the database file), and the process then ends
by the signal it was sent, as before.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from plugin_core.contract import ServeOptions
from plugin_core.host.plugins import plugin_infos
from plugin_core.http import build_app
from plugin_core.logs import configure_logging
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service
from plugin_core.settings.config import TrustConfig
from plugin_core.store import Store, open_store
from plugin_core.store.audit_key import PREVIOUS_KEYS_ENV, AuditKeyError, keys_for_service
from plugin_core.store.backends import sqlite_path

log = logging.getLogger("thinkfamily.server")

DEFAULT_DB = "sqlite:///thinkfamily.db"


def serve(
    config: TrustConfig, *, db_url: str, host: str, http_port: int | None, mllp_port: int | None
) -> None:
    configure_logging()
    store = _open_sealed(db_url)
    with _closing(store):
        _run(config, store, host=host, http_port=http_port, mllp_port=mllp_port)


def _open_sealed(db_url: str) -> Store:
    """The store with the audit key it seals entries with; refuses a key that cannot continue
    the trail (its last entry sealed with a key not configured)."""
    found = keys_for_service(os.environ, sqlite_path=sqlite_path(db_url))
    if found.warning:
        log.warning("audit key beside the database", extra={"reason": found.warning})
    store = open_store(db_url, audit_keys=found.keys)
    head_key = store.audit_head_key()
    if head_key is not None and found.keys.find(head_key) is None:
        store.shutdown()
        raise AuditKeyError(
            f"the audit trail's last entry is sealed with audit key {head_key}, which is not"
            " configured: set THINKFAMILY_AUDIT_KEY to that key, or when changing keys name it"
            f" in {PREVIOUS_KEYS_ENV}"
        )
    key = found.keys.current
    sealing = f"entries sealed with audit key {key.id}" if key else "entries unkeyed"
    log.info("audit key", extra={"reason": sealing})
    return store


@contextmanager
def _closing(store: Store) -> Iterator[None]:
    """Close the store however serving ends. A signal stops start-up here; uvicorn raises the
    signal that stopped it again once it is done. Either way the store is closed first, then
    the process ends by that signal, as it would have without this."""
    caught: list[int] = []

    def stop(sig: int, frame: FrameType | None) -> None:
        caught.append(sig)
        raise SystemExit(128 + sig)

    signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, stop) for sig in signals}
    try:
        yield
    except SystemExit:
        if not caught:
            raise
    finally:
        store.shutdown()
        log.info("database closed", extra={"database": store.backend.name})
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for sig in caught[:1]:
        signal.signal(sig, signal.SIG_DFL)
        signal.raise_signal(sig)


def _run(
    config: TrustConfig,
    store: Store,
    *,
    host: str,
    http_port: int | None,
    mllp_port: int | None,
) -> None:
    options = ServeOptions(host, mllp_port if mllp_port is not None else config.mllp_port)
    service = Service(config, store, serve=options)
    worker = OutboxWorker(service)
    app = build_app(service, worker)
    port = http_port if http_port is not None else config.http_port
    log.info(
        "starting",
        extra={"port": port, "database": service.database_backend, "instance": service.instance},
    )
    log.info(
        "plugins loaded",
        extra={"plugins": [info.name for info in plugin_infos(service.engine.pm)]},
    )
    for issue in service.engine.plugin_issues:
        log.warning("plugin switch", extra={"reason": str(issue)})
    if config.api_token is None:
        log.warning(
            "API token not set: the JSON API will answer 503",
            extra={"reason": config.api_token_env},
        )
    # What start-up made lives as long as the process: set it aside from the collector, whose
    # full passes would otherwise walk it all again, pausing every request for tens of ms.
    gc.collect()
    gc.freeze()
    uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            access_log=False,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=20,
        )
    ).run()
