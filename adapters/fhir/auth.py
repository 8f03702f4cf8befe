"""Access tokens for the FHIR server: a static bearer token, or SMART Backend Services.

SMART Backend Services: the client signs a short-lived JWT (``client_credentials`` grant with
a ``client_assertion``) with its private key and exchanges it for an access token, which is
cached until shortly before it expires.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Protocol

import jwt
import requests

from adapters.fhir.errors import FhirAuthFailed
from adapters.fhir.settings import FhirSettings, SmartBackend

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TokenSource(Protocol):
    def header(self) -> dict[str, str]:
        """The Authorization header to send, or an empty mapping for none."""
        ...

    def invalidate(self) -> None:
        """Forget a cached token (after the server answers 401)."""
        ...


class NoToken:
    def header(self) -> dict[str, str]:
        return {}

    def invalidate(self) -> None:
        return None


class StaticBearer:
    """A token read from the environment at each call, so rotation needs no restart."""

    def __init__(self, settings: FhirSettings) -> None:
        self.settings = settings

    def header(self) -> dict[str, str]:
        token = self.settings.bearer_token()
        if not token:
            raise FhirAuthFailed(
                f"environment variable {self.settings.bearer_token_env} holds no FHIR token"
            )
        return {"Authorization": f"Bearer {token}"}

    def invalidate(self) -> None:
        return None


class SmartBackendToken:
    """Client-credentials tokens obtained with a signed JWT client assertion."""

    def __init__(
        self,
        smart: SmartBackend,
        session: requests.Session,
        timeout: tuple[float, float],
        verify: bool | str = True,
    ) -> None:
        self.smart = smart
        self.session = session
        self.timeout = timeout
        self.verify = verify
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0
        self._key = smart.private_key_path.read_bytes()

    def assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.smart.client_id,
            "sub": self.smart.client_id,
            "aud": self.smart.token_url,
            "exp": now + 300,
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(
            claims,
            self._key,
            algorithm=self.smart.algorithm,
            headers={"kid": self.smart.kid, "typ": "JWT"},
        )

    def header(self) -> dict[str, str]:
        with self._lock:
            if not self._token or time.monotonic() > self._expires:
                self._fetch()
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        with self._lock:
            self._token = ""

    def _fetch(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "scope": self.smart.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        }
        try:
            response = self.session.post(
                self.smart.token_url, data=form, timeout=self.timeout, verify=self.verify
            )
        except requests.RequestException as exc:
            raise FhirAuthFailed(f"token endpoint unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise FhirAuthFailed(f"token endpoint answered HTTP {response.status_code}")
        try:
            body = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise FhirAuthFailed("token endpoint answer has no access_token") from None
        if not isinstance(token, str) or not token:
            raise FhirAuthFailed("token endpoint answer has no access_token")
        self._token = token
        self._expires = time.monotonic() + max(lifetime - 30, lifetime / 2)


def token_source(
    settings: FhirSettings, session: requests.Session, verify: bool | str = True
) -> TokenSource:
    timeout = (settings.connect_timeout, settings.read_timeout)
    if settings.auth == "bearer":
        return StaticBearer(settings)
    if settings.auth == "smart-backend" and settings.smart is not None:
        return SmartBackendToken(settings.smart, session, timeout, verify)
    return NoToken()
