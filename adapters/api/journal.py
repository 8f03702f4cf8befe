"""``GET /api/journal/errors``: content errors found after messages were acknowledged on receipt
(HL7 with ``acknowledge = "on-receipt"``).

For the integrator, behind the API token: the message key (sending facility and MSH-10), when,
the outcome, the ACK code and the reason, never the message's values; and how many messages
are still waiting to be read.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.api.auth import bearer_guard
from plugin_core.journal import JournalError
from plugin_core.service import Service

MAX_LIMIT = 1000


def _shown(e: JournalError) -> dict[str, Any]:
    return {
        "id": e.id,
        "message_key": e.message_key,
        "received_at": e.received_at.isoformat(),
        "processed_at": e.processed_at.isoformat(),
        "outcome": e.outcome,
        "ack_code": e.ack_code,
        "code": e.code,
        "reason": e.reason,
        "segment": e.segment or None,
        "field": e.field or None,
    }


def journal_routes(service: Service) -> list[Route]:
    async def errors(request: Request) -> Response:
        raw = request.query_params.get("limit", "100")
        limit = min(int(raw), MAX_LIMIT) if raw.isdigit() and int(raw) > 0 else 100

        def read() -> dict[str, Any]:
            found = service.journal_errors(limit=limit)
            return {"pending": service.journal_depth(), "errors": [_shown(e) for e in found]}

        return JSONResponse(await run_in_threadpool(read))

    guard = bearer_guard(service.config)
    return [Route("/api/journal/errors", guard(errors), methods=["GET"])]
