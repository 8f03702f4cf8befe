"""Authenticating CDS Hooks calls: the EHR's signed JWT, checked as the specification requires.

The token must be signed with an asymmetric algorithm (never ``none``, never HMAC) by a key
from the trusted issuer's JWK Set, name this service as audience, be unexpired and short-lived,
and carry a ``jti`` not seen before. A ``jku`` header is honoured only when it is the issuer's
configured JWK Set URL, so a caller can never point the service at keys of its choosing.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import requests
from jwt import PyJWK, PyJWS

from adapters.fhir.cds.plain_token import plain_claims
from adapters.fhir.cds.signatures import SignatureWorkers
from adapters.fhir.errors import FhirError
from adapters.fhir.settings import CDS_ALGORITHMS, FhirSettings, TrustedIssuer
from plugin_core.contract import ServicePort

LEEWAY = 30
JWKS_TTL = 300.0
JWKS_REFRESH_GAP = 30.0
REPLAYED = "the token's jti was already used"
CLAIMS_ONLY = {
    "verify_signature": False,
    **{f"verify_{claim}": True for claim in ("exp", "nbf", "iat", "aud", "iss", "sub", "jti")},
}
"""Every check of the library's decode but the signature's, already made by a worker."""
_JWS = PyJWS()


class CdsAuthError(FhirError):
    """The call is not authenticated; the message says why without echoing the token."""


@dataclass(frozen=True, slots=True)
class Caller:
    iss: str
    sub: str
    jti: str
    until: float = 0.0
    """When the token's ``jti`` may be forgotten (its expiry plus leeway), as a Unix time."""

    @property
    def until_at(self) -> datetime:
        return datetime.fromtimestamp(self.until, UTC)

    @property
    def once_key(self) -> str:
        """The key that marks the token used, shared by every instance on the database."""
        return f"jti:{self.iss}\x1f{self.jti}"


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims, unverified: only to choose the issuer's key, which the one full
    decode then checks everything against. Cheaper than a library decode without the key."""
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three parts")
        header, claims = (
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in parts[:2]
        )
    except (ValueError, binascii.Error):  # JSONDecodeError and UnicodeDecodeError included
        raise CdsAuthError("the token is not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise CdsAuthError("the token is not a JWT")
    return header, claims


class _KeySet:
    """One issuer's public keys by kid, from a file or a URL, refreshed on an unknown kid."""

    def __init__(self, issuer: TrustedIssuer, timeout: tuple[float, float]) -> None:
        self.issuer = issuer
        self.timeout = timeout
        self._keys: dict[str, tuple[PyJWK, dict[str, Any]]] = {}
        self._loaded = 0.0
        self._lock = threading.Lock()

    def key(self, kid: str) -> tuple[PyJWK, dict[str, Any]] | None:
        """The key and the JWK it was read from."""
        with self._lock:
            now = time.monotonic()
            stale = now - self._loaded > JWKS_TTL
            unknown = kid not in self._keys and now - self._loaded > JWKS_REFRESH_GAP
            if stale or unknown:
                self._load()
                self._loaded = now
            return self._keys.get(kid)

    def _load(self) -> None:
        try:
            if self.issuer.jwks_path is not None:
                doc = json.loads(self.issuer.jwks_path.read_text())
            else:
                response = requests.get(self.issuer.jwks_url, timeout=self.timeout, verify=True)
                response.raise_for_status()
                doc = response.json()
        except (OSError, ValueError, requests.RequestException):
            return  # keep the keys we had; an unknown kid is then refused
        keys: dict[str, tuple[PyJWK, dict[str, Any]]] = {}
        for item in doc.get("keys", []) if isinstance(doc, dict) else []:
            if not isinstance(item, dict) or not item.get("kid"):
                continue
            if item.get("kty") == "oct":
                continue  # shared secrets are never accepted
            try:
                keys[str(item["kid"])] = (PyJWK(item), item)
            except jwt.PyJWTError:
                continue
        self._keys = keys


class CdsTokenVerifier:
    """Checks bearer JWTs of CDS Hooks calls against the trusted issuers."""

    def __init__(
        self,
        settings: FhirSettings,
        shared: Callable[[], ServicePort | None] = lambda: None,
        workers: SignatureWorkers | None = None,
    ) -> None:
        """:param workers: where signatures are checked, when not in this process."""
        self.settings = settings
        self.workers = workers
        self._shared = shared
        timeout = (settings.connect_timeout, settings.read_timeout)
        self._issuers = {i.iss: i for i in settings.cds_issuers}
        self._keys = {i.iss: _KeySet(i, timeout) for i in settings.cds_issuers}
        self._seen: dict[str, float] = {}
        self._seen_lock = threading.Lock()
        self.plain = True
        """Check plainly formed tokens directly (:mod:`adapters.fhir.cds.plain_token`)."""

    @property
    def configured(self) -> bool:
        return bool(self._issuers) and bool(self.settings.cds_audience)

    def audiences(self, path: str) -> list[str]:
        base = self.settings.cds_audience.rstrip("/")
        return [base, base + "/", base + path]

    def verify(self, authorization: str | None, path: str) -> Caller:
        """Check the token and mark its ``jti`` used."""
        caller = self.check(authorization, path)
        self.spend(caller)
        return caller

    def check(self, authorization: str | None, path: str) -> Caller:
        """Check the token without marking its ``jti`` used: the caller must then do so, with
        :meth:`spend` or in the transaction that records the call."""
        if not self.configured:
            raise CdsAuthError("no trusted CDS Hooks issuers are configured")
        if not authorization or not authorization.startswith("Bearer "):
            raise CdsAuthError("a Bearer JWT is required")
        token = authorization[7:].strip()
        header, unverified = _peek(token)
        alg = header.get("alg")
        if alg not in CDS_ALGORITHMS:
            raise CdsAuthError("the token's algorithm is not allowed")
        iss = unverified.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise CdsAuthError("the token's issuer is not trusted")
        jku = header.get("jku")
        if jku is not None and jku != issuer.jwks_url:
            raise CdsAuthError("the token's jku is not the issuer's configured JWK Set")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise CdsAuthError("the token has no kid")
        found = self._keys[issuer.iss].key(kid)
        if found is None:
            raise CdsAuthError("the token's key is not in the issuer's JWK Set")
        key, jwk = found
        options: dict[str, Any] = {"require": ["iss", "aud", "exp", "iat", "jti"]}
        audiences = self.audiences(path)
        try:
            found_claims = None
            if self.workers is None and self.plain:
                found_claims = plain_claims(
                    token,
                    key,
                    alg,
                    audiences=audiences,
                    issuer=issuer.iss,
                    leeway=LEEWAY,
                    now=time.time(),
                )
            if found_claims is not None:
                claims: dict[str, Any] = found_claims
            else:
                if self.workers is not None:
                    _signed_elsewhere(self.workers, token, alg, key, jwk)
                    options |= CLAIMS_ONLY
                claims = jwt.decode(
                    token,
                    key=key,
                    algorithms=[alg],
                    audience=audiences,
                    issuer=issuer.iss,
                    leeway=LEEWAY,
                    options=options,  # type: ignore[arg-type]
                )
        except jwt.ExpiredSignatureError:
            raise CdsAuthError("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise CdsAuthError("the token is not for this service (aud)") from None
        except jwt.InvalidSignatureError:
            raise CdsAuthError("the token's signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise CdsAuthError(f"the token is not valid ({type(exc).__name__})") from None
        now = time.time()
        exp = float(claims["exp"])
        if exp - now > self.settings.cds_token_max_age + LEEWAY:
            raise CdsAuthError("the token lives longer than allowed")
        if float(claims["iat"]) > now + LEEWAY:
            raise CdsAuthError("the token was issued in the future")
        sub = str(claims.get("sub", ""))
        if issuer.sub and sub != issuer.sub:
            raise CdsAuthError("the token's subject is not trusted")
        return Caller(issuer.iss, sub, str(claims["jti"]), exp + LEEWAY)

    def spend(self, caller: Caller) -> None:
        """Mark the token's ``jti`` used; CdsAuthError if it already was."""
        service = self._shared()
        if service is not None:
            # Shared by every instance on the database, so a replay to another one is refused.
            if not service.use_once(caller.once_key, caller.until_at):
                raise CdsAuthError(REPLAYED)
            return
        self.remember_here(caller)

    def remember_here(self, caller: Caller) -> None:
        """Mark the ``jti`` used in this process only (when no database is shared)."""
        jti, until, now = caller.once_key, caller.until, time.time()
        with self._seen_lock:
            if jti in self._seen:
                raise CdsAuthError(REPLAYED)
            if len(self._seen) > 10_000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            self._seen[jti] = until


def _signed_elsewhere(
    workers: SignatureWorkers, token: str, alg: str, key: PyJWK, jwk: dict[str, Any]
) -> None:
    """The library's own steps before its signature check (the token's form, its header, the
    key's algorithm), then the check itself in a worker process; raises as the library would."""
    decoded = _JWS.decode_complete(token, algorithms=[alg], options={"verify_signature": False})
    if alg != key.algorithm_name:
        raise jwt.InvalidAlgorithmError("the token's algorithm is not the key's")
    signing_input = token.encode("utf-8").rsplit(b".", 1)[0]
    if not workers.verifies(jwk, signing_input, decoded["signature"]):
        raise jwt.InvalidSignatureError("Signature verification failed")
