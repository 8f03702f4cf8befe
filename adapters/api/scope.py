"""Who the API answers for, and the check every call about one contact passes first.

The caller is whoever holds the API token: the trust's host system, acting for every ward and
team, as the CDS service and the HL7 feed do. The routes still name their caller and wrap each
endpoint about one contact (by its id, or by one of its referrals), so a caller limited to some
units is refused a contact outside them with 403, audited, before the endpoint reads anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from adapters.api.auth import Endpoint
from plugin_core.formats.outcome import operation_outcome
from plugin_core.service import Service
from plugin_core.service.scope import Reach, audit_refusal, reach

log = logging.getLogger("thinkfamily.api")

NOT_YOURS = "you do not have access to this patient's record"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls the API: ``who`` is recorded in the audit trail; ``scope`` is the wards and
    teams they may see, None for every one."""

    who: str
    scope: frozenset[str] | None = None


HOST = Caller("api")
"""The holder of the API token."""


class ContactCheck:
    """Wraps the endpoints of one caller that read or change one contact."""

    def __init__(self, service: Service, caller: Caller) -> None:
        self.service = service
        self.caller = caller

    def contact(self, endpoint: Endpoint) -> Endpoint:
        """For a route naming the contact: ``{contact_id}``."""

        async def checked(request: Request) -> Response:
            refused = await self._refused(request, request.path_params["contact_id"])
            return refused or await endpoint(request)

        return checked

    def referral(self, endpoint: Endpoint) -> Endpoint:
        """For a route naming one of the contact's referrals: ``{referral_id}``."""

        async def checked(request: Request) -> Response:
            refused = None
            if self.caller.scope is not None:
                found = await run_in_threadpool(
                    self.service.referral, request.path_params["referral_id"]
                )
                if found is not None:
                    refused = await self._refused(request, found.referral.contact_id)
            return refused or await endpoint(request)

        return checked

    async def _refused(self, request: Request, contact_id: str) -> Response | None:
        found = await run_in_threadpool(reach, self.service, contact_id, self.caller.scope)
        if found is not Reach.REFUSED:
            return None  # an unknown contact is the endpoint's 404, as for anyone
        route = request.scope.get("route")
        where = getattr(route, "path", "api")
        await run_in_threadpool(audit_refusal, self.service, self.caller.who, contact_id, where)
        log.info(
            "api call refused: contact outside the caller's units",
            extra={"contact_id": contact_id, "path": where},
        )
        return operation_outcome(403, NOT_YOURS, code="forbidden")
