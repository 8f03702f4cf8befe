"""Plain CDS tokens checked directly are judged exactly as the JWT library judges them.

The verifier checks a plainly formed token itself (``adapters.fhir.cds.plain_token``) and
leaves every other token, and every refusal but a bad signature, to the library. The same
corpus goes to a verifier with the direct check and to one without: every verdict and every
refusal's wording must agree, and the good tokens must really take the direct check.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from adapters.fhir.cds import jwt_auth
from adapters.fhir.cds.jwt_auth import Caller, CdsTokenVerifier
from adapters.fhir.cds.plain_token import plain_claims
from tests.fhir.conftest import EHR_ISS, EHR_SUB, KeyPair, cds_token
from tests.fhir.test_fhir_cds_signature_workers import (
    AUDIENCE,
    PATH,
    _b64,
    _settings,
    _swap,
    _verdict,
    keys,
    tokens,
)

__all__ = ["keys"]  # the module-scoped key fixture, shared


def _signed(key: KeyPair, claims: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(
        claims, key.private_pem, algorithm=key.alg, headers={"kid": key.kid, **headers}
    )


def more_tokens(ec: KeyPair) -> list[str]:
    """Shapes the library accepts or refuses that the direct check must not judge otherwise."""
    url = AUDIENCE + PATH
    now = int(time.time())
    base = {"iss": EHR_ISS, "sub": EHR_SUB, "aud": url, "iat": now, "exp": now + 60, "jti": "j"}
    good = cds_token(ec, url)
    head, claims, signature = good.split(".")
    found = [
        _signed(ec, {**base, "aud": ["https://other.example.test", url]}),
        _signed(ec, {**base, "aud": [AUDIENCE]}),
        _signed(ec, {**base, "aud": [1, url]}),
        _signed(ec, {**base, "aud": []}),
        _signed(ec, {**base, "aud": ""}),
        _signed(ec, {**base, "iat": float(now), "exp": now + 60.5}),
        _signed(ec, {**base, "iat": True}),
        _signed(ec, {**base, "iat": str(now)}),
        _signed(ec, {**base, "exp": str(now + 60)}),
        _signed(ec, {**base, "nbf": now + 600}),
        _signed(ec, {**base, "nbf": now - 5}),
        _signed(ec, {**base, "nbf": "later"}),
        _signed(ec, {**base, "exp": now - 10}),
        _signed(ec, {**base, "exp": now - 100}),
        _signed(ec, {**base, "iat": now + 100}),
        _signed(ec, {**base, "sub": 7}),
        _signed(ec, {**base, "jti": 7}),
        _signed(ec, {**base, "iss": "https://impostor.example.test"}),
        _signed(ec, {**base, "jti": None}),
        _signed(ec, base, typ="JWT", x5t="abc"),
        _signed(ec, base, jku="https://keys.example.test/jwks"),
        _signed(ec, base, cty="JWT"),
        _swap(good, 0, head + "=="),
        _swap(good, 1, claims[:-1] + ("B" if claims[-1] == "A" else "A")),
        _swap(good, 0, _b64({"alg": "ES384", "kid": 5})),
        _swap(good, 0, _b64(["ES384"])),
        _swap(good, 1, _b64([1, 2])),
        _swap(good, 2, signature[:8]),
        _swap(good, 2, base64.urlsafe_b64encode(b"\0" * 96).decode().rstrip("=")),
        good.replace(".", "..", 1),
    ]
    if len(signature) % 4 in (2, 3):  # a last character with spare bits set
        last = signature[-1]
        found.append(_swap(good, 2, signature[:-1] + ("B" if last == "A" else "A")))
    return found


def test_plain_tokens_checked_directly_are_judged_as_by_the_library(
    keys: tuple[KeyPair, KeyPair, Path],
) -> None:
    ec, rsa, jwks = keys
    direct = CdsTokenVerifier(_settings(jwks))
    library = CdsTokenVerifier(_settings(jwks))
    library.plain = False
    verdicts = []
    for token in [*tokens(ec, rsa), *more_tokens(ec)]:
        mine, theirs = _verdict(direct, token), _verdict(library, token)
        assert mine == theirs, token
        verdicts.append(mine)
    assert sum(isinstance(v, Caller) for v in verdicts) >= 6
    assert len({v for v in verdicts if isinstance(v, str)}) >= 8


def test_a_good_token_is_checked_without_the_library_decode(
    keys: tuple[KeyPair, KeyPair, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ec, rsa, jwks = keys
    verifier = CdsTokenVerifier(_settings(jwks))

    def refused(*args: object, **kwargs: object) -> object:
        raise AssertionError("the library decode was used")

    monkeypatch.setattr(jwt_auth.jwt, "decode", refused)
    for key in (ec, rsa):
        caller = verifier.check(f"Bearer {cds_token(key, AUDIENCE + PATH, jti='one')}", PATH)
        assert (caller.iss, caller.sub, caller.jti) == (EHR_ISS, EHR_SUB, "one")


def test_a_forged_plain_token_is_refused_for_its_signature(
    keys: tuple[KeyPair, KeyPair, Path],
) -> None:
    ec, _, jwks = keys
    verifier = CdsTokenVerifier(_settings(jwks))
    key, _ = verifier._keys[EHR_ISS].key("ec-1") or (None, None)
    assert key is not None
    good = cds_token(ec, AUDIENCE + PATH)
    _, claims, _ = good.split(".")
    tampered = _swap(
        good, 1, _b64({**json.loads(base64.urlsafe_b64decode(claims + "==")), "sub": "x"})
    )
    with pytest.raises(jwt.InvalidSignatureError):
        plain_claims(
            tampered, key, "ES384", audiences=[AUDIENCE + PATH], issuer=EHR_ISS, leeway=30,
            now=time.time(),
        )  # fmt: skip
