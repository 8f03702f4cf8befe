"""The library's token checks, made directly for a plainly formed token.

An EHR's token is nearly always plain: three unpadded base64url parts, a header naming only
``alg``, ``typ``, ``kid`` and perhaps ``jku``, and claims of the usual types. For such a token
these are the checks ``jwt.decode`` makes, in its order, with the same signature check by the
issuer's key, at a quarter of the Python work (the library checks base64 one character at a
time). Anything else, and any claim that fails, is left to the library (``None``), so every
refusal keeps the library's reason; a test proves the two agree on a corpus of tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import jwt
from jwt import PyJWK

_PART = re.compile(r"[A-Za-z0-9_-]*")
_PLAIN_HEADER = frozenset({"alg", "typ", "kid", "jku"})
_REQUIRED = ("iss", "aud", "exp", "iat", "jti")


def plain_claims(
    token: str,
    key: PyJWK,
    alg: str,
    *,
    audiences: Sequence[str],
    issuer: str,
    leeway: float,
    now: float,
) -> dict[str, Any] | None:
    """The claims of a plain token that passes every check; ``None`` when the token is not
    plain or a claim fails (the library then decides); ``jwt.InvalidSignatureError`` when
    only the signature fails, as the library would raise."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header_data, payload_data, signature = (_part(p) for p in parts)
    if header_data is None or payload_data is None or signature is None:
        return None
    try:
        header = json.loads(header_data)
        claims = json.loads(payload_data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or not _PLAIN_HEADER.issuperset(header):
        return None
    if header.get("alg") != alg or alg != key.algorithm_name or not isinstance(claims, dict):
        return None
    if "kid" in header and not isinstance(header["kid"], str):
        return None
    algorithm = key.Algorithm
    try:
        prepared = algorithm.prepare_key(key.key)
    except jwt.PyJWTError:
        return None
    if algorithm.check_key_length(prepared):
        return None  # the library would warn: let it
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    if not algorithm.verify(signing_input, prepared, signature):
        raise jwt.InvalidSignatureError("Signature verification failed")
    return claims if _claims_pass(claims, audiences, issuer, leeway, now) else None


def _part(part: str) -> bytes | None:
    """A base64url part as the library reads it, when written without padding."""
    if len(part) % 4 == 1 or _PART.fullmatch(part) is None:
        return None
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None
    if base64.urlsafe_b64encode(data).rstrip(b"=") != part.encode("ascii"):
        return None  # spare bits set: the library refuses the padding
    return data


def _claims_pass(
    claims: dict[str, Any], audiences: Sequence[str], issuer: str, leeway: float, now: float
) -> bool:
    if any(claims.get(name) is None for name in _REQUIRED):
        return False
    times: dict[str, int] = {}
    for name in ("iat", "nbf", "exp"):
        if name in claims:
            value = claims[name]
            if type(value) not in (int, float) or not math.isfinite(value):
                return False
            times[name] = int(value)
    if times["iat"] > now + leeway or times.get("nbf", 0) > now + leeway:
        return False  # not yet valid
    if times["exp"] <= now - leeway:
        return False
    if claims["iss"] != issuer:
        return False
    aud = claims["aud"]
    named = [aud] if isinstance(aud, str) else aud
    if not isinstance(named, list) or not all(isinstance(a, str) for a in named):
        return False
    if all(a not in named for a in audiences):
        return False
    if "sub" in claims and not isinstance(claims["sub"], str):
        return False
    return isinstance(claims["jti"], str)
