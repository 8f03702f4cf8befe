"""The sections of the trust file the core reads, as models with their ranges.

``[trust]``, ``[urgency]``, ``[safeguarding]``, ``[wording]``, ``[service]``, ``[api]``,
``[plugins]`` and ``[outbox]``. Adapters contribute their own sections (``[hl7]``, ``[fhir]``,
``[email]``, ``[web]``) through ``thinkfamily_config_sections``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    model_validator,
)

from plugin_core.model import PromptCode
from plugin_core.settings.config import SafeguardingLead, Urgency
from plugin_core.settings.faults import never, refuse, shown
from plugin_core.settings.issues import ERROR
from plugin_core.settings.relationships import RELATIONSHIPS_FILE
from plugin_core.settings.section import EnvVar, Name, Port, Section

WORDING_MAX = 140
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,}[0-9](\s*(ext|x)\.?\s*[0-9]+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class TrustSection(Section):
    id: Name
    name: Name
    directory: Name
    code_lists: Name
    relationships: Name = RELATIONSHIPS_FILE
    recheck_days: Annotated[int, Field(ge=1, le=3650)] = 90
    postcode_lookup: str = ""
    """The ONS postcode lookup built by ``thinkfamily postcodes import``, relative to this file."""


def _level(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4:
        refuse("must be a level of need from 1 to 4")
    return value


class UrgencySection(Section):
    urgent_levels: list[Annotated[int, BeforeValidator(_level)]] = Field(
        default_factory=lambda: [4]
    )
    urgent_ack_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    routine_ack_hours: Annotated[int, Field(ge=1, le=720)] = 24
    lado_ack_hours: Annotated[int, Field(ge=1, le=720)] = 8

    def urgency(self) -> Urgency:
        # An empty list is read as the default: level 4 is always urgent unless others are named.
        levels = frozenset(self.urgent_levels or [4])
        return Urgency(levels, self.urgent_ack_minutes, self.routine_ack_hours, self.lado_ack_hours)


def _phone(value: str) -> str:
    value = value.strip()
    if value and not _PHONE.match(value):
        refuse(f"{shown(value)} is not a phone number")
    return value


def _email(value: str) -> str:
    value = value.strip()
    if value and not _EMAIL.match(value):
        refuse(f"{shown(value)} is not an email address")
    return value


class LeadTable(Section):
    name: Name
    role: Name
    phone: Annotated[str, AfterValidator(_phone)] = ""
    email: Annotated[str, AfterValidator(_email)] = ""

    @model_validator(mode="after")
    def _reachable(self) -> LeadTable:
        if not self.phone and not self.email:
            refuse("give a phone number or an email address for the lead")
        return self

    def lead(self) -> SafeguardingLead:
        return SafeguardingLead(self.name, self.role, self.phone, self.email)


class SafeguardingSection(Section):
    """Required: without a lead, an overridden level 4 referral would alert nobody."""

    lead: LeadTable | None = None

    @model_validator(mode="after")
    def _has_lead(self) -> SafeguardingSection:
        if self.lead is None:
            refuse(
                "is required: the trust's safeguarding lead (name, role, and a phone or email), "
                "who is alerted when level 4 or immediate danger is not referred",
                "lead",
            )
        return self


def _summary(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        refuse("must be non-empty text")
    if len(value) > WORDING_MAX:
        refuse(f"must fit in {WORDING_MAX} characters")
    return value


_PROMPT_CODES = [c.value for c in PromptCode]


def _prompt_code(value: object) -> PromptCode:
    if not isinstance(value, str) or value not in _PROMPT_CODES:
        refuse(f"{shown(str(value))} is not a prompt code")
    return PromptCode(value)


PromptKey = Annotated[PromptCode, BeforeValidator(_prompt_code)]
Summary = Annotated[str, BeforeValidator(_summary)]


class WordingSection(RootModel[dict[PromptKey, Summary]]):
    """Replacement prompt summaries (at most 140 characters), keyed by prompt code."""

    model_config = ConfigDict(strict=True, frozen=True, hide_input_in_errors=True)

    root: dict[PromptKey, Summary] = Field(default_factory=dict)


class ServiceSection(Section):
    http_port: Port = 8080
    mllp_port: Port = 2575


class ApiSection(Section):
    token_env: EnvVar = "THINKFAMILY_API_TOKEN"
    token: Annotated[
        object,
        never("tokens must not be written in the file; name a variable in api.token_env"),
    ] = None
    metrics: Literal["token", "loopback"] = "token"
    """Who may read ``/metrics``: holders of the API token, or also any caller on loopback."""


class PluginsSection(Section):
    """``disabled`` lists plugin names to block. Any other key is an error: a misspelt switch
    would otherwise leave running a plugin the trust meant to stop."""

    unknown_key = "is not a known key; the only key is 'disabled'"
    unknown_key_severity = ERROR

    disabled: list[str] = Field(default_factory=list)


Seconds = Annotated[float, Field(ge=0.01, le=3600)]
"""A delay or period in seconds: from a hundredth of a second to an hour."""


class OutboxSection(Section):
    """How the outbox worker paces itself; a period of 0 or less would spin a CPU core."""

    poll_seconds: Seconds = 1.0
    retry_base_seconds: Seconds = 2.0
    retry_cap_seconds: Annotated[float, Field(ge=0.01, le=86400)] = 300.0
    lease_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    batch: Annotated[int, Field(ge=1, le=1000)] = 20

    @model_validator(mode="after")
    def _cap_above_base(self) -> OutboxSection:
        if self.retry_cap_seconds < self.retry_base_seconds:
            refuse("must be at least retry_base_seconds", "retry_cap_seconds")
        return self


CORE_SECTIONS: dict[str, type[BaseModel]] = {
    "trust": TrustSection,
    "urgency": UrgencySection,
    "safeguarding": SafeguardingSection,
    "wording": WordingSection,
    "service": ServiceSection,
    "api": ApiSection,
    "plugins": PluginsSection,
    "outbox": OutboxSection,
}
"""The trust file's own sections; any other table belongs to a plugin."""
