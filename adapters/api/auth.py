"""The API's bearer token: read from the environment variable the trust names, compared in
constant time; with none set, every call answers 503 saying which variable to set. A token
shorter than 32 characters is refused at start-up and by ``config check``, and the API stays
off while one is set. Every answer is ``Cache-Control: no-store``: it may hold patient data."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from plugin_core.formats.outcome import operation_outcome
from plugin_core.settings.trust_config import ConfigIssue, TrustConfig

Endpoint = Callable[[Request], Awaitable[Response]]

MIN_TOKEN_LENGTH = 32
"""Long enough not to be guessed: 32 random characters (``openssl rand -hex 16`` gives 32)."""


def token_problem(config: TrustConfig) -> ConfigIssue | None:
    """The fault in the API token set, or None; the token itself is never part of it."""
    token = config.api_token
    if token is None or len(token.strip()) >= MIN_TOKEN_LENGTH:
        return None
    return ConfigIssue(
        str(config.path),
        "api.token_env",
        f"the token in {config.api_token_env} is shorter than {MIN_TOKEN_LENGTH} characters;"
        " set a longer random one",
    )


def bearer_guard(config: TrustConfig) -> Callable[[Endpoint], Endpoint]:
    """Wrap an endpoint so it runs only for a caller holding the API token."""

    def guard(endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            response = await _answer(request)
            response.headers["Cache-Control"] = "no-store"
            return response

        async def _answer(request: Request) -> Response:
            expected = config.api_token
            if expected is None:
                return operation_outcome(
                    503,
                    f"the API is off: set the {config.api_token_env} environment variable to a bearer token",
                )
            if token_problem(config) is not None:
                return operation_outcome(
                    503,
                    f"the API is off: the token in {config.api_token_env} is shorter than"
                    f" {MIN_TOKEN_LENGTH} characters",
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
