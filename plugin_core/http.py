"""The HTTP application: health, the JSON API for hosts without CDS Hooks, and plugin routes.

API errors are FHIR OperationOutcomes. The API needs a bearer token read from the environment
variable the trust configuration names; with none set, the API answers 503 and says why.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from plugin_core.contract import Accepted, ContactInvalid, Listener
from plugin_core.formats import serialise
from plugin_core.formats.contact_json import assessment_to_dict, contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.formats.outcome import operation_outcome, outcome_of
from plugin_core.formats.referral_document import DOCUMENT_TYPE, referral_pdf
from plugin_core.host.plugins import plugin_infos
from plugin_core.model import DecisionEscalation, ReferralAction
from plugin_core.outbox import OutboxWorker
from plugin_core.rules.decide import DecisionInvalid
from plugin_core.service import DuplicateDecision, Service, UnknownContact, UnknownReferral
from plugin_core.store.base import StoredReferral

log = logging.getLogger("thinkfamily.http")

MAX_BODY = 1_000_000
Endpoint = Callable[[Request], Awaitable[Response]]


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

    api = _Api(service, worker)
    routes: list[BaseRoute] = [
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/api/contacts", api.guard(api.list_contacts), methods=["GET"]),
        Route("/api/contacts", api.guard(api.post_contact), methods=["POST"]),
        Route("/api/contacts/{contact_id}", api.guard(api.get_contact), methods=["GET"]),
        Route(
            "/api/contacts/{contact_id}/decision", api.guard(api.post_decision), methods=["POST"]
        ),
        Route("/api/referrals/{referral_id}", api.guard(api.get_referral), methods=["GET"]),
        Route(
            "/api/referrals/{referral_id}/document",
            api.guard(referral_document(service)),
            methods=["GET"],
        ),
        Route(
            "/api/referrals/{referral_id}/acknowledge", api.guard(api.acknowledge), methods=["POST"]
        ),
        Route(
            "/api/referrals/{referral_id}/update",
            api.guard(api.amend(ReferralAction.UPDATE)),
            methods=["POST"],
        ),
        Route(
            "/api/referrals/{referral_id}/cancel",
            api.guard(api.amend(ReferralAction.CANCEL)),
            methods=["POST"],
        ),
        Route("/api/escalations", api.guard(api.escalations), methods=["GET"]),
        Route("/api/decision-escalations", api.guard(api.decision_escalations), methods=["GET"]),
    ]
    routes += service.engine.hooks.http_routes(service.context)
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_allowed, 500: _server_error},
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    return operation_outcome(404, "no such resource")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return operation_outcome(405, "method not allowed here", code="not-supported")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("request failed", extra={"path": request.url.path, "error": type(exc).__name__})
    return operation_outcome(
        500, "internal error; nothing was recorded by this request", code="exception"
    )


async def read_json(request: Request, limit: int = MAX_BODY) -> dict[str, Any] | Response:
    """The request body as a JSON object, or the OperationOutcome explaining why not."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return operation_outcome(413, f"body is larger than {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return operation_outcome(413, f"body is larger than {limit} bytes")
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return operation_outcome(400, "body is not valid JSON", expression=["$"])
    if not isinstance(doc, dict):
        return operation_outcome(400, "body must be a JSON object", expression=["$"])
    return doc


def referral_document(service: Service) -> Endpoint:
    """``GET /api/referrals/{id}/document``: the referral document (PDF), never cached.

    Each download is an audit entry: the document holds the children's and the adult's details.
    """

    async def endpoint(request: Request) -> Response:
        referral_id = request.path_params["referral_id"]
        try:
            content = await run_in_threadpool(service.referral_content, referral_id)
        except UnknownReferral:
            return operation_outcome(404, "no referral with that id")
        if content is None:
            return operation_outcome(
                404, "the contact or decision behind this referral is not stored"
            )
        document = await run_in_threadpool(referral_pdf, content)
        await run_in_threadpool(
            service.append_audit, "referral.document", "api", content.referral_id, {}
        )
        return Response(
            document,
            media_type=DOCUMENT_TYPE,
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="referral-{content.referral_id}.pdf"',
            },
        )

    return endpoint


class _Api:
    def __init__(self, service: Service, worker: OutboxWorker | None) -> None:
        self.service = service
        self.worker = worker
        infos = plugin_infos(service.engine.pm)
        self.plugins = [{"name": info.name, "version": info.version} for info in infos]

    def guard(self, endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            expected = self.service.config.api_token
            if expected is None:
                return operation_outcome(
                    503,
                    f"the API is off: set the {self.service.config.api_token_env} environment variable to a bearer token",
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

    async def healthz(self, request: Request) -> Response:
        try:
            database_ok = await run_in_threadpool(self.service.store.ping)
            counters = await run_in_threadpool(self.service.store.counters)
        except Exception as exc:
            database_ok, counters = False, {}
            log.warning("health check: database unavailable", extra={"error": type(exc).__name__})
        worker = self.worker.state() if self.worker else {"running": False}
        healthy = database_ok and (self.worker is None or worker["running"])
        body = {
            "status": "ok" if healthy else "unavailable",
            "instance": self.service.instance,
            "database": {"backend": self.service.store.backend.name, "ok": database_ok},
            "worker": worker,
            "counters": counters,
            "plugins": self.plugins,
        }
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def list_contacts(self, request: Request) -> Response:
        state = request.query_params.get("state") or None
        try:
            limit = min(500, int(request.query_params.get("limit", "100")))
        except ValueError:
            return operation_outcome(400, "limit must be a whole number", expression=["limit"])
        rows = await run_in_threadpool(
            lambda: self.service.store.list_contacts(state=state, limit=limit)
        )
        return JSONResponse(
            {
                "contacts": [
                    {
                        "id": r.id,
                        "received_at": r.received_at.isoformat(),
                        "state": r.state,
                        "top_severity": r.top_severity,
                        "prompts": list(r.prompt_codes),
                        "children": len(r.assessment.children),
                        "relies_on": r.relies_on,
                    }
                    for r in rows
                ]
            }
        )

    async def post_contact(self, request: Request) -> Response:
        doc = await read_json(request)
        if isinstance(doc, Response):
            return doc
        try:
            contact = contact_from_dict(doc, self.service.config.code_lists)
        except ContactInvalid as exc:
            return operation_outcome(400, str(exc))
        contact = replace(contact, source="api")
        accepted = await run_in_threadpool(lambda: self.service.accept_contact(contact))
        shown = replace(accepted.assessment, prompts=accepted.prompts_to_show)
        body = assessment_to_dict(shown) | {
            "duplicate": accepted.duplicate,
            "prompts_suppressed": _suppressed(accepted),
            "changed_since_decision": list(accepted.changes),
        }
        return JSONResponse(body, status_code=200 if accepted.duplicate else 201)

    async def get_contact(self, request: Request) -> Response:
        contact_id = request.path_params["contact_id"]

        def load() -> dict[str, Any] | None:
            stored = self.service.store.get_contact(contact_id)
            if stored is None:
                return None
            return {
                "id": stored.id,
                "state": stored.state,
                "relies_on": stored.relies_on,
                "assessment": assessment_to_dict(stored.assessment),
                "decisions": [
                    {
                        "id": d.id,
                        "share": d.share,
                        "level_of_need": d.level_of_need,
                        "decided_at": d.decided_at.isoformat(),
                    }
                    for d in self.service.store.get_decisions(contact_id)
                ],
                "referrals": [
                    _referral_dict(r)
                    for r in self.service.store.list_referrals(contact_id=contact_id)
                ],
                "decision_escalations": [
                    _escalation_dict(e)
                    for e in self.service.store.list_decision_escalations(contact_id=contact_id)
                ],
            }

        body = await run_in_threadpool(load)
        if body is None:
            return operation_outcome(404, "no contact with that id")
        return JSONResponse(body)

    async def post_decision(self, request: Request) -> Response:
        doc = await read_json(request)
        if isinstance(doc, Response):
            return doc
        contact_id = request.path_params["contact_id"]
        try:
            decision = decision_from_dict(doc, contact_id=contact_id, now=self.service.clock())
            recorded = await run_in_threadpool(lambda: self.service.record_decision(decision))
        except DecisionInvalid as exc:
            return outcome_of(422, [(p.field, p.reason) for p in exc.problems])
        except UnknownContact:
            return operation_outcome(404, "no contact with that id")
        except DuplicateDecision:
            return operation_outcome(409, "a decision with this id is already recorded")
        return JSONResponse(
            {
                "decision_id": recorded.decision.id,
                "referrals": [
                    {
                        "id": r.id,
                        "route": r.route.value,
                        "authority": r.authority_id,
                        "urgent": r.urgent,
                        "idempotency_key": r.idempotency_key,
                    }
                    for r in recorded.referrals
                ],
                "escalations": [_escalation_dict(e) for e in recorded.escalations],
            },
            status_code=201,
        )

    async def get_referral(self, request: Request) -> Response:
        found = await run_in_threadpool(
            lambda: self.service.store.get_referral(request.path_params["referral_id"])
        )
        if found is None:
            return operation_outcome(404, "no referral with that id")
        return JSONResponse(_referral_dict(found))

    async def acknowledge(self, request: Request) -> Response:
        doc = await read_json(request)
        if isinstance(doc, Response):
            return doc
        by, how = doc.get("by"), doc.get("how", "")
        if not isinstance(by, str) or not by.strip():
            return outcome_of(422, [("by", "say who confirmed the referral was received")])
        if not isinstance(how, str):
            return outcome_of(422, [("how", "must be text")])
        referral_id = request.path_params["referral_id"]
        found = await run_in_threadpool(
            lambda: self.service.acknowledge_referral(referral_id, by=by, note=how)
        )
        if found is None:
            return operation_outcome(404, "no referral with that id")
        return JSONResponse(_referral_dict(found))

    def amend(self, action: ReferralAction) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            doc = await read_json(request)
            if isinstance(doc, Response):
                return doc
            by, reasons, change_id = doc.get("by"), doc.get("reasons"), doc.get("id")
            problems = []
            if not isinstance(by, str) or not by.strip():
                problems.append(("by", "say who is changing the referral"))
            if not isinstance(reasons, str) or not reasons.strip():
                problems.append(("reasons", "say why the referral is changed"))
            if change_id is not None and not isinstance(change_id, str):
                problems.append(("id", "must be text"))
            if problems:
                return outcome_of(422, problems)
            referral_id = request.path_params["referral_id"]
            by, reasons = str(by), str(reasons)
            try:
                change = await run_in_threadpool(
                    lambda: self.service.amend_referral(
                        referral_id,
                        action=action,
                        amendment_id=change_id or secrets.token_hex(8),
                        by=by,
                        reasons=reasons,
                    )
                )
            except UnknownReferral:
                return operation_outcome(404, "no referral with that id")
            except DecisionInvalid as exc:
                return outcome_of(422, [(p.field, p.reason) for p in exc.problems])
            if change is None:
                return JSONResponse({"withdrawn": referral_id, "sent": None}, status_code=200)
            return JSONResponse(
                {
                    "withdrawn": None,
                    "sent": {
                        "id": change.id,
                        "action": change.action.value,
                        "amends": change.amends,
                    },
                },
                status_code=202,
            )

        return endpoint

    async def escalations(self, request: Request) -> Response:
        rows = await run_in_threadpool(self.service.store.list_referrals)
        waiting = [r for r in rows if r.prompt is not None and r.status.value != "acknowledged"]
        return JSONResponse({"escalations": [_referral_dict(r) for r in waiting]})

    async def decision_escalations(self, request: Request) -> Response:
        """Decisions not to share put before a safeguarding lead, newest first."""
        contact_id = request.query_params.get("contact_id") or None
        try:
            limit = min(500, int(request.query_params.get("limit", "100")))
        except ValueError:
            return operation_outcome(400, "limit must be a whole number", expression=["limit"])
        if limit < 1:
            return operation_outcome(400, "limit must be 1 or more", expression=["limit"])
        rows = await run_in_threadpool(
            lambda: self.service.store.list_decision_escalations(contact_id=contact_id, limit=limit)
        )
        return JSONResponse({"decision_escalations": [_escalation_dict(e) for e in rows]})


def _escalation_dict(escalation: DecisionEscalation) -> dict[str, Any]:
    return {
        "id": escalation.id,
        "decision_id": escalation.decision_id,
        "contact_id": escalation.contact_id,
        "kind": escalation.kind.value,
        "level_of_need": escalation.level_of_need,
        "immediate_danger": escalation.immediate_danger,
        "lead": {
            "name": escalation.lead.name,
            "role": escalation.lead.role,
            "contact": escalation.lead.contact,
        },
        "escalated_by": escalation.escalated_by,
        "created_at": escalation.created_at.isoformat(),
    }


def _suppressed(accepted: Accepted) -> dict[str, Any] | None:
    """Why the prompts are withheld: the decision in its re-check period and what it covers."""
    if accepted.suppressed_by is None:
        return None
    return {
        "decision_id": accepted.suppressed_by,
        "prompts": [p.code.value for p in accepted.assessment.prompts],
    }


def _referral_dict(stored: StoredReferral) -> dict[str, Any]:
    r = stored.referral
    return {
        "id": r.id,
        "contact_id": r.contact_id,
        "decision_id": r.decision_id,
        "route": r.route.value,
        "authority": r.authority_id,
        "urgent": r.urgent,
        "status": stored.status.value,
        "attempts": stored.attempts,
        "due_by": r.due_by.isoformat(),
        "delivered_at": stored.delivered_at.isoformat() if stored.delivered_at else None,
        "acknowledged_at": stored.acknowledged_at.isoformat() if stored.acknowledged_at else None,
        "escalated_at": stored.escalated_at.isoformat() if stored.escalated_at else None,
        "prompt": serialise.to_data(stored.prompt) if stored.prompt else None,
        "idempotency_key": r.idempotency_key,
        "action": r.action.value,
        "amends": r.amends,
    }
