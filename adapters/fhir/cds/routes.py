"""Starlette routes of the CDS Hooks service, mounted by ``thinkfamily serve``.

Every call is authenticated (discovery included). Faults are answered with an
OperationOutcome: 400 malformed, 401 unauthenticated, 404 unknown service, 412 data the service
needs but cannot get, 413 too large, 415 not JSON. Patient data never reaches a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import requests
from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.fhir.cds.cards import build_cards, form_link
from adapters.fhir.cds.gather import BadPrefetch, DataUnavailable, gather
from adapters.fhir.cds.jwt_auth import Caller, CdsAuthError, CdsTokenVerifier
from adapters.fhir.cds.services import SERVICES, CdsService
from adapters.fhir.client import FhirClient
from adapters.fhir.errors import FhirBundleInvalid, FhirError
from adapters.fhir.mapping import contact_id_for, hook_instance_of, to_contact
from adapters.fhir.outbound import wire
from adapters.fhir.settings import FhirSettings
from plugin_core.contract import Accepted, ContactInvalid
from plugin_core.host.plugins import PluginContext
from plugin_core.http import JsonRefused, parse_json
from plugin_core.model import Assessment, FirstContact
from plugin_core.rules.clock import LONDON
from plugin_core.rules.levels import Threshold

log = logging.getLogger(__name__)

FEEDBACK_OUTCOMES = ("accepted", "overridden")

MAX_FEEDBACK_ITEMS = 50
"""Feedback items one call may carry (413 beyond): a service returns a few cards a call."""


class _Problem(FhirError):
    def __init__(self, status: int, code: str, text: str) -> None:
        self.status = status
        self.code = code
        self.text = text
        super().__init__(text)


def outcome(status: int, code: str, text: str, headers: dict[str, str] | None = None) -> Response:
    body = OperationOutcome(
        issue=[OperationOutcomeIssue(severity="error", code=code, diagnostics=text or None)]
    )
    return JSONResponse(
        wire(body), status_code=status, media_type="application/fhir+json", headers=headers
    )


class _AccessToken:
    """The EHR's own token for its FHIR server, passed in the hook request."""

    def __init__(self, token: str) -> None:
        self.token = token

    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def invalidate(self) -> None:
        return None


@dataclass
class CdsHooksApp:
    """State shared by the CDS Hooks routes: settings, token checks, assessment."""

    context: PluginContext
    settings: FhirSettings
    assess: Callable[[FirstContact, str, str], Accepted]
    """(contact, hook instance, encounter key) to the contact as the service recorded it."""

    def __post_init__(self) -> None:
        self.verifier = CdsTokenVerifier(self.settings, shared=lambda: self.context.service)
        self.session = requests.Session()
        self._trust_client = (
            FhirClient(self.settings, session=self.session) if self.settings.base_url else None
        )

    # Routes -----------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/cds-services", self._guard(self.discovery), methods=["GET"]),
            Route("/cds-services/{service_id}", self._guard(self.call), methods=["POST"]),
            Route(
                "/cds-services/{service_id}/feedback", self._guard(self.feedback), methods=["POST"]
            ),
        ]

    def _guard(
        self, handler: Callable[[Request, Caller], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            response = await answer(request)
            response.headers["Cache-Control"] = "no-store"  # cards and errors name a patient
            return response

        async def answer(request: Request) -> Response:
            try:
                # In a worker thread: key fetches and the shared replay check may block.
                caller = await run_in_threadpool(
                    self.verifier.verify, request.headers.get("authorization"), request.url.path
                )
            except CdsAuthError as exc:
                log.info("CDS Hooks call refused", extra={"reason": str(exc)})
                return outcome(
                    401, "login", str(exc), {"WWW-Authenticate": 'Bearer error="invalid_token"'}
                )
            try:
                return await handler(request, caller)
            except _Problem as problem:
                return outcome(problem.status, problem.code, problem.text)

        return endpoint

    async def discovery(self, request: Request, caller: Caller) -> Response:
        return JSONResponse({"services": [s.discovery() for s in SERVICES.values()]})

    async def call(self, request: Request, caller: Caller) -> Response:
        service = self._service(request)
        body = await self._json_body(request)
        return await run_in_threadpool(self._answer, service, body, caller)

    async def feedback(self, request: Request, caller: Caller) -> Response:
        service = self._service(request)
        body = await self._json_body(request)
        items = body.get("feedback")
        if not isinstance(items, list) or not items:
            raise _Problem(400, "required", "$.feedback: must be a non-empty list")
        if len(items) > MAX_FEEDBACK_ITEMS:
            raise _Problem(
                413,
                "too-costly",
                f"$.feedback: at most {MAX_FEEDBACK_ITEMS} items in one call; send the rest"
                " in another",
            )
        # One audit entry per card and outcome, however often the call repeats it.
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        for i, item in enumerate(items):
            card, details = _feedback_entry(item, i)
            entries.setdefault((card, details["outcome"]), details)
        port = self.context.service
        if port is None:
            raise _Problem(
                503, "transient", "feedback cannot be recorded: the service store is not running"
            )
        for (card, _), details in entries.items():
            details["service"] = service.id
            await run_in_threadpool(
                port.append_audit, "cds.feedback", f"{caller.iss}|{caller.sub}", card, details
            )
        log.info("CDS Hooks feedback recorded", extra={"count": len(entries)})
        return JSONResponse({}, status_code=200)

    # Work -------------------------------------------------------------------------------------

    def _service(self, request: Request) -> CdsService:
        service = SERVICES.get(request.path_params["service_id"])
        if service is None:
            raise _Problem(404, "not-found", "no CDS service with this id")
        return service

    async def _json_body(self, request: Request) -> dict[str, Any]:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in ("application/json", "application/fhir+json"):
            raise _Problem(415, "not-supported", "the body must be application/json")
        limit = self.settings.cds_max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _Problem(413, "too-costly", f"the body is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _Problem(413, "too-costly", f"the body is larger than {limit} bytes")
            chunks.append(chunk)
        try:
            body = parse_json(b"".join(chunks))
        except JsonRefused as exc:
            if exc.too_deep:
                raise _Problem(400, "too-costly", f"$: {exc}") from None
            where = f" (line {exc.line})" if exc.line else ""
            raise _Problem(400, "invalid", f"$: not valid JSON{where}") from None
        if not isinstance(body, dict):
            raise _Problem(400, "structure", "$: must be an object")
        return body

    def _threshold(self, assessment: Assessment) -> Threshold | None:
        """The matched authority's level-of-need wording, when the directory holds it."""
        found = assessment.authority.authority
        entry = self.context.config.directory.get(found.id) if found is not None else None
        return entry.threshold if entry is not None else None

    def _client_for(self, body: dict[str, Any]) -> FhirClient | None:
        server = body.get("fhirServer")
        auth = body.get("fhirAuthorization")
        if (
            isinstance(server, str)
            and self.settings.base_url
            and server.rstrip("/") == self.settings.base_url
            and isinstance(auth, dict)
            and isinstance(auth.get("access_token"), str)
        ):
            return FhirClient(
                self.settings, session=self.session, auth=_AccessToken(auth["access_token"])
            )
        return self._trust_client

    def _answer(self, service: CdsService, body: dict[str, Any], caller: Caller) -> Response:
        if body.get("hook") != service.hook:
            raise _Problem(400, "invalid", f"$.hook: must be {service.hook} for this service")
        hook_instance = body.get("hookInstance")
        if not isinstance(hook_instance, str) or not hook_instance:
            raise _Problem(400, "required", "$.hookInstance: is required")
        context = body.get("context")
        if not isinstance(context, dict):
            raise _Problem(400, "required", "$.context: must be an object")
        patient_id = context.get("patientId")
        if not isinstance(patient_id, str) or not patient_id or ":" in patient_id:
            raise _Problem(400, "required", "$.context.patientId: must be a FHIR id")
        encounter_id = context.get("encounterId")
        if encounter_id is not None and (not isinstance(encounter_id, str) or ":" in encounter_id):
            raise _Problem(400, "invalid", "$.context.encounterId: must be a FHIR id")
        if service.hook == "encounter-start" and not encounter_id:
            raise _Problem(
                400, "required", "$.context.encounterId: is required for encounter-start"
            )
        prefetch = body.get("prefetch") or {}
        if not isinstance(prefetch, dict):
            raise _Problem(400, "structure", "$.prefetch: must be an object")
        try:
            record = gather(prefetch, patient_id, encounter_id, self._client_for(body))
            contact = to_contact(
                record,
                self.context.config.code_lists,
                contact_id=contact_id_for(patient_id, encounter_id, hook_instance),
            )
        except BadPrefetch as exc:
            raise _Problem(400, "invalid", str(exc)) from None
        except DataUnavailable as exc:
            log.info("CDS Hooks call lacks data", extra={"hook": service.id, "reason": str(exc)})
            raise _Problem(
                412, "not-found", f"{exc} is neither prefetched nor readable from a FHIR server"
            ) from None
        except (FhirBundleInvalid, ContactInvalid) as exc:
            raise _Problem(400, "invalid", str(exc)) from None
        accepted = self.assess(contact, hook_instance, encounter_key(contact, encounter_id))
        # A contact answered again keeps the cards it was first shown with, uuids included.
        first_instance = hook_instance_of(accepted.contact_id) or hook_instance
        cards = build_cards(
            replace(accepted.assessment, prompts=accepted.prompts_to_show),
            self.settings,
            hook_instance=first_instance,
            patient_id=patient_id,
            encounter_id=encounter_id,
            signed_form_link=form_link(
                self.context.config, accepted.contact_id, context.get("userId")
            ),
            threshold=self._threshold(accepted.assessment),
        )
        port = self.context.service
        if port is not None and cards:
            port.append_audit(
                "cds.cards",
                f"{caller.iss}|{caller.sub}",
                accepted.contact_id,
                {
                    "service": service.id,
                    "cards": [c["uuid"] for c in cards],
                    "prompts": [p.code.value for p in accepted.prompts_to_show],
                    "reused": accepted.reused,
                },
            )
        if accepted.suppressed_by is not None:
            log.info(
                "CDS Hooks answered with no cards: a decision is within its re-check period",
                extra={"hook": service.id, "decision_id": accepted.suppressed_by},
            )
        else:
            log.info("CDS Hooks answered", extra={"hook": service.id, "count": len(cards)})
        return JSONResponse({"cards": cards})


def encounter_key(contact: FirstContact, encounter_id: str | None) -> str:
    """What makes two CDS calls for one adult the same encounter, for reusing its contact.

    The EHR's ``encounterId`` when the context has one; otherwise the calendar day of the
    contact in Europe/London, so a chart opened again the same day counts as the same visit.
    """
    if encounter_id:
        return f"encounter:{encounter_id}"
    return f"day:{contact.occurred_at.astimezone(LONDON).date().isoformat()}"


def _feedback_entry(item: Any, i: int) -> tuple[str, dict[str, Any]]:
    path = f"$.feedback[{i}]"
    if not isinstance(item, dict):
        raise _Problem(400, "structure", f"{path}: must be an object")
    card = item.get("card")
    if not isinstance(card, str) or not card:
        raise _Problem(400, "required", f"{path}.card: is required")
    result = item.get("outcome")
    if result not in FEEDBACK_OUTCOMES:
        raise _Problem(400, "invalid", f"{path}.outcome: must be accepted or overridden")
    details: dict[str, Any] = {"outcome": result}
    timestamp = item.get("outcomeTimestamp")
    if isinstance(timestamp, str):
        details["at"] = timestamp[:40]
    if result == "accepted":
        accepted = item.get("acceptedSuggestions") or []
        if not isinstance(accepted, list):
            raise _Problem(400, "structure", f"{path}.acceptedSuggestions: must be a list")
        details["accepted_suggestions"] = [
            str(s.get("id"))[:64] for s in accepted if isinstance(s, dict) and s.get("id")
        ]
    else:
        reason = item.get("overrideReason") or {}
        if not isinstance(reason, dict):
            raise _Problem(400, "structure", f"{path}.overrideReason: must be an object")
        coding = reason.get("reason") or {}
        if isinstance(coding, dict):
            details["override_reason"] = str(coding.get("code", ""))[:64]
            details["override_system"] = str(coding.get("system", ""))[:200]
        # The free-text comment may name people, so only its presence is recorded.
        details["comment_given"] = bool(reason.get("userComment"))
    return card, details
