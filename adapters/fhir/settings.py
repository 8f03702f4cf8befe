"""The ``[fhir]`` section of a trust configuration, read and checked.

Secrets never sit in the file: a bearer token is read from an environment variable the file
names, and a private key from a file path. Every fault is reported with file, key and reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugin_core.settings.config import TrustConfig
from plugin_core.settings.issues import ConfigError, ConfigIssue

AUTH_MODES = ("none", "bearer", "smart-backend")
SIGNING_ALGORITHMS = ("RS384", "ES384")
CDS_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
"""Asymmetric algorithms only: ``none`` and HMAC are never accepted for CDS Hooks calls."""


@dataclass(frozen=True, slots=True)
class SmartBackend:
    client_id: str
    token_url: str
    private_key_path: Path
    kid: str
    algorithm: str = "RS384"
    scope: str = "system/*.read system/*.write"


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An EHR allowed to call the CDS Hooks service, with where its public keys are."""

    iss: str
    jwks_url: str = ""
    jwks_path: Path | None = None
    sub: str = ""


@dataclass(frozen=True, slots=True)
class FhirSettings:
    base_url: str = ""
    auth: str = "none"
    bearer_token_env: str = ""
    smart: SmartBackend | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    retries: int = 2
    backoff: float = 0.2
    ca_file: Path | None = None
    referral_auth: str = "same"
    cds_audience: str = ""
    cds_issuers: tuple[TrustedIssuer, ...] = ()
    cds_max_body_bytes: int = 1_000_000
    cds_token_max_age: int = 300
    clinician_form_url: str = ""
    source_label: str = "ThinkFamily"
    organisation_ods: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def write_back(self) -> bool:
        return bool(self.base_url)

    def bearer_token(self) -> str | None:
        return os.environ.get(self.bearer_token_env) or None if self.bearer_token_env else None


class _Check:
    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[ConfigIssue] = []

    def error(self, key: str, reason: str) -> None:
        self.issues.append(ConfigIssue(self.file, f"fhir.{key}", reason))

    def text(self, data: dict[str, Any], key: str, default: str = "", *, prefix: str = "") -> str:
        raw = data.get(key, default)
        if not isinstance(raw, str):
            self.error(prefix + key, "must be text")
            return default
        return raw.strip()

    def number(
        self,
        data: dict[str, Any],
        key: str,
        default: float,
        low: float,
        high: float,
        prefix: str = "",
    ) -> float:
        raw = data.get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.error(prefix + key, "must be a number")
            return default
        if not low <= raw <= high:
            self.error(prefix + key, f"must be between {low:g} and {high:g}")
            return default
        return float(raw)

    def url(self, value: str, key: str, *, required: bool = False) -> str:
        if not value:
            if required:
                self.error(key, "is required")
            return ""
        if not value.startswith(("https://", "http://")):
            self.error(key, "must be an http(s) URL")
        return value.rstrip("/")

    def path(self, value: str, key: str, base: Path, *, required: bool = False) -> Path | None:
        if not value:
            if required:
                self.error(key, "is required")
            return None
        path = Path(value)
        if not path.is_absolute():
            path = base / path
        if not path.is_file():
            self.error(key, "file not found")
        return path


def read_fhir_settings(config: TrustConfig) -> FhirSettings:
    """The checked ``[fhir]`` settings; raises ConfigError listing every fault."""
    settings, issues = check_fhir_settings(config.section("fhir"), config.path)
    if issues:
        raise ConfigError(issues)
    return settings


def check_fhir_settings(data: dict[str, Any], path: Path) -> tuple[FhirSettings, list[ConfigIssue]]:
    """Settings and every fault found, so ``config check`` can list them all at once."""
    check = _Check(str(path))
    base = path.parent
    known = {
        "base_url", "auth", "bearer_token_env", "smart", "connect_timeout", "read_timeout",
        "retries", "backoff", "ca_file", "referral_auth", "cds", "clinician_form_url",
        "source_label", "organisation_ods",
    }  # fmt: skip
    for key in sorted(set(data) - known):
        check.error(key, "is not a setting of the fhir section")
    base_url = check.url(check.text(data, "base_url"), "base_url")
    auth = check.text(data, "auth", "none")
    if auth not in AUTH_MODES:
        check.error("auth", f"{auth!r} is not one of {', '.join(AUTH_MODES)}")
    token_env = check.text(data, "bearer_token_env")
    if auth == "bearer" and not token_env:
        check.error(
            "bearer_token_env", "is required when auth is bearer (the token is never in the file)"
        )
    if "bearer_token" in data or "token" in data:
        check.error("bearer_token_env", "put the token in an environment variable and name it here")
    smart = None
    smart_data = data.get("smart", {})
    if not isinstance(smart_data, dict):
        check.error("smart", "must be a table")
        smart_data = {}
    if auth == "smart-backend" or smart_data:
        algorithm = check.text(smart_data, "algorithm", "RS384", prefix="smart.")
        if algorithm not in SIGNING_ALGORITHMS:
            check.error("smart.algorithm", f"must be one of {', '.join(SIGNING_ALGORITHMS)}")
        client_id = check.text(smart_data, "client_id", prefix="smart.")
        if not client_id:
            check.error("smart.client_id", "is required for smart-backend")
        kid = check.text(smart_data, "kid", prefix="smart.")
        if not kid:
            check.error("smart.kid", "is required for smart-backend")
        key_path = check.path(
            check.text(smart_data, "private_key_path", prefix="smart."),
            "smart.private_key_path",
            base,
            required=True,
        )
        smart = SmartBackend(
            client_id=client_id,
            token_url=check.url(
                check.text(smart_data, "token_url", prefix="smart."),
                "smart.token_url",
                required=True,
            ),
            private_key_path=key_path or Path(),
            kid=kid,
            algorithm=algorithm,
            scope=check.text(smart_data, "scope", "system/*.read system/*.write", prefix="smart."),
        )
    referral_auth = check.text(data, "referral_auth", "same")
    if referral_auth not in ("same", "none"):
        check.error("referral_auth", "must be 'same' (use the FHIR credentials) or 'none'")
    retries = check.number(data, "retries", 2, 0, 5)
    if retries != int(retries):
        check.error("retries", "must be a whole number")

    cds = data.get("cds", {})
    if not isinstance(cds, dict):
        check.error("cds", "must be a table")
        cds = {}
    issuers: list[TrustedIssuer] = []
    raw_issuers = cds.get("issuers", [])
    if not isinstance(raw_issuers, list):
        check.error("cds.issuers", "must be a list of tables")
        raw_issuers = []
    for i, item in enumerate(raw_issuers):
        key = f"cds.issuers[{i}]."
        if not isinstance(item, dict):
            check.error(f"cds.issuers[{i}]", "must be a table")
            continue
        iss = check.text(item, "iss", prefix=key)
        if not iss:
            check.error(key + "iss", "is required")
        jwks_url = check.url(check.text(item, "jwks_url", prefix=key), key + "jwks_url")
        jwks_path = check.path(check.text(item, "jwks_path", prefix=key), key + "jwks_path", base)
        if not jwks_url and jwks_path is None:
            check.error(key + "jwks_url", "give jwks_url or jwks_path for the issuer's public keys")
        issuers.append(TrustedIssuer(iss, jwks_url, jwks_path, check.text(item, "sub", prefix=key)))
    audience = check.url(check.text(cds, "audience", prefix="cds."), "cds.audience")
    if issuers and not audience:
        check.error("cds.audience", "is required when issuers are trusted (the service's own URL)")
    form_url = check.url(check.text(data, "clinician_form_url"), "clinician_form_url")
    settings = FhirSettings(
        base_url=base_url,
        auth=auth,
        bearer_token_env=token_env,
        smart=smart,
        connect_timeout=check.number(data, "connect_timeout", 3.0, 0.1, 60),
        read_timeout=check.number(data, "read_timeout", 10.0, 0.1, 300),
        retries=int(retries),
        backoff=check.number(data, "backoff", 0.2, 0, 10),
        ca_file=check.path(check.text(data, "ca_file"), "ca_file", base),
        referral_auth=referral_auth,
        cds_audience=audience,
        cds_issuers=tuple(issuers),
        cds_max_body_bytes=int(
            check.number(cds, "max_body_bytes", 1_000_000, 1024, 50_000_000, "cds.")
        ),
        cds_token_max_age=int(check.number(cds, "token_max_age", 300, 10, 3600, "cds.")),
        clinician_form_url=form_url,
        source_label=check.text(data, "source_label", "ThinkFamily") or "ThinkFamily",
        organisation_ods=check.text(data, "organisation_ods"),
    )
    return settings, check.issues
