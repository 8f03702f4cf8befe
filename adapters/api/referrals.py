"""``/api/referrals``: a referral's delivery state, a person's acknowledgement, an update or a
cancellation; and ``/api/escalations``, the referrals waiting on a phone call."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.api import shapes
from adapters.api.auth import Endpoint
from plugin_core.formats.outcome import operation_outcome, outcome_of
from plugin_core.formats.referral_document import DOCUMENT_TYPE, referral_pdf
from plugin_core.http import read_json
from plugin_core.model import ReferralAction
from plugin_core.rules.decide import DecisionInvalid
from plugin_core.service import ReferralConflict, Service, UnknownReferral


class ReferralEndpoints:
    def __init__(self, service: Service) -> None:
        self.service = service

    async def get_referral(self, request: Request) -> Response:
        found = await run_in_threadpool(self.service.referral, request.path_params["referral_id"])
        if found is None:
            return operation_outcome(404, "no referral with that id")
        return JSONResponse(shapes.referral(found))

    async def document(self, request: Request) -> Response:
        """The referral document (PDF), never cached; each download is an audit entry, as the
        document holds the children's and the adult's details."""
        referral_id = request.path_params["referral_id"]
        try:
            content = await run_in_threadpool(self.service.referral_content, referral_id)
        except UnknownReferral:
            return operation_outcome(404, "no referral with that id")
        if content is None:
            return operation_outcome(
                404, "the contact or decision behind this referral is not stored"
            )
        document = await run_in_threadpool(referral_pdf, content)
        await run_in_threadpool(
            self.service.append_audit, "referral.document", "api", content.referral_id, {}
        )
        return Response(
            document,
            media_type=DOCUMENT_TYPE,
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="referral-{content.referral_id}.pdf"',
            },
        )

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
        try:
            found = await run_in_threadpool(
                lambda: self.service.acknowledge_referral(referral_id, by=by, note=how)
            )
        except ReferralConflict as exc:
            return refused(exc)
        if found is None:
            return operation_outcome(404, "no referral with that id")
        return JSONResponse(shapes.referral(found))

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
            except ReferralConflict as exc:
                return refused(exc)
            if change is None:
                return JSONResponse({"withdrawn": referral_id, "sent": None}, status_code=200)
            return JSONResponse(shapes.amended(change), status_code=202)

        return endpoint

    async def escalations(self, request: Request) -> Response:
        rows = await run_in_threadpool(self.service.calls_awaited)
        return JSONResponse({"escalations": [shapes.awaited_call(r) for r in rows]})


def refused(exc: ReferralConflict) -> Response:
    """409: the referral's state does not allow the change; the diagnostics name the state."""
    code = "transient" if exc.busy else "business-rule"
    return operation_outcome(409, str(exc), code=code)
