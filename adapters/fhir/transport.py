"""Referral delivery by FHIR messaging: post the message Bundle, turn the answer into a Receipt.

The receiver's response message (``MessageHeader.response.code``) or OperationOutcome becomes
the Receipt. A 4xx other than 401, 403, 408 and 429 means the message itself was refused, so
it is not retried: the professional is prompted to phone instead.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from adapters.fhir.client import FhirClient, outcome_text
from adapters.fhir.errors import FhirAuthFailed, FhirUnavailable
from plugin_core.model import Channel, Receipt, Referral

log = logging.getLogger(__name__)

RETRYABLE_4XX = frozenset({401, 403, 408, 429})


def post_message(
    client: FhirClient, address: str, bundle: dict[str, Any], referral: Referral
) -> Receipt:
    """Post one message Bundle to ``address``/$process-message and read the answer."""
    url = f"{address.rstrip('/')}/$process-message"
    headers = {
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": referral.idempotency_key,
    }
    try:
        response = client.post(url, bundle, headers)
    except (FhirUnavailable, FhirAuthFailed) as exc:
        log.warning(
            "referral not delivered",
            extra={"referral_id": referral.id, "error": type(exc).__name__},
        )
        return Receipt(Channel.FHIR, delivered=False, retryable=True, detail=str(exc))
    body = response.body or {}
    if 200 <= response.status < 300:
        code, reference = _response_code(body)
        if code in ("ok", ""):
            log.info(
                "referral accepted by receiver",
                extra={"referral_id": referral.id, "status": response.status},
            )
            return Receipt(
                Channel.FHIR,
                delivered=True,
                acknowledged=True,
                reference=reference or response.location,
                detail=f"HTTP {response.status}",
                extra={"bundle_identifier": str(bundle.get("identifier", {}).get("value", ""))},
            )
        detail = outcome_text(_outcome_in(body)) or f"receiver answered {code}"
        return Receipt(
            Channel.FHIR,
            delivered=True,
            acknowledged=False,
            reference=reference,
            detail=detail,
            retryable=code == "transient-error",
        )
    detail = outcome_text(body) or f"HTTP {response.status}"
    retryable = response.status >= 500 or response.status in RETRYABLE_4XX
    log.warning(
        "referral refused by receiver",
        extra={"referral_id": referral.id, "status": response.status},
    )
    return Receipt(
        Channel.FHIR,
        delivered=False,
        retryable=retryable,
        detail=f"HTTP {response.status}: {detail}",
    )


def _response_code(body: dict[str, Any]) -> tuple[str, str]:
    """(MessageHeader.response.code, a reference to what the receiver stored)."""
    if body.get("resourceType") == "OperationOutcome":
        severities = {i.get("severity") for i in body.get("issue") or [] if isinstance(i, dict)}
        return ("fatal-error" if severities & {"error", "fatal"} else "ok"), ""
    if body.get("resourceType") != "Bundle":
        return "", ""
    for entry in body.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "MessageHeader":
            response = resource.get("response") or {}
            focus = resource.get("focus") or []
            reference = (
                focus[0].get("reference", "") if focus and isinstance(focus[0], dict) else ""
            )
            return str(response.get("code", "")), str(reference)
    return "", ""


def _outcome_in(body: dict[str, Any]) -> dict[str, Any] | None:
    for entry in body.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            return resource
    return None
