"""CDS tokens checked with signature worker processes are judged exactly as in-process.

The same corpus of tokens (good, forged, tampered, expired, for another audience, of the wrong
algorithm, malformed) goes to a verifier that checks signatures itself and to one that hands
them to ``[fhir.cds] signature_processes`` workers; every verdict and every refusal's wording
must agree.
"""

from __future__ import annotations

import base64
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from adapters.fhir.cds import signatures
from adapters.fhir.cds.jwt_auth import Caller, CdsAuthError, CdsTokenVerifier
from adapters.fhir.cds.signatures import SignatureWorkers
from adapters.fhir.settings import FhirSettings, TrustedIssuer
from tests.fhir.conftest import EHR_ISS, EHR_SUB, KeyPair, cds_token, ec_key, rsa_key

AUDIENCE = "https://thinkfamily.example.test/cds"
PATH = "/cds-services/thinkfamily-patient-view"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[KeyPair, KeyPair, Path]:
    ec, rsa = ec_key("ec-1"), rsa_key("rsa-1")
    jwks = tmp_path_factory.mktemp("sig") / "jwks.json"
    jwks.write_text(json.dumps({"keys": [ec.public_jwk, rsa.public_jwk]}))
    return ec, rsa, jwks


@pytest.fixture(scope="module")
def workers() -> Iterator[SignatureWorkers]:
    found = SignatureWorkers(1)
    yield found
    found.close()


def _settings(jwks: Path) -> FhirSettings:
    return FhirSettings(
        cds_audience=AUDIENCE, cds_issuers=(TrustedIssuer(EHR_ISS, "", jwks, EHR_SUB),)
    )


def _swap(token: str, part: int, text: str) -> str:
    parts = token.split(".")
    parts[part] = text
    return ".".join(parts)


def _b64(doc: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


def tokens(ec: KeyPair, rsa: KeyPair) -> list[str]:
    url = AUDIENCE + PATH
    good = cds_token(ec, url)
    other = ec_key("ec-1")  # same kid, another key: a forgery
    _, claims, signature = good.split(".")
    found = [
        good,
        cds_token(rsa, url),
        cds_token(other, url),
        cds_token(ec, url, lifetime=-100),
        cds_token(ec, url, issued_ago=-600, lifetime=700),
        cds_token(ec, "https://elsewhere.example.test"),
        cds_token(ec, url, sub="someone-else"),
        cds_token(ec, url, lifetime=4000),
        cds_token(ec, url, headers={"kid": "rsa-1"}),
        cds_token(ec, url, headers={"crit": ["exp"]}),
        _swap(good, 2, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")),
        _swap(good, 2, signature + "="),
        _swap(good, 2, signature[:-1] + "!"),
        _swap(good, 2, ""),
        _swap(good, 1, _b64({**json.loads(base64.urlsafe_b64decode(claims + "==")), "sub": "x"})),
        _swap(good, 1, claims + "A"),
        _swap(good, 0, _b64({"alg": "ES384", "kid": "ec-1", "typ": "JWT", "b64": False})),
        good + ".extra",
    ]
    for claim in ("jti", "exp", "iat", "aud"):
        found.append(_without(ec, url, claim))
    found.append(
        jwt.encode({"iss": EHR_ISS, "aud": url, "exp": "soon", "iat": 1, "jti": "j"},
                   ec.private_pem, algorithm="ES384", headers={"kid": "ec-1"})
    )  # fmt: skip
    return found


def _without(key: KeyPair, url: str, claim: str) -> str:
    token = cds_token(key, url)
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims[claim]
    return jwt.encode(claims, key.private_pem, algorithm=key.alg, headers={"kid": key.kid})


def _verdict(verifier: CdsTokenVerifier, token: str) -> Caller | str:
    try:
        return verifier.check(f"Bearer {token}", PATH)
    except CdsAuthError as exc:
        return str(exc)


def test_tokens_checked_by_workers_are_judged_as_in_process(
    keys: tuple[KeyPair, KeyPair, Path], workers: SignatureWorkers
) -> None:
    ec, rsa, jwks = keys
    here = CdsTokenVerifier(_settings(jwks))
    there = CdsTokenVerifier(_settings(jwks), workers=workers)
    verdicts = []
    for token in tokens(ec, rsa):
        mine, theirs = _verdict(here, token), _verdict(there, token)
        assert mine == theirs, token
        verdicts.append(mine)
    accepted = [v for v in verdicts if isinstance(v, Caller)]
    assert len(accepted) == 2  # the EC and the RSA token
    assert "the token's signature does not verify" in verdicts
    assert len({v for v in verdicts if isinstance(v, str)}) >= 6


def test_a_lost_worker_leaves_the_check_to_the_service(
    keys: tuple[KeyPair, KeyPair, Path],
) -> None:
    ec, _, jwks = keys
    lost = SignatureWorkers(1)
    verifier = CdsTokenVerifier(_settings(jwks), workers=lost)
    assert isinstance(_verdict(verifier, cds_token(ec, AUDIENCE + PATH)), Caller)
    conn, proc = lost._idle.get()
    proc.kill()
    proc.wait(timeout=10)
    lost._idle.put((conn, proc))
    assert isinstance(_verdict(verifier, cds_token(ec, AUDIENCE + PATH)), Caller)
    forged = cds_token(ec_key("ec-1"), AUDIENCE + PATH)
    assert _verdict(verifier, forged) == "the token's signature does not verify"
    lost.close()


def test_a_worker_that_does_not_answer_is_stopped_and_the_service_checks(
    keys: tuple[KeyPair, KeyPair, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ec, _, jwks = keys
    monkeypatch.setattr(signatures, "ANSWER_WITHIN", 0.5)
    stuck = SignatureWorkers(1)
    verifier = CdsTokenVerifier(_settings(jwks), workers=stuck)
    assert isinstance(_verdict(verifier, cds_token(ec, AUDIENCE + PATH)), Caller)
    conn, proc = stuck._idle.get()
    os.kill(proc.pid, signal.SIGSTOP)
    stuck._idle.put((conn, proc))
    assert isinstance(_verdict(verifier, cds_token(ec, AUDIENCE + PATH)), Caller)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    forged = cds_token(ec_key("ec-1"), AUDIENCE + PATH)
    assert _verdict(verifier, forged) == "the token's signature does not verify"
    stuck.close()
