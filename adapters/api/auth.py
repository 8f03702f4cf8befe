"""The API's bearer token: read from the environment variable the trust names, compared in
constant time; with none set, every call answers 503 saying which variable to set."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from plugin_core.formats.outcome import operation_outcome
from plugin_core.settings.trust_config import TrustConfig

Endpoint = Callable[[Request], Awaitable[Response]]


def bearer_guard(config: TrustConfig) -> Callable[[Endpoint], Endpoint]:
    """Wrap an endpoint so it runs only for a caller holding the API token."""

    def guard(endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            expected = config.api_token
            if expected is None:
                return operation_outcome(
                    503,
                    f"the API is off: set the {config.api_token_env} environment variable to a bearer token",
                )
            given = request.headers.get("authorization", "")
            if not given.startswith("Bearer ") or not hmac.compare_digest(
                given[7:].encode(), expected.encode()
            ):
                response = operation_outcome(401, "a valid bearer token is required")
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
            return await endpoint(request)

        return guarded

    return guard
