"""The OpenID Connect and SMART App Launch client: discovery, the authorization request with
PKCE, the code exchange and the ID token check.

Authlib makes the authorization URL (with the S256 code challenge) and exchanges the code;
PyJWT, already the project's signing library, checks the ID token against the provider's
published keys. Every call is blocking: the routes run them in a thread.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session

from plugin_core.errors import ThinkFamilyError

TIMEOUT = 10.0
DISCOVERY_TTL = 3600.0
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


class SigninFailed(ThinkFamilyError):
    """The provider could not be reached or its answer did not hold; the message is for logs
    and the page, and names no person."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a provider (or an EHR's authorization server) takes each step."""

    issuer: str
    authorization: str
    token: str
    jwks: str = ""


_found: dict[str, tuple[float, Endpoints]] = {}
_found_lock = threading.Lock()


def discover(url: str, issuer: str) -> Endpoints:
    """Endpoints from a discovery document (``openid-configuration`` or
    ``smart-configuration``), cached for an hour; ``issuer`` is what the ID token must name
    when the document does not say."""
    now = time.monotonic()
    with _found_lock:
        cached = _found.get(url)
        if cached is not None and now - cached[0] < DISCOVERY_TTL:
            return cached[1]
    try:
        answer = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        answer.raise_for_status()
        doc = answer.json()
    except (requests.RequestException, ValueError):
        raise SigninFailed("the sign-in service could not be reached") from None
    if not isinstance(doc, dict):
        raise SigninFailed("the sign-in service's configuration is not readable")
    try:
        found = Endpoints(
            issuer=str(doc.get("issuer") or issuer),
            authorization=str(doc["authorization_endpoint"]),
            token=str(doc["token_endpoint"]),
            jwks=str(doc.get("jwks_uri") or ""),
        )
    except KeyError:
        raise SigninFailed("the sign-in service's configuration is incomplete") from None
    with _found_lock:
        _found[url] = (now, found)
    return found


@dataclass(frozen=True, slots=True)
class Client:
    """One registered client of one provider."""

    client_id: str
    client_secret: str | None
    scopes: tuple[str, ...]
    endpoints: Endpoints

    def _session(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=" ".join(self.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=("client_secret_basic" if self.client_secret else "none"),
        )

    def authorization_url(
        self, redirect_uri: str, *, state: str, nonce: str, verifier: str, **extra: str
    ) -> str:
        with self._session(redirect_uri) as session:
            url, _ = session.create_authorization_url(
                self.endpoints.authorization,
                state=state,
                nonce=nonce,
                code_verifier=verifier,
                **extra,
            )
        return str(url)

    def exchange(self, redirect_uri: str, code: str, verifier: str) -> dict[str, Any]:
        """The token response for ``code``; raises SigninFailed when it is refused."""
        try:
            with self._session(redirect_uri) as session:
                token = session.fetch_token(
                    self.endpoints.token,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=verifier,
                    timeout=TIMEOUT,
                )
        except Exception as exc:  # Authlib raises its own errors and requests' alike
            raise SigninFailed(f"the sign-in code was refused ({type(exc).__name__})") from None
        return dict(token)

    def id_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims once its signature, issuer, audience, expiry and nonce hold."""
        if not self.endpoints.jwks:
            raise SigninFailed("the sign-in service publishes no keys")
        try:
            key = jwt.PyJWKClient(
                self.endpoints.jwks, timeout=int(TIMEOUT)
            ).get_signing_key_from_jwt(id_token)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=_ALGORITHMS,
                audience=self.client_id,
                issuer=self.endpoints.issuer,
                leeway=30,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise SigninFailed(f"the identity token did not hold ({type(exc).__name__})") from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SigninFailed("the identity token was not made for this sign-in")
        return claims


def pkce_verifier() -> str:
    """A code verifier of 64 characters from the unreserved set (RFC 7636 asks 43 to 128)."""
    return secrets.token_urlsafe(48)
