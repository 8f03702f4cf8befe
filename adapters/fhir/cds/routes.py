"""Starlette routes of the CDS Hooks service, mounted by ``thinkfamily serve``.

Every call is authenticated (discovery included). Faults are answered with an
OperationOutcome (see :mod:`adapters.fhir.cds.problems`). The event loop only reads the body;
the rest of a call (the token, parsing, the assessment and its one transaction) runs in one
worker thread, so a call crosses between the loop and the pool once. Patient data never
reaches a log line.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import requests
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.fhir.cds.answers import RepeatAnswers, cards_note
from adapters.fhir.cds.cards import build_cards, form_link
from adapters.fhir.cds.feedback import feedback_entries
from adapters.fhir.cds.gather import BadPrefetch, DataUnavailable, gather
from adapters.fhir.cds.handoff import in_thread
from adapters.fhir.cds.jwt_auth import REPLAYED, CdsAuthError, CdsTokenVerifier
from adapters.fhir.cds.problems import CdsProblem, refused
from adapters.fhir.cds.repeat import RepeatContacts
from adapters.fhir.cds.request import HookCall, Received, hook_call, json_object, receive
from adapters.fhir.cds.services import SERVICES, CdsService
from adapters.fhir.cds.signatures import SignatureWorkers
from adapters.fhir.client import FhirClient
from adapters.fhir.errors import FhirBundleInvalid
from adapters.fhir.mapping import contact_id_for, hook_instance_of, to_contact
from adapters.fhir.settings import FhirSettings
from plugin_core.contract import Accepted, ContactInvalid
from plugin_core.host.plugins import PluginContext
from plugin_core.model import Assessment, FirstContact
from plugin_core.rules.clock import LONDON
from plugin_core.rules.levels import Threshold

log = logging.getLogger(__name__)


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
    """(contact, hook instance, encounter key) to the contact as recorded; used when the
    service has no store (its calls' tokens are then remembered in this process only)."""

    def __post_init__(self) -> None:
        # Calls do their CPU work a few at a time: twenty threads at once only contend for the
        # interpreter lock, and starve the thread holding the database's write lock of it.
        self._cpu = threading.BoundedSemaphore(os.cpu_count() or 2)
        processes = self.settings.cds_signature_processes
        self.verifier = CdsTokenVerifier(
            self.settings,
            shared=lambda: self.context.service,
            workers=SignatureWorkers(processes) if processes else None,
        )
        self.session = requests.Session()
        self._repeat = RepeatContacts()
        self._answers = RepeatAnswers()
        self._trust_client = (
            FhirClient(self.settings, session=self.session) if self.settings.base_url else None
        )

    def routes(self) -> list[Route]:
        return [
            Route("/cds-services", self._endpoint(self._discovery), methods=["GET"]),
            Route("/cds-services/{service_id}", self._endpoint(self._call), methods=["POST"]),
            Route(
                "/cds-services/{service_id}/feedback",
                self._endpoint(self._feedback),
                methods=["POST"],
            ),
        ]

    def _endpoint(self, work: Callable[[Received], Response]) -> Any:
        async def endpoint(request: Request) -> Response:
            received = await receive(request, self.settings.cds_max_body_bytes)
            response = await in_thread(work, received)
            response.headers["Cache-Control"] = "no-store"  # cards and errors name a patient
            return response

        return endpoint

    # In a worker thread: key fetches, FHIR reads and the database may block -------------------

    def _discovery(self, received: Received) -> Response:
        try:
            self.verifier.verify(received.authorization, received.path)
        except CdsAuthError as exc:
            return _refused(exc)
        return JSONResponse({"services": [s.discovery() for s in SERVICES.values()]})

    def _feedback(self, received: Received) -> Response:
        try:
            caller = self.verifier.verify(received.authorization, received.path)
        except CdsAuthError as exc:
            return _refused(exc)
        try:
            service = _service(received.service_id)
            entries = feedback_entries(json_object(received.body))
            port = self.context.service
            if port is None:
                raise CdsProblem(
                    503,
                    "transient",
                    "feedback cannot be recorded: the service store is not running",
                )
        except CdsProblem as problem:
            return problem.response()
        for (card, _), details in entries.items():
            details["service"] = service.id
            port.append_audit("cds.feedback", f"{caller.iss}|{caller.sub}", card, details)
        log.info("CDS Hooks feedback recorded", extra={"count": len(entries)})
        return JSONResponse({}, status_code=200)

    def _call(self, received: Received) -> Response:
        try:
            caller = self.verifier.check(received.authorization, received.path)
        except CdsAuthError as exc:
            return _refused(exc)
        try:
            service = _service(received.service_id)
            raw = received.body
            if isinstance(raw, CdsProblem):  # too large, or not JSON by its media type
                raise raw
            with self._cpu:
                call = hook_call(json_object(raw), service)
            contact = self._contact(service, call, raw)
        except CdsProblem as problem:
            try:  # the token is spent by a refused call too, and a replay is still a 401
                self.verifier.spend(caller)
            except CdsAuthError as exc:
                return _refused(exc)
            return problem.response()
        key = encounter_key(contact, call.encounter_id)
        port = self.context.service
        if port is None:
            try:
                self.verifier.remember_here(caller)
            except CdsAuthError as exc:
                return _refused(exc)
            accepted = self.assess(contact, call.hook_instance, key)
        else:
            found = port.accept_hook_call(
                contact,
                once_key=caller.once_key,
                once_until=caller.until_at,
                message_key=f"cds:{call.hook_instance}",
                encounter_key=key,
                audit=lambda a: cards_note(a, caller, service, call.hook_instance),
            )
            if found is None:
                return _refused(CdsAuthError(REPLAYED))
            accepted = found
        with self._cpu:
            return self._answer(service, call, accepted)

    def _contact(self, service: CdsService, call: HookCall, raw: bytes) -> FirstContact:
        try:
            record = gather(  # may read from the FHIR server
                call.prefetch, call.patient_id, call.encounter_id, self._client_for(call.body)
            )
            code_lists = self.context.config.code_lists
            contact_id = contact_id_for(call.patient_id, call.encounter_id, call.hook_instance)
            with self._cpu:
                return self._repeat.contact(
                    raw,
                    call.hook_instance,
                    call.prefetch,
                    record,
                    code_lists,
                    contact_id,
                    lambda: to_contact(record, code_lists, contact_id=contact_id),
                )
        except BadPrefetch as exc:
            raise CdsProblem(400, "invalid", str(exc)) from None
        except DataUnavailable as exc:
            log.info("CDS Hooks call lacks data", extra={"hook": service.id, "reason": str(exc)})
            raise CdsProblem(
                412, "not-found", f"{exc} is neither prefetched nor readable from a FHIR server"
            ) from None
        except (FhirBundleInvalid, ContactInvalid) as exc:
            raise CdsProblem(400, "invalid", str(exc)) from None

    def _answer(self, service: CdsService, call: HookCall, accepted: Accepted) -> Response:
        # A contact answered again keeps the cards it was first shown with, uuids included.
        first_instance = hook_instance_of(accepted.contact_id) or call.hook_instance
        shown = accepted.assessment
        if accepted.suppressed_by is not None:  # otherwise every prompt is shown as assessed
            shown = replace(shown, prompts=accepted.prompts_to_show)
        link = form_link(self.context.config, accepted.contact_id, call.context.get("userId"))
        threshold = self._threshold(accepted.assessment)
        answer = self._answers.answer(
            shown,
            threshold,
            (first_instance, call.patient_id, call.encounter_id, link),
            lambda: build_cards(
                shown,
                self.settings,
                hook_instance=first_instance,
                patient_id=call.patient_id,
                encounter_id=call.encounter_id,
                signed_form_link=link,
                threshold=threshold,
            ),
        )
        if accepted.suppressed_by is not None:
            log.info(
                "CDS Hooks answered with no cards: a decision is within its re-check period",
                extra={"hook": service.id, "decision_id": accepted.suppressed_by},
            )
        else:
            log.info("CDS Hooks answered", extra={"hook": service.id, "count": answer.cards})
        return Response(answer.body, media_type="application/json")

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


def _service(service_id: str) -> CdsService:
    service = SERVICES.get(service_id)
    if service is None:
        raise CdsProblem(404, "not-found", "no CDS service with this id")
    return service


def _refused(exc: CdsAuthError) -> Response:
    log.info("CDS Hooks call refused", extra={"reason": str(exc)})
    return refused(exc)


def encounter_key(contact: FirstContact, encounter_id: str | None) -> str:
    """What makes two CDS calls for one adult the same encounter, for reusing its contact.

    The EHR's ``encounterId`` when the context has one; otherwise the calendar day of the
    contact in Europe/London, so a chart opened again the same day counts as the same visit.
    """
    if encounter_id:
        return f"encounter:{encounter_id}"
    return f"day:{contact.occurred_at.astimezone(LONDON).date().isoformat()}"
