"""``/metrics`` and the timing of every HTTP request by its route template.

By default ``/metrics`` answers only a caller holding the API token (``Authorization: Bearer``),
like the JSON API: the figures say how busy a ward's systems are. ``[api] metrics =
"loopback"`` lets a scraper on the same machine in without it; others still need the token.
"""

from __future__ import annotations

import hmac
import logging
import re
from time import perf_counter
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plugin_core import metrics
from plugin_core.formats.outcome import operation_outcome
from plugin_core.service import Service

log = logging.getLogger("thinkfamily.http")

LOOPBACK = frozenset({"127.0.0.1", "::1"})
MIN_TOKEN_LENGTH = 32
UNMATCHED = "unmatched"
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")


def label_of(template: str) -> str:
    """A route template as a label, without its convertors: ``/form/{contact_id:path}`` is
    counted as ``/form/{contact_id}``, so a route can change convertor under the same label."""
    return _CONVERTOR.sub(r"{\1}", template)


class Timed:
    """ASGI middleware: each HTTP request's time, labelled by the template of the route that
    answered it (``/cds-services/{service_id}``), never by its path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None)
            template = label_of(route) if isinstance(route, str) and route else UNMATCHED
            metrics.observe_request(scope["method"], template, status[0], perf_counter() - started)


class Metrics:
    """The ``/metrics`` endpoint of one instance."""

    def __init__(self, service: Service) -> None:
        self.service = service
        access: Any = service.config.section("api").get("metrics", "token")
        self.loopback_open = access == "loopback"

    async def endpoint(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            refused.headers["Cache-Control"] = "no-store"
            return refused
        try:
            gauges = await run_in_threadpool(self.service.gauges)
        except Exception as exc:  # the process's own figures are still worth having
            gauges = {}
            log.warning("metrics: database unavailable", extra={"error": type(exc).__name__})
        return Response(
            metrics.scrape(gauges),
            media_type=metrics.CONTENT_TYPE_LATEST,
            headers={"Cache-Control": "no-store"},
        )

    def _refused(self, request: Request) -> Response | None:
        if self.loopback_open and request.client is not None and request.client.host in LOOPBACK:
            return None
        config = self.service.config
        expected = config.api_token
        if expected is None or len(expected.strip()) < MIN_TOKEN_LENGTH:
            return operation_outcome(
                503,
                f"metrics need the API token: set the {config.api_token_env} environment"
                " variable to one of 32 characters or more",
            )
        given = request.headers.get("authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(
            given[7:].encode(), expected.encode()
        ):
            return None
        response = operation_outcome(401, "a valid bearer token is required")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
