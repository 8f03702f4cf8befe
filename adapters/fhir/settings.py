"""The ``[fhir]`` section of a trust configuration, as a model checked with the rest.

Secrets never sit in the file: a bearer token is read from an environment variable the file
names, and a private key from a file path. The FHIR plugin contributes :class:`FhirSection`
through ``thinkfamily_config_sections``; every fault is reported with file, key and reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from plugin_core.settings.config import TrustConfig
from plugin_core.settings.faults import Fault, choice, refuse
from plugin_core.settings.issues import ERROR, ConfigError, ConfigIssue, Issues
from plugin_core.settings.reader import validate
from plugin_core.settings.section import (
    FileName,
    Name,
    Section,
    SettingsContext,
    Url,
    between,
    resolve,
)

AUTH_MODES = ("none", "bearer", "smart-backend")
SIGNING_ALGORITHMS = ("RS384", "ES384")
CDS_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
"""Asymmetric algorithms only: ``none`` and HMAC are never accepted for CDS Hooks calls."""
_SMART_NEEDS = ("client_id", "kid", "token_url", "private_key_path")


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
    cds_signature_processes: int = 0
    clinician_form_url: str = ""
    source_label: str = "ThinkFamily"
    organisation_ods: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def write_back(self) -> bool:
        return bool(self.base_url)

    def bearer_token(self) -> str | None:
        return os.environ.get(self.bearer_token_env) or None if self.bearer_token_env else None


def _needed(reason: str) -> AfterValidator:
    def check(value: str) -> str:
        if not value:
            refuse(reason)
        return value

    return AfterValidator(check)


class SmartTable(Section):
    """``[fhir.smart]``: SMART Backend Services. Given at all, it needs all four keys."""

    client_id: Annotated[str, _needed("is required for smart-backend")] = Field(
        "", validate_default=True
    )
    token_url: Annotated[Url, _needed("is required")] = Field("", validate_default=True)
    private_key_path: Annotated[FileName, _needed("is required")] = Field("", validate_default=True)
    kid: Annotated[str, _needed("is required for smart-backend")] = Field("", validate_default=True)
    algorithm: Annotated[str, choice(SIGNING_ALGORITHMS)] = "RS384"
    scope: Name = "system/*.read system/*.write"


class IssuerTable(Section):
    """One ``[[fhir.cds.issuers]]``: an EHR allowed to call, and where its public keys are."""

    iss: Name
    jwks_url: Url = ""
    jwks_path: FileName = ""
    sub: str = ""

    @model_validator(mode="after")
    def _has_keys(self) -> IssuerTable:
        if not self.jwks_url and not self.jwks_path:
            refuse("give jwks_url or jwks_path for the issuer's public keys", "jwks_url")
        return self


class CdsTable(Section):
    audience: Url = ""
    issuers: list[IssuerTable] = Field(default_factory=list)
    max_body_bytes: Annotated[int, between(1024, 50_000_000)] = 1_000_000
    token_max_age: Annotated[int, between(10, 3600)] = 300
    signature_processes: Annotated[int, between(0, 16)] = 0

    @classmethod
    def early_faults(cls, table: dict[str, Any]) -> Iterator[Fault]:
        if table.get("issuers") and not table.get("audience"):
            yield Fault(
                ("audience",), "is required when issuers are trusted (the service's own URL)"
            )


class FhirSection(Section):
    """The ``[fhir]`` section: the EHR's FHIR server, its credentials, and CDS Hooks."""

    unknown_key = "is not a setting of the fhir section"
    unknown_key_severity = ERROR

    base_url: Url = ""
    auth: Annotated[str, choice(AUTH_MODES)] = "none"
    bearer_token_env: str = ""
    smart: SmartTable | None = None
    connect_timeout: Annotated[float, between(0.1, 60)] = 3.0
    read_timeout: Annotated[float, between(0.1, 300)] = 10.0
    retries: Annotated[int, between(0, 5)] = 2
    backoff: Annotated[float, between(0, 10)] = 0.2
    ca_file: FileName = ""
    referral_auth: Annotated[str, choice(("same", "none"))] = "same"
    cds: CdsTable = CdsTable()
    clinician_form_url: Url = ""
    source_label: Name = "ThinkFamily"
    organisation_ods: str = ""

    @classmethod
    def early_faults(cls, table: dict[str, Any]) -> Iterator[Fault]:
        if "bearer_token" in table or "token" in table:
            yield Fault(
                ("bearer_token_env",), "put the token in an environment variable and name it here"
            )
        if table.get("auth") == "smart-backend" and "smart" not in table:
            for key in _SMART_NEEDS:
                yield Fault(("smart", key), "is required for smart-backend")

    @model_validator(mode="after")
    def _bearer_named(self) -> FhirSection:
        if self.auth == "bearer" and not self.bearer_token_env.strip():
            refuse(
                "is required when auth is bearer (the token is never in the file)",
                "bearer_token_env",
            )
        return self

    def settings(self, trust_file: Path) -> FhirSettings:
        smart = self.smart
        return FhirSettings(
            base_url=self.base_url,
            auth=self.auth,
            bearer_token_env=self.bearer_token_env.strip(),
            smart=SmartBackend(
                smart.client_id,
                smart.token_url,
                resolve(smart.private_key_path, trust_file) or Path(),
                smart.kid,
                smart.algorithm,
                smart.scope,
            )
            if smart is not None
            else None,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries=self.retries,
            backoff=self.backoff,
            ca_file=resolve(self.ca_file, trust_file),
            referral_auth=self.referral_auth,
            cds_audience=self.cds.audience,
            cds_issuers=tuple(
                TrustedIssuer(i.iss, i.jwks_url, resolve(i.jwks_path, trust_file), i.sub)
                for i in self.cds.issuers
            ),
            cds_max_body_bytes=self.cds.max_body_bytes,
            cds_token_max_age=self.cds.token_max_age,
            cds_signature_processes=self.cds.signature_processes,
            clinician_form_url=self.clinician_form_url,
            source_label=self.source_label,
            organisation_ods=self.organisation_ods.strip(),
        )


def read_fhir_settings(config: TrustConfig) -> FhirSettings:
    """The checked ``[fhir]`` settings; raises ConfigError listing every fault."""
    settings, issues = check_fhir_settings(config.section("fhir"), config.path)
    errors = [i for i in issues if i.severity == ERROR]
    if errors:
        raise ConfigError(errors)
    return settings


def check_fhir_settings(data: Any, path: Path) -> tuple[FhirSettings, list[ConfigIssue]]:
    """Settings and every fault found, so ``config check`` can list them all at once; the
    settings are the defaults when the section has errors."""
    issues = Issues(path)
    section = validate(FhirSection, data, issues, at=("fhir",), context=SettingsContext(path))
    return (section.settings(path) if section else FhirSettings()), issues.found
