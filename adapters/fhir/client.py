"""A small FHIR R4 REST client: timeouts and bounded retries on every call, TLS always verified.

Retries cover connection failures, timeouts and the statuses a busy server gives (429, 502,
503, 504). Every write ThinkFamily makes is conditional or carries an identifier the receiver
de-duplicates on, so retrying a POST cannot create a second copy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from adapters.fhir.auth import TokenSource, token_source
from adapters.fhir.errors import FhirRequestFailed, FhirUnavailable
from adapters.fhir.settings import FhirSettings

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_PAGES = 10


@dataclass(frozen=True, slots=True)
class FhirResponse:
    status: int
    body: dict[str, Any] | None
    location: str = ""


class FhirClient:
    """Talks to one FHIR base URL with the trust's credentials."""

    def __init__(
        self,
        settings: FhirSettings,
        base_url: str | None = None,
        *,
        session: requests.Session | None = None,
        auth: TokenSource | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = (base_url or settings.base_url).rstrip("/")
        self.session = session or requests.Session()
        # TLS verification is never turned off; a trust may only add its own CA bundle.
        self.verify: bool | str = str(settings.ca_file) if settings.ca_file else True
        self.auth = auth or token_source(settings, self.session, self.verify)
        self.timeout = (settings.connect_timeout, settings.read_timeout)

    def close(self) -> None:
        self.session.close()

    # Reading ----------------------------------------------------------------------------------

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """One resource, or None when the server says it does not exist (404 or 410)."""
        where = f"{resource_type}/{resource_id}"
        response = self.request("GET", f"{self.base_url}/{resource_type}/{quote(resource_id)}")
        if response.status in (404, 410):
            return None
        _raise_for(response, where)
        return response.body

    def search(self, resource_type: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Matching resources of ``resource_type``, following next links for a few pages."""
        url: str | None = f"{self.base_url}/{resource_type}"
        query: dict[str, str] | None = params
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self.request("GET", url, params=query)
            _raise_for(response, f"{resource_type} search")
            bundle = response.body or {}
            for entry in bundle.get("entry") or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict) and resource.get("resourceType") == resource_type:
                    found.append(resource)
            url = next(
                (
                    link.get("url")
                    for link in bundle.get("link") or []
                    if isinstance(link, dict) and link.get("relation") == "next"
                ),
                None,
            )
            query = None
        return found

    # Writing ----------------------------------------------------------------------------------

    def post(
        self,
        url: str,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        *,
        authorised: bool = True,
    ) -> FhirResponse:
        return self.request("POST", url, json_body=body, headers=headers, authorised=authorised)

    def transaction(self, bundle: dict[str, Any]) -> dict[str, Any]:
        response = self.post(self.base_url, bundle)
        _raise_for(response, "transaction")
        return response.body or {}

    # Transport --------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        authorised: bool = True,
    ) -> FhirResponse:
        """One call with bounded retries; raises FhirUnavailable when every attempt failed."""
        attempts = self.settings.retries + 1
        reason = ""
        refreshed = False
        attempt = 0
        while attempt < attempts:
            attempt += 1
            sent = {"Accept": FHIR_JSON}
            if json_body is not None:
                sent["Content-Type"] = FHIR_JSON
            if authorised:
                sent.update(self.auth.header())
            sent.update(headers or {})
            try:
                raw = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=sent,
                    timeout=self.timeout,
                    verify=self.verify,
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                reason = type(exc).__name__
                log.warning(
                    "FHIR request failed; trying again",
                    extra={"method": method, "count": attempt, "reason": reason},
                )
                self._pause(attempt, attempts)
                continue
            if raw.status_code == 401 and authorised and not refreshed:
                refreshed = True  # one fresh token, without spending a retry
                self.auth.invalidate()
                attempt -= 1
                continue
            if raw.status_code in RETRY_STATUSES and attempt < attempts:
                reason = f"HTTP {raw.status_code}"
                log.warning(
                    "FHIR server busy; trying again",
                    extra={"method": method, "count": attempt, "reason": reason},
                )
                self._pause(attempt, attempts, raw.headers.get("Retry-After"))
                continue
            return FhirResponse(raw.status_code, _json(raw), raw.headers.get("Location", ""))
        raise FhirUnavailable(f"FHIR server not reachable after {attempts} attempt(s): {reason}")

    def _pause(self, attempt: int, attempts: int, retry_after: str | None = None) -> None:
        if attempt >= attempts:
            return
        delay = self.settings.backoff * (2 ** (attempt - 1))
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 5.0))
        time.sleep(delay)


def _json(raw: requests.Response) -> dict[str, Any] | None:
    if not raw.content:
        return None
    try:
        body = raw.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def outcome_text(body: dict[str, Any] | None) -> str:
    """The diagnostics of an OperationOutcome, shortened: receivers' words, not patient data."""
    if not body or body.get("resourceType") != "OperationOutcome":
        return ""
    parts = []
    for issue in body.get("issue") or []:
        if isinstance(issue, dict):
            code = issue.get("code", "")
            text = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or ""
            parts.append(f"{code}: {text}" if text else str(code))
    return "; ".join(parts)[:300]


def _raise_for(response: FhirResponse, where: str) -> None:
    if response.status >= 400:
        raise FhirRequestFailed(response.status, where, outcome_text(response.body))
