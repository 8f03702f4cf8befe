"""``thinkfamily serve``: one process with HTTP, the outbox worker and adapter listeners.

uvicorn handles SIGTERM and SIGINT: it stops accepting, finishes requests in flight, then
the app's shutdown stops listeners and lets the worker finish its cycle.
"""

from __future__ import annotations

import logging

import uvicorn

from plugin_core.contract import ServeOptions
from plugin_core.host.plugins import plugin_infos
from plugin_core.http import build_app
from plugin_core.logs import configure_logging
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service
from plugin_core.settings.config import TrustConfig
from plugin_core.store import open_store

log = logging.getLogger("thinkfamily.server")

DEFAULT_DB = "sqlite:///thinkfamily.db"


def serve(
    config: TrustConfig, *, db_url: str, host: str, http_port: int | None, mllp_port: int | None
) -> None:
    configure_logging()
    store = open_store(db_url)
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
