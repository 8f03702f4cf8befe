"""FHIR OperationOutcome bodies for every HTTP error, so hosts parse one error shape."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

# FHIR issue-type codes: https://hl7.org/fhir/R4/valueset-issue-type.html
_STATUS_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    409: "duplicate",
    412: "incomplete",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}


def operation_outcome(
    status: int, diagnostics: str, *, expression: list[str] | None = None, code: str | None = None
) -> JSONResponse:
    issue: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": code or _STATUS_CODE.get(status, "processing"),
        "diagnostics": diagnostics,
    }
    if expression:
        issue["expression"] = expression
    return JSONResponse(
        {"resourceType": "OperationOutcome", "issue": [issue]},
        status_code=status,
        media_type="application/fhir+json",
    )


def outcome_of(status: int, issues: list[tuple[str, str]]) -> JSONResponse:
    """An OperationOutcome with one issue per (expression, reason)."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": _STATUS_CODE.get(status, "invalid"),
                "diagnostics": reason,
                "expression": [where],
            }
            for where, reason in issues
        ],
    }
    return JSONResponse(body, status_code=status, media_type="application/fhir+json")
