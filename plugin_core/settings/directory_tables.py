"""The directory file's tables as pydantic models: each value checked where it is written.

Read one table at a time by ``plugin_core.settings.directory``, so a fault in one authority or
route never hides the faults of another.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from plugin_core.model import Channel
from plugin_core.rules.directory import RouteEntry
from plugin_core.rules.levels import LEVEL_NUMBERS
from plugin_core.rules.postcodes import GSS_CODE
from plugin_core.settings.faults import Refusals, refuse, shown
from plugin_core.settings.section import Name, Section

HOST_CHANNEL_PREFIX = "x-"
"""A route's channel may be a host plugin's own (``x-secure-mail``) besides the built-ins."""


_POSTCODE_PREFIX = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?( [0-9])?$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_HOST_PORT = re.compile(r"^[^:\s]+:[0-9]{1,5}$")
_CHANNEL_NAMES = frozenset(c.value for c in Channel)
_CHANNELS = ", ".join(c.value for c in Channel)


def _channel(value: object) -> Channel | str:
    if not isinstance(value, str):
        refuse("must be text")
    if value in _CHANNEL_NAMES:
        return Channel(value)
    if value.startswith(HOST_CHANNEL_PREFIX):
        try:
            return Channel(value)  # a host plugin's own; config check asks which plugin claims it
        except ValueError:
            pass  # not a well-formed host channel name: refused below like any other word
    refuse(f"{shown(value)} is not a channel ({_CHANNELS}, or x-name for a host's own)")


def _clock(value: object) -> time:
    if isinstance(value, time) and value.tzinfo is None:
        return value.replace(second=0, microsecond=0)
    if not isinstance(value, str):
        refuse("must be a time like 09:00")
    match = _TIME.match(value)
    if not match:
        refuse(f"{shown(value)} is not a time like 09:00")
    return time(int(match.group(1)), int(match.group(2)))


def _date(value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        refuse("must be a date like 2026-03-31, written without quotes")
    return value


def _postcode(value: object) -> str:
    if not isinstance(value, str):
        refuse("must be text")
    normal = value.strip().upper()
    if not _POSTCODE_PREFIX.match(normal):
        refuse(f"{shown(value)} is not a postcode district or sector")
    return normal


class RouteTable(Section):
    """``[police]`` and every ``routes.<route>`` table."""

    channel: Annotated[Channel | str, BeforeValidator(_channel)] | None = None
    address: str = ""
    phone: str = ""
    label: str = ""
    missing: str = ""
    verified_on: Annotated[date, BeforeValidator(_date)] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> RouteTable:
        faults = Refusals()
        channel, address = self.channel, self.address
        if channel is None and not self.missing:
            faults.add("is required (or say why in 'missing')", "channel")
        if channel is Channel.PHONE and not self.phone:
            faults.add("is required for the phone channel", "phone")
        if channel in (Channel.FHIR, Channel.HL7, Channel.EMAIL) and not address:
            faults.add(f"is required for the {channel} channel", "address")
        elif channel is Channel.FHIR and not address.startswith(("https://", "http://")):
            faults.add("must be an http(s) URL for the fhir channel", "address")
        elif channel is Channel.HL7 and not _HOST_PORT.match(address):
            faults.add("must be host:port for the hl7 channel", "address")
        elif channel is Channel.EMAIL and "@" not in address:
            faults.add("must be an email address for the email channel", "address")
        faults.raise_any()
        return self

    def entry(self) -> RouteEntry:
        return RouteEntry(
            self.channel,
            self.address,
            self.phone,
            self.label,
            self.missing,
            verified_on=self.verified_on,
        )


class OfficeHoursTable(Section):
    opens: Annotated[time, BeforeValidator(_clock)] = time(9, 0)
    closes: Annotated[time, BeforeValidator(_clock)] = time(17, 0)

    @model_validator(mode="after")
    def _in_order(self) -> OfficeHoursTable:
        if self.closes <= self.opens:
            refuse("must be later than opens", "closes")
        return self


def _gss(value: object) -> str:
    if not isinstance(value, str):
        refuse("must be text, an ONS code like E09000019")
    code = value.strip().upper()
    if code and not GSS_CODE.fullmatch(code):
        refuse("is not an ONS code like E09000019")
    return code


class LevelTable(Section):
    """``[authorities.<id>.levels.<1-4>]``: the authority's own words for one level of need."""

    title: str = ""
    descriptor: str = ""


def _threshold_url(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        refuse("must be an http(s) URL")
    return value


def _level_number(value: object) -> int:
    if not isinstance(value, str) or value not in {str(n) for n in LEVEL_NUMBERS}:
        refuse("is not a level of need (1, 2, 3 or 4)")
    return int(value)


class AuthorityTable(Section):
    """``[authorities.<id>]``; its routes are read one by one, each with :class:`RouteTable`."""

    name: Name
    front_door_name: str = ""
    threshold_url: Annotated[str, BeforeValidator(_threshold_url)] = ""
    levels: dict[Annotated[int, BeforeValidator(_level_number)], LevelTable] = Field(
        default_factory=dict
    )
    gss: Annotated[str, BeforeValidator(_gss)] = ""
    postcodes: list[Annotated[str, BeforeValidator(_postcode)]] = Field(default_factory=list)
    office_hours: OfficeHoursTable = OfficeHoursTable()
    routes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _covers_somewhere(self) -> AuthorityTable:
        if not self.postcodes:
            refuse("must list the postcode districts the authority covers", "postcodes")
        return self


class DirectoryFile(Section):
    police: dict[str, Any] | None = None
    authorities: dict[str, Any] = Field(default_factory=dict)
