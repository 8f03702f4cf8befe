"""Reading a CDS Hooks call: the body on the event loop, its meaning in the worker thread.

Size and media type are judged as the body is read, but a fault found there is only reported
once the caller is authenticated, so an unauthenticated call is always answered 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from adapters.fhir.cds.problems import CdsProblem
from adapters.fhir.cds.services import CdsService
from plugin_core.http import JsonRefused, parse_json


@dataclass(frozen=True, slots=True)
class Received:
    """What the event loop hands to the worker thread: headers it needs and the raw body."""

    authorization: str | None
    path: str
    service_id: str
    body: bytes | CdsProblem


@dataclass(frozen=True, slots=True)
class HookCall:
    """The parts of a hook call the service acts on, checked."""

    hook_instance: str
    context: dict[str, Any]
    patient_id: str
    encounter_id: str | None
    prefetch: dict[str, Any]
    body: dict[str, Any]


async def receive(request: Request, limit: int) -> Received:
    return Received(
        request.headers.get("authorization"),
        request.url.path,
        request.path_params.get("service_id", ""),
        await _raw_body(request, limit),
    )


async def _raw_body(request: Request, limit: int) -> bytes | CdsProblem:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/json", "application/fhir+json"):
        return CdsProblem(415, "not-supported", "the body must be application/json")
    too_large = CdsProblem(413, "too-costly", f"the body is larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return too_large
        chunks.append(chunk)
    return b"".join(chunks)


def json_object(raw: bytes | CdsProblem) -> dict[str, Any]:
    if isinstance(raw, CdsProblem):
        raise raw
    try:
        body = parse_json(raw)
    except JsonRefused as exc:
        if exc.too_deep:
            raise CdsProblem(400, "too-costly", f"$: {exc}") from None
        where = f" (line {exc.line})" if exc.line else ""
        raise CdsProblem(400, "invalid", f"$: not valid JSON{where}") from None
    if not isinstance(body, dict):
        raise CdsProblem(400, "structure", "$: must be an object")
    return body


def hook_call(body: dict[str, Any], service: CdsService) -> HookCall:
    if body.get("hook") != service.hook:
        raise CdsProblem(400, "invalid", f"$.hook: must be {service.hook} for this service")
    hook_instance = body.get("hookInstance")
    if not isinstance(hook_instance, str) or not hook_instance:
        raise CdsProblem(400, "required", "$.hookInstance: is required")
    context = body.get("context")
    if not isinstance(context, dict):
        raise CdsProblem(400, "required", "$.context: must be an object")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id or ":" in patient_id:
        raise CdsProblem(400, "required", "$.context.patientId: must be a FHIR id")
    encounter_id = context.get("encounterId")
    if encounter_id is not None and (not isinstance(encounter_id, str) or ":" in encounter_id):
        raise CdsProblem(400, "invalid", "$.context.encounterId: must be a FHIR id")
    if service.hook == "encounter-start" and not encounter_id:
        raise CdsProblem(400, "required", "$.context.encounterId: is required for encounter-start")
    prefetch = body.get("prefetch") or {}
    if not isinstance(prefetch, dict):
        raise CdsProblem(400, "structure", "$.prefetch: must be an object")
    return HookCall(hook_instance, context, patient_id, encounter_id, prefetch, body)
