"""The HTTP application shell: health, the routes plugins contribute, one error shape.

Every route but ``/healthz`` and ``/metrics`` comes from a plugin through ``thinkfamily_http_routes``: the JSON
API (``adapters.api``), the clinician pages, CDS Hooks. Errors the shell answers itself (no
such path, wrong method, a fault) are FHIR OperationOutcomes, like the API's own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from plugin_core.contract import Listener
from plugin_core.errors import ThinkFamilyError
from plugin_core.formats.outcome import operation_outcome
from plugin_core.host.plugins import fault_fields, plugin_infos
from plugin_core.json_depth import text_deeper_than
from plugin_core.metrics_route import Metrics, Timed
from plugin_core.outbox import OutboxWorker
from plugin_core.route_index import IndexedRouter
from plugin_core.service import Health, Service

log = logging.getLogger("thinkfamily.http")

MAX_BODY = 1_000_000

MAX_DEPTH = 64
"""How deep arrays and objects may nest in a request body; real bodies nest a dozen deep."""


def build_app(service: Service, worker: OutboxWorker | None = None) -> Starlette:
    """The whole HTTP surface of one instance; starts the worker and listeners on startup."""
    listeners: list[Listener] = []

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        started: list[Listener] = []
        for listener in service.engine.hooks.listeners(service.context):
            try:
                await listener.start()
            except OSError as exc:
                # Say plainly which listener could not open its port, then stop what started.
                name = getattr(listener, "name", type(listener).__name__)  # a plugin's object
                log.error(
                    "listener cannot start",
                    extra={"listener": name, "reason": exc.strerror or str(exc)},
                )
                for other in reversed(started):
                    await other.stop()
                if worker is not None:
                    await run_in_threadpool(worker.stop)
                raise
            started.append(listener)
        listeners.extend(started)
        log.info("service started", extra={"instance": service.instance, "count": len(listeners)})
        try:
            yield
        finally:
            for listener in reversed(listeners):
                await listener.stop()
            if worker is not None:
                await run_in_threadpool(worker.stop)
            log.info("service stopped", extra={"instance": service.instance})

    health = _Health(service, worker, listeners)
    routes: list[BaseRoute] = [
        Route("/healthz", health.endpoint, methods=["GET"]),
        Route("/metrics", Metrics(service).endpoint, methods=["GET"]),
    ]
    routes += service.engine.hooks.http_routes(service.context)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(Timed)],
        exception_handlers={404: _not_found, 405: _not_allowed, 500: _server_error},
    )
    app.router = IndexedRouter(routes, lifespan=lifespan)  # as Starlette makes its own
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return _no_store(operation_outcome(404, "no such resource"))


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _no_store(operation_outcome(405, "method not allowed here", code="not-supported"))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("request failed", extra={"path": request.url.path, **fault_fields(exc)})
    return _no_store(
        operation_outcome(
            500, "internal error; nothing was recorded by this request", code="exception"
        )
    )


def _no_store(response: Response) -> Response:
    """The shell's own errors are never cached (they answer paths under /api and CDS Hooks)."""
    response.headers["Cache-Control"] = "no-store"
    return response


class JsonRefused(ThinkFamilyError, ValueError):
    """A body that is not JSON, or nests deeper than the limit; the message says which."""

    def __init__(self, reason: str, *, too_deep: bool = False, line: int | None = None) -> None:
        self.too_deep = too_deep
        self.line = line
        """Where the text stops being JSON, when the parser says."""
        super().__init__(reason)


def parse_json(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """JSON text parsed, refusing arrays and objects nested more than ``max_depth`` deep.

    Far deeper nesting exhausts the parser's recursion before any check could run; it is
    refused the same way, so no body can make a request fail with a 500.
    """
    too_deep = JsonRefused(f"body nests more than {max_depth} levels deep", too_deep=True)
    try:
        doc = json.loads(body)
    except RecursionError:
        raise too_deep from None
    except json.JSONDecodeError as exc:
        raise JsonRefused("body is not valid JSON", line=exc.lineno) from None
    except (ValueError, UnicodeDecodeError):  # a number of over 4,300 digits is a ValueError
        raise JsonRefused("body is not valid JSON") from None
    fast = text_deeper_than(body, max_depth) if isinstance(body, bytes) else None
    if fast if fast is not None else _deeper_than(doc, max_depth):
        raise too_deep
    return doc


def _deeper_than(doc: Any, limit: int) -> bool:
    """True when arrays and objects nest more than ``limit`` deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


async def read_json(request: Request, limit: int = MAX_BODY) -> dict[str, Any] | Response:
    """The request body as a JSON object, or the OperationOutcome explaining why not: 413
    over ``limit`` bytes, 400 when not JSON or nested more than ``MAX_DEPTH`` deep."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return operation_outcome(413, f"body is larger than {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return operation_outcome(413, f"body is larger than {limit} bytes")
    try:
        doc = parse_json(body)
    except JsonRefused as exc:
        code = "too-costly" if exc.too_deep else None
        return operation_outcome(400, str(exc), expression=["$"], code=code)
    if not isinstance(doc, dict):
        return operation_outcome(400, "body must be a JSON object", expression=["$"])
    return doc


class _Health:
    """``/healthz``: the database, the worker, the counters and the plugins loaded."""

    def __init__(
        self, service: Service, worker: OutboxWorker | None, listeners: list[Listener]
    ) -> None:
        self.service = service
        self.worker = worker
        self.listeners = listeners
        infos = plugin_infos(service.engine.pm)
        self.plugins = [{"name": info.name, "version": info.version} for info in infos]

    async def endpoint(self, request: Request) -> Response:
        try:
            found: Health | None = await run_in_threadpool(self.service.health)
        except Exception as exc:
            found = None
            log.warning("health check: database unavailable", extra={"error": type(exc).__name__})
        database_ok = found is not None and found.database_ok
        worker = self.worker.state() if self.worker else {"running": False}
        healthy = database_ok and (self.worker is None or worker["running"])
        listeners = _listener_health(self.listeners)
        degraded = any(v.get("status") == "degraded" for v in listeners.values())
        body: dict[str, Any] = {
            "status": ("degraded" if degraded else "ok") if healthy else "unavailable",
            "instance": self.service.instance,
            "database": {"backend": self.service.database_backend, "ok": database_ok},
            "worker": worker,
            "counters": found.counters if found else {},
            "plugins": self.plugins,
        }
        if listeners:
            body["listeners"] = listeners
        return JSONResponse(body, status_code=200 if healthy else 503)


def _listener_health(listeners: list[Listener]) -> dict[str, dict[str, Any]]:
    """Each started listener's own report, when it gives one (an optional ``health()``)."""
    found: dict[str, dict[str, Any]] = {}
    for listener in listeners:
        report = getattr(listener, "health", None)  # a plugin's object: optional
        if not callable(report):
            continue
        name = str(getattr(listener, "name", type(listener).__name__))
        try:
            state = report()
        except Exception as exc:
            log.warning(
                "listener health failed", extra={"listener": name, "error": type(exc).__name__}
            )
            state = {"status": "unknown"}
        if isinstance(state, dict):
            found[name] = state
    return found
