"""The ``[signin]`` section: OpenID Connect sign-in, SMART App Launch and the session cookie.

Contributed by the web plugin, so ``config check`` reports every fault in it with file, key and
reason. Secrets are never in the file: ``client_secret_env`` names the variable that holds one.
Roles come from one claim of the ID token, each claim value mapped to a role here, so a trust
uses the group names its identity provider already has.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator, Field

from plugin_core.settings.config import TrustConfig
from plugin_core.settings.faults import Fault, never, refuse
from plugin_core.settings.issues import ERROR, WARNING, ConfigError, Issues
from plugin_core.settings.reader import validate
from plugin_core.settings.section import EnvVar, Name, Section, SettingsContext, Url


class Role(StrEnum):
    """What a signed-in person may do; the pages each name the roles they admit."""

    CLINICIAN = "clinician"
    UNIT_MEMBER = "unit_member"
    SAFEGUARDING_LEAD = "safeguarding_lead"
    ADMINISTRATOR = "administrator"


def _role(value: object) -> Role:
    try:
        return Role(value) if isinstance(value, str) else Role("")
    except ValueError:
        refuse("must be one of " + ", ".join(r.value for r in Role))


_SECRET_IN_FILE = never("secrets must not be written in the file; name a variable instead")


class SmartSection(Section):
    """``[signin.smart]``: opening the form from the EHR by SMART App Launch."""

    unknown_key = "is not a known setting"
    unknown_key_severity = ERROR

    enabled: bool = False
    client_id: str = ""
    client_secret_env: EnvVar | None = None
    """Unset for a public client: PKCE alone protects the exchange."""
    allowed_issuers: list[Annotated[str, Url]] = Field(default_factory=list)
    """The EHR FHIR servers that may launch ThinkFamily; any other ``iss`` is refused."""
    scopes: list[Name] = Field(default_factory=lambda: ["launch", "openid", "fhirUser"])
    client_secret: Annotated[object, _SECRET_IN_FILE] = None

    def notes(self) -> Iterator[Fault]:
        if self.enabled and not self.client_id:
            yield Fault(("client_id",), "is required when SMART launch is enabled")
        if self.enabled and not self.allowed_issuers:
            yield Fault(("allowed_issuers",), "name at least one EHR when SMART launch is enabled")


class SigninSection(Section):
    """``[signin]`` as written; read into :class:`SigninSettings`."""

    unknown_key = "is not a known setting"
    unknown_key_severity = ERROR

    enabled: bool = False
    issuer: Url = ""
    client_id: str = ""
    client_secret_env: EnvVar = "THINKFAMILY_OIDC_CLIENT_SECRET"
    scopes: list[Name] = Field(default_factory=lambda: ["openid", "profile"])
    role_claim: Name = "roles"
    units_claim: str = ""
    """The claim listing the wards or teams a unit member belongs to; empty for none."""
    roles: dict[str, Annotated[Role, BeforeValidator(_role)]] = Field(default_factory=dict)
    """Claim value to role, for example ``"TF.Lead" = "safeguarding_lead"``."""
    idle_minutes: Annotated[float, Field(ge=1, le=24 * 60)] = 30
    absolute_hours: Annotated[float, Field(ge=0.1, le=7 * 24)] = 12
    cookie_secure: bool = True
    """Off only for tests over plain http on loopback; refused for any other address."""
    smart: SmartSection = Field(default_factory=SmartSection)
    client_secret: Annotated[object, _SECRET_IN_FILE] = None

    def notes(self) -> Iterator[Fault]:
        if self.enabled:
            if not self.issuer:
                yield Fault(("issuer",), "is required when sign-in is enabled")
            if not self.client_id:
                yield Fault(("client_id",), "is required when sign-in is enabled")
            if not self.roles:
                yield Fault(("roles",), "map at least one claim value to a role")
            if "openid" not in self.scopes:
                yield Fault(("scopes",), "must include openid")
        if not self.cookie_secure and (self.enabled or self.smart.enabled):
            yield Fault(
                ("cookie_secure",),
                "is off: sign-in works only over plain http on loopback, for tests",
                WARNING,
            )
        for fault in self.smart.notes():
            yield Fault(("smart", *fault.at), fault.reason, fault.severity, fault.kind)


@dataclass(frozen=True, slots=True)
class SmartSettings:
    enabled: bool = False
    client_id: str = ""
    client_secret_env: str | None = None
    allowed_issuers: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ("launch", "openid", "fhirUser")

    def client_secret(self) -> str | None:
        return os.environ.get(self.client_secret_env) if self.client_secret_env else None


@dataclass(frozen=True, slots=True)
class SigninSettings:
    """The checked ``[signin]`` section."""

    enabled: bool = False
    issuer: str = ""
    client_id: str = ""
    client_secret_env: str = "THINKFAMILY_OIDC_CLIENT_SECRET"
    scopes: tuple[str, ...] = ("openid", "profile")
    role_claim: str = "roles"
    units_claim: str = ""
    roles: dict[str, Role] = field(default_factory=dict)
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    cookie_secure: bool = True
    smart: SmartSettings = SmartSettings()

    def client_secret(self) -> str:
        return os.environ.get(self.client_secret_env, "")


def read_signin_settings(config: TrustConfig) -> SigninSettings:
    """The checked ``[signin]`` section; raises ConfigError listing every fault."""
    issues = Issues(config.path)
    section = validate(
        SigninSection,
        config.section("signin"),
        issues,
        at=("signin",),
        context=SettingsContext(config.path),
    )
    errors = [i for i in issues.found if i.severity == ERROR]
    if section is None or errors:
        raise ConfigError(errors)
    smart = section.smart
    return SigninSettings(
        enabled=section.enabled,
        issuer=section.issuer,
        client_id=section.client_id,
        client_secret_env=section.client_secret_env,
        scopes=tuple(section.scopes),
        role_claim=section.role_claim,
        units_claim=section.units_claim,
        roles=dict(section.roles),
        idle=timedelta(minutes=section.idle_minutes),
        absolute=timedelta(hours=section.absolute_hours),
        cookie_secure=section.cookie_secure,
        smart=SmartSettings(
            enabled=smart.enabled,
            client_id=smart.client_id,
            client_secret_env=smart.client_secret_env,
            allowed_issuers=tuple(smart.allowed_issuers),
            scopes=tuple(smart.scopes),
        ),
    )


def roles_from(claims: dict[str, object], settings: SigninSettings) -> frozenset[Role]:
    """The roles the configured claim's values map to; unknown values give no role."""
    return frozenset(
        settings.roles[v] for v in _values(claims.get(settings.role_claim)) if v in settings.roles
    )


def units_from(claims: dict[str, object], settings: SigninSettings) -> tuple[str, ...]:
    if not settings.units_claim:
        return ()
    return tuple(dict.fromkeys(_values(claims.get(settings.units_claim))))


def _values(found: object) -> Iterable[str]:
    """A claim as a list of strings: providers send one value or a list."""
    if isinstance(found, str):
        return found.split() if " " in found else [found]
    if isinstance(found, list):
        return [v for v in found if isinstance(v, str)]
    return []
