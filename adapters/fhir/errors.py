"""The FHIR adapter's exceptions. Messages name a JSON path or an HTTP status, never a value."""

from __future__ import annotations

from plugin_core.contract import ContactInvalid, ThinkFamilyError


class FhirError(ThinkFamilyError):
    """Root of the FHIR adapter's own failures."""


class FhirBundleInvalid(ContactInvalid):
    """A Bundle given as a contact cannot be read; the message names the JSON path."""


class FhirUnavailable(FhirError):
    """The FHIR server could not be reached or kept failing after the bounded retries."""


class FhirRequestFailed(FhirError):
    """The FHIR server answered with an error status that retrying will not fix."""

    def __init__(self, status: int, where: str, detail: str = "") -> None:
        self.status = status
        self.where = where
        self.detail = detail
        super().__init__(f"{where}: HTTP {status}{': ' + detail if detail else ''}")


class FhirAuthFailed(FhirError):
    """No access token could be obtained for the FHIR server."""


class FhirResourceInvalid(FhirError):
    """A resource ThinkFamily was about to send failed validation; names resource and field."""
