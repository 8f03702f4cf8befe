"""Who may open the worklist and the dashboard, and which wards and teams they see.

Until sign-in with roles arrives, the caller is whoever holds the API bearer token (the trust's
``[api] token_env``), taken as an administrator. Pages receive a :class:`Caller`, so a guard
that reads the role and units from a session takes this one's place without touching them.
Every answer, refusals included, is ``no-store``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from enum import StrEnum

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from plugin_core.settings.config import TrustConfig


class Role(StrEnum):
    CLINICIAN = "clinician"
    UNIT_MEMBER = "unit_member"
    """A member of one or more wards or teams: the worklist of their units."""
    SAFEGUARDING_LEAD = "safeguarding_lead"
    ADMINISTRATOR = "administrator"


WORKLIST_ROLES = frozenset({Role.UNIT_MEMBER, Role.SAFEGUARDING_LEAD, Role.ADMINISTRATOR})
DASHBOARD_ROLES = frozenset({Role.SAFEGUARDING_LEAD, Role.ADMINISTRATOR})
_EVERY_UNIT = frozenset({Role.SAFEGUARDING_LEAD, Role.ADMINISTRATOR})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: an id for signed form links, a role, and their wards or teams."""

    id: str
    role: Role
    units: frozenset[str] = frozenset()


def scope(role: Role, units: Collection[str]) -> frozenset[str] | None:
    """The units a caller may see: every unit (None) for leads and administrators, else their
    own."""
    return None if role in _EVERY_UNIT else frozenset(units)


MIN_TOKEN_LENGTH = 32
"""As for the API: a shorter token could be guessed, and leaves these pages off."""

Page = Callable[[Request, Caller], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

TOKEN_HOLDER = Caller("api-token-holder", Role.ADMINISTRATOR)
"""The caller a valid bearer token stands for until sign-in arrives."""


def require_role(config: TrustConfig, roles: Collection[Role]) -> Callable[[Page], Endpoint]:
    """Wrap a page so it runs only for a caller with one of ``roles``: 401 without a valid
    bearer token, 403 with a role not allowed, 503 while no token is configured."""

    def guard(page: Page) -> Endpoint:
        async def guarded(request: Request) -> Response:
            found = _caller(config, request)
            if isinstance(found, Response):
                response = found
            elif found.role not in roles:
                response = PlainTextResponse("This page is not open to your role.", 403)
            else:
                response = await page(request, found)
            response.headers["Cache-Control"] = "no-store"
            return response

        return guarded

    return guard


def _caller(config: TrustConfig, request: Request) -> Caller | Response:
    expected = config.api_token
    if not expected or len(expected.strip()) < MIN_TOKEN_LENGTH:
        return PlainTextResponse(
            f"Switched off: set the {config.api_token_env} environment variable to a random value"
            f" of at least {MIN_TOKEN_LENGTH} characters.",
            503,
        )
    given = request.headers.get("authorization", "")
    if given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), expected.encode()):
        return TOKEN_HOLDER
    return PlainTextResponse(
        "Sign in to see this page.", 401, headers={"WWW-Authenticate": "Bearer"}
    )
