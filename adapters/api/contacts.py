"""``/api/contacts``: submit and list contacts, read one, record a decision; and the decisions
not to share put before a safeguarding lead."""

from __future__ import annotations

from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.api import shapes
from plugin_core.contract import ContactInvalid
from plugin_core.formats.contact_ids import RESERVED, path_problem, reserved_namespace
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.formats.outcome import operation_outcome, outcome_of
from plugin_core.http import read_json
from plugin_core.model import ContactState
from plugin_core.rules.decide import DecisionInvalid
from plugin_core.service import DecisionConflict, DuplicateDecision, Service, UnknownContact

MAX_LIMIT = 500


class ContactEndpoints:
    def __init__(self, service: Service) -> None:
        self.service = service

    async def list_contacts(self, request: Request) -> Response:
        limit = _limit(request)
        if isinstance(limit, Response):
            return limit
        asked = request.query_params.get("state") or None
        if asked is not None and asked not in {s.value for s in ContactState}:
            return JSONResponse({"contacts": []})  # no contact is ever in a state not named
        state = ContactState(asked) if asked else None
        rows = await run_in_threadpool(lambda: self.service.contacts(state=state, limit=limit))
        return JSONResponse({"contacts": [shapes.contact_summary(r) for r in rows]})

    async def post_contact(self, request: Request) -> Response:
        doc = await read_json(request)
        if isinstance(doc, Response):
            return doc
        try:
            contact = contact_from_dict(doc, self.service.config.code_lists)
        except ContactInvalid as exc:
            return operation_outcome(400, str(exc))
        unusable = path_problem(contact.id)
        if unusable is not None:
            return outcome_of(422, [("$.id", unusable)])
        namespace = reserved_namespace(contact.id)
        if namespace is not None:
            return outcome_of(
                422,
                [
                    (
                        "$.id",
                        f'must not start with "{namespace}:": such ids are kept for contacts'
                        f" from {RESERVED[namespace]}",
                    )
                ],
            )
        contact = replace(contact, source="api")
        found = await run_in_threadpool(lambda: self.service.accept_contact(contact))
        return JSONResponse(shapes.accepted(found), status_code=200 if found.duplicate else 201)

    async def get_contact(self, request: Request) -> Response:
        contact_id = request.path_params["contact_id"]
        record = await run_in_threadpool(self.service.contact_record, contact_id)
        if record is None:
            return operation_outcome(404, "no contact with that id")
        return JSONResponse(shapes.contact_record(record))

    async def post_decision(self, request: Request) -> Response:
        doc = await read_json(request)
        if isinstance(doc, Response):
            return doc
        contact_id = request.path_params["contact_id"]
        try:
            decision = decision_from_dict(doc, contact_id=contact_id, now=self.service.clock())
            found = await run_in_threadpool(self.service.record_decision, decision)
        except DecisionInvalid as exc:
            return outcome_of(422, [(p.field, p.reason) for p in exc.problems])
        except UnknownContact:
            return operation_outcome(404, "no contact with that id")
        except DuplicateDecision:
            return operation_outcome(409, "a decision with this id is already recorded")
        except DecisionConflict as exc:
            return operation_outcome(409, str(exc), expression=["supersedes"], code="conflict")
        return JSONResponse(shapes.recorded(found), status_code=201)

    async def decision_escalations(self, request: Request) -> Response:
        """Decisions not to share put before a safeguarding lead, newest first."""
        contact_id = request.query_params.get("contact_id") or None
        limit = _limit(request)
        if isinstance(limit, Response):
            return limit
        rows = await run_in_threadpool(
            lambda: self.service.decision_escalations(contact_id=contact_id, limit=limit)
        )
        return JSONResponse({"decision_escalations": [shapes.escalation(e) for e in rows]})


def _limit(request: Request) -> int | Response:
    """``?limit=``: a whole number from 1 to 500 (100 when not given); 422 otherwise."""
    raw = request.query_params.get("limit", "100").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= MAX_LIMIT):
        return outcome_of(422, [("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")])
    return int(raw)
