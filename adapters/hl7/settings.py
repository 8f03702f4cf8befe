"""The ``[hl7]`` section of a trust configuration, as a model checked with the rest.

Every key has a default, so a trust that says nothing still gets a working listener. The HL7
plugin contributes :class:`Hl7Section` through ``thinkfamily_config_sections``, so ``config
check`` lists every fault in the section at once, each by its dotted key.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo, model_validator

from adapters.hl7.tls import TlsFiles, server_context
from plugin_core.model import Relationship
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.faults import Refusals, choice, refuse
from plugin_core.settings.issues import ERROR, ConfigError, ConfigIssue, Issues
from plugin_core.settings.reader import validate
from plugin_core.settings.section import (
    FileName,
    Name,
    Section,
    SettingsContext,
    context_of,
    resolve,
)

DEFAULT_MAX_MESSAGE_BYTES = 1_048_576
ON_RECEIPT = "on-receipt"
AFTER_PROCESSING = "after-processing"
ACKNOWLEDGE = (ON_RECEIPT, AFTER_PROCESSING)
REFERRAL_VERSIONS = ("2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8")


class Hl7SettingsError(ConfigError):
    """The ``[hl7]`` section has faults; ``issues`` names each key."""


@dataclass(frozen=True, slots=True)
class ChildrenField:
    """Where a trust records "children in household": an OBX by code, or a Z-segment field."""

    segment: str = "OBX"
    observation: str = ""
    field: int = 5
    component: int = 1


@dataclass(frozen=True, slots=True)
class Hl7Settings:
    enabled: bool = True
    listen_host: str = "127.0.0.1"
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_connections: int = 64
    allowed_networks: tuple[str, ...] = ()
    max_connections_per_peer: int = 16
    frame_deadline_seconds: float = 30.0
    relationship_codes: dict[str, Relationship] = field(default_factory=dict)
    children_in_household: tuple[ChildrenField, ...] = ()
    nk1_is_household: bool = False
    sending_application: str = "THINKFAMILY"
    sending_facility: str = ""
    referral_version: str = "2.7"
    ack_timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 10.0
    listen_tls: TlsFiles | None = None
    referral_tls: TlsFiles | None = None
    acknowledge: str = ON_RECEIPT
    """``on-receipt``: journal, acknowledge, then process; ``after-processing``: acknowledge
    only once the contact is committed, so content errors come back in the ACK."""
    journal_keep_days: int = 7


def _segment(value: object) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalnum():
        refuse("must be a three-character segment name")
    value = value.upper()
    if value != "OBX" and not value.startswith("Z"):
        refuse("must be OBX or a Z-segment")
    return value


def _one_or_many(value: object) -> object:
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        refuse("must be a table or a list of tables")
    return value


Position = Annotated[int, Field(ge=1, le=999)]


class ChildrenPlace(Section):
    """One ``[[hl7.children_in_household]]``: an OBX by its OBX-3 code, or a Z-segment field."""

    segment: Annotated[str, BeforeValidator(_segment)] = "OBX"
    observation: str = ""
    field: Position | None = None
    component: Position = 1

    @model_validator(mode="after")
    def _observation_for_obx(self) -> ChildrenPlace:
        if self.segment == "OBX" and not self.observation.strip():
            refuse("is required for OBX (the OBX-3 code)", "observation")
        return self

    def place(self) -> ChildrenField:
        default = 5 if self.segment == "OBX" else 1
        number = self.field if self.field is not None else default
        return ChildrenField(self.segment, self.observation.strip(), number, self.component)


Seconds = Annotated[float, Field(gt=0, le=600)]


def _networks(value: object) -> object:
    """The sender networks let in (CIDR, or one address), written in their normal form."""
    if not isinstance(value, list) or not value:
        refuse('must be a list of networks, such as ["10.20.0.0/16"]')
    networks: list[str] = []
    for i, item in enumerate(value):
        try:
            if not isinstance(item, str):
                raise ValueError
            networks.append(str(ipaddress.ip_network(item.strip(), strict=True)))
        except ValueError:
            refuse("is not a network (such as 10.20.0.0/16)", i)
    return networks


class Hl7Section(Section):
    """The ``[hl7]`` section: listener, local codes, referral sending and TLS."""

    unknown_key = "is not a setting of the HL7 adapter"
    unknown_key_severity = ERROR

    enabled: bool = True
    listen_host: Name = "127.0.0.1"
    max_message_bytes: Annotated[int, Field(ge=1024, le=64 * 1_048_576)] = DEFAULT_MAX_MESSAGE_BYTES
    max_connections: Annotated[int, Field(ge=1, le=10_000)] = 64
    allowed_networks: Annotated[list[str] | None, BeforeValidator(_networks)] = None
    max_connections_per_peer: Annotated[int, Field(ge=0, le=10_000)] = 16
    frame_deadline_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    relationship_codes: dict[
        str,
        Annotated[
            Relationship,
            choice([r.value for r in Relationship], "a relationship", Relationship),
        ],
    ] = Field(default_factory=dict)
    children_in_household: Annotated[list[ChildrenPlace], BeforeValidator(_one_or_many)] = Field(
        default_factory=list
    )
    nk1_is_household: bool = False
    sending_application: Name = "THINKFAMILY"
    sending_facility: str = ""
    referral_version: Annotated[str, choice(REFERRAL_VERSIONS)] = "2.7"
    ack_timeout_seconds: Seconds = 30.0
    connect_timeout_seconds: Seconds = 10.0
    tls_certificate: FileName = ""
    tls_private_key: FileName = ""
    tls_client_ca: FileName = ""
    referral_tls: bool = False
    referral_tls_ca: FileName = ""
    referral_tls_certificate: FileName = ""
    referral_tls_private_key: FileName = ""
    acknowledge: Annotated[str, choice(ACKNOWLEDGE)] = ON_RECEIPT
    journal_keep_days: Annotated[int, Field(ge=1, le=3650)] = 7

    @model_validator(mode="after")
    def _listen_tls_usable(self, info: ValidationInfo) -> Hl7Section:
        faults = Refusals()
        certificate, key = self.tls_certificate, self.tls_private_key
        if not certificate and not key and self.tls_client_ca:
            faults.add("needs tls_certificate and tls_private_key", "tls_client_ca")
        elif bool(certificate) != bool(key):
            missing = "tls_private_key" if certificate else "tls_certificate"
            faults.add("TLS needs both a certificate and its private key", missing)
        context = context_of(info)
        if certificate and key and context is not None:
            try:
                server_context(self.listen_files(context.file) or TlsFiles())
            except (ssl.SSLError, OSError, AssertionError) as exc:
                faults.add(f"cannot be used ({exc.__class__.__name__})", "tls_certificate")
        faults.raise_any()
        return self

    def listen_files(self, trust_file: Path) -> TlsFiles | None:
        if not self.tls_certificate or not self.tls_private_key:
            return None
        return TlsFiles(
            resolve(self.tls_certificate, trust_file),
            resolve(self.tls_private_key, trust_file),
            resolve(self.tls_client_ca, trust_file),
        )

    def settings(self, trust_id: str, trust_file: Path) -> Hl7Settings:
        referral_tls = None
        if self.referral_tls:
            referral_tls = TlsFiles(
                resolve(self.referral_tls_certificate, trust_file),
                resolve(self.referral_tls_private_key, trust_file),
                resolve(self.referral_tls_ca, trust_file),
            )
        return Hl7Settings(
            enabled=self.enabled,
            listen_host=self.listen_host,
            max_message_bytes=self.max_message_bytes,
            max_connections=self.max_connections,
            allowed_networks=tuple(self.allowed_networks or ()),
            max_connections_per_peer=self.max_connections_per_peer,
            frame_deadline_seconds=self.frame_deadline_seconds,
            relationship_codes={
                code.strip().upper(): term for code, term in self.relationship_codes.items()
            },
            children_in_household=tuple(p.place() for p in self.children_in_household),
            nk1_is_household=self.nk1_is_household,
            sending_application=self.sending_application,
            sending_facility=self.sending_facility or trust_id,
            referral_version=self.referral_version,
            ack_timeout_seconds=self.ack_timeout_seconds,
            connect_timeout_seconds=self.connect_timeout_seconds,
            listen_tls=self.listen_files(trust_file),
            referral_tls=referral_tls,
            acknowledge=self.acknowledge,
            journal_keep_days=self.journal_keep_days,
        )


def check_hl7_settings(
    table: Any, trust_file: Path, trust_id: str
) -> tuple[Hl7Settings | None, list[ConfigIssue]]:
    """The settings (None when there are errors) and every fault in ``[hl7]``."""
    issues = Issues(trust_file)
    section = validate(Hl7Section, table, issues, at=("hl7",), context=SettingsContext(trust_file))
    if section is None:
        return None, issues.found
    return section.settings(trust_id, trust_file), issues.found


def load_settings(config: TrustConfig) -> Hl7Settings:
    """Settings from ``[hl7]``; raises Hl7SettingsError naming every key at fault."""
    settings, issues = check_hl7_settings(config.section("hl7"), config.path, config.trust_id)
    errors = [i for i in issues if i.severity == ERROR]
    if settings is None or errors:
        raise Hl7SettingsError(errors)
    return settings
