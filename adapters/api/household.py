"""``/api/contacts/{id}/household`` and ``/api/referrals/{id}/call``: the household as a
professional recorded it, and a phone call made about a referral.

Same validation as the pages (``plugin_core.formats.household_json`` and the rules behind it)
and the API's error shape: an OperationOutcome with one issue per field at fault.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.api import shapes
from adapters.api.referrals import refused
from plugin_core.formats import serialise
from plugin_core.formats.contact_json import assessment_to_dict
from plugin_core.formats.household_json import call_from_dict, household_from_dict
from plugin_core.formats.outcome import operation_outcome, outcome_of
from plugin_core.http import read_json
from plugin_core.rules.children import contact_date
from plugin_core.rules.decide import FieldProblem
from plugin_core.rules.household_entry import HouseholdInvalid
from plugin_core.rules.phone_call import CallInvalid
from plugin_core.service import ReferralConflict, Service, UnknownContact, UnknownReferral
from plugin_core.service.household import HouseholdClosed, RecordedHousehold


def invalid(problems: list[FieldProblem]) -> Response:
    return outcome_of(422, [(p.field, p.reason) for p in problems])


class HouseholdEndpoints:
    def __init__(self, service: Service) -> None:
        self.service = service

    async def post_household(self, request: Request) -> Response:
        doc = await read_json(request)
        if isinstance(doc, Response):
            return doc
        contact_id = request.path_params["contact_id"]
        stored = await run_in_threadpool(self.service.contact, contact_id)
        if stored is None:
            return operation_outcome(404, "no contact with that id")
        try:
            answer = household_from_dict(
                doc,
                contact_id=contact_id,
                on=contact_date(stored.contact.occurred_at),
                now=self.service.clock(),
            )
            recorded = await run_in_threadpool(self.service.record_household, answer)
        except HouseholdInvalid as exc:
            return invalid(exc.problems)
        except UnknownContact:
            return operation_outcome(404, "no contact with that id")
        except HouseholdClosed as exc:
            return operation_outcome(409, str(exc), code="business-rule")
        return JSONResponse(household_shape(recorded), status_code=200 if recorded.repeat else 201)

    async def post_call(self, request: Request) -> Response:
        doc = await read_json(request)
        if isinstance(doc, Response):
            return doc
        referral_id = request.path_params["referral_id"]
        try:
            call = call_from_dict(doc, referral_id=referral_id, now=self.service.clock())
            found = await run_in_threadpool(self.service.record_call, call)
        except CallInvalid as exc:
            return invalid(exc.problems)
        except UnknownReferral:
            return operation_outcome(404, "no referral with that id")
        except ReferralConflict as exc:
            return refused(exc)
        return JSONResponse(shapes.referral(found) | {"call_id": call.id}, status_code=201)

    async def get_call_sheet(self, request: Request) -> Response:
        referral_id = request.path_params["referral_id"]
        try:
            sheet = await run_in_threadpool(self.service.call_sheet, referral_id)
        except UnknownReferral:
            return operation_outcome(404, "no referral with that id")
        return JSONResponse(
            shapes.referral(sheet.stored)
            | {
                "needs_call": sheet.needs_call,
                "calls": [shapes.call(c) for c in sheet.calls],
                "call_prompt": serialise.to_data(sheet.prompt) if sheet.prompt else None,
                "script": [{"step": s.step, "words": s.words} for s in sheet.script],
                "calls_made": [serialise.to_data(c) for c in sheet.made],
            }
        )


def household_shape(recorded: RecordedHousehold) -> dict[str, Any]:
    stored = recorded.contact
    return {
        "answer_id": recorded.answer.id,
        "outcome": recorded.answer.outcome.value,
        "repeat": recorded.repeat,
        "contact": shapes.contact_summary(stored),
        "assessment": assessment_to_dict(stored.assessment),
    }
