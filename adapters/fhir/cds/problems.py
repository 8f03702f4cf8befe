"""How the CDS Hooks service says no: an OperationOutcome with the status that fits."""

from __future__ import annotations

from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue
from starlette.responses import JSONResponse, Response

from adapters.fhir.cds.jwt_auth import CdsAuthError
from adapters.fhir.errors import FhirError
from adapters.fhir.outbound import wire


class CdsProblem(FhirError):
    """A call refused for what it carries: 400 malformed, 404 unknown service, 412 data the
    service cannot get, 413 too large, 415 not JSON."""

    def __init__(self, status: int, code: str, text: str) -> None:
        self.status = status
        self.code = code
        self.text = text
        super().__init__(text)

    def response(self) -> Response:
        return outcome(self.status, self.code, self.text)


def outcome(status: int, code: str, text: str, headers: dict[str, str] | None = None) -> Response:
    body = OperationOutcome(
        issue=[OperationOutcomeIssue(severity="error", code=code, diagnostics=text or None)]
    )
    return JSONResponse(
        wire(body), status_code=status, media_type="application/fhir+json", headers=headers
    )


def refused(exc: CdsAuthError) -> Response:
    """401, saying why without echoing the token."""
    return outcome(401, "login", str(exc), {"WWW-Authenticate": 'Bearer error="invalid_token"'})
