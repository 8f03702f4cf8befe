"""The local-authority directory: who covers which postcodes, and how each route is reached.

Each authority and each route table is read with its own model, so a fault in one never hides
the faults, or the warnings about missing contacts, of another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from plugin_core.model import Channel, Route
from plugin_core.rules.clock import OfficeHours
from plugin_core.rules.levels import DEFAULT_THRESHOLD, LEVEL_NUMBERS, Threshold, with_overrides
from plugin_core.rules.postcodes import GSS_CODE, PostcodeLookup
from plugin_core.settings.faults import Refusals, refuse, shown
from plugin_core.settings.issues import ConfigIssue, Issues
from plugin_core.settings.reader import read_toml, valid_fields, validate
from plugin_core.settings.section import Name, Section, SettingsContext

HOST_CHANNEL_PREFIX = "x-"
"""A route's channel may be a host plugin's own (``x-secure-mail``) besides the built-ins."""


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """How one route of one authority is reached. ``missing`` explains a gap in the source.

    ``channel`` is a built-in :class:`Channel`, a host plugin's own channel name (text starting
    ``x-``), or None when no channel is given.
    """

    channel: Channel | str | None
    address: str = ""
    phone: str = ""
    label: str = ""
    missing: str = ""
    office_hours: OfficeHours | None = None
    """The route's own hours, when they differ from the authority's (early help, the LADO)."""
    verified_on: date | None = None
    """When someone last rang or wrote to the contact and found it right; the go-live check."""


@dataclass(frozen=True, slots=True)
class AuthorityEntry:
    id: str
    name: str
    postcode_prefixes: tuple[str, ...]
    office_hours: OfficeHours
    routes: dict[Route, RouteEntry]
    gss: str = ""
    """The authority's ONS (GSS) code, which the postcode lookup names; "" when not given."""
    threshold: Threshold = DEFAULT_THRESHOLD
    """Its level-of-need wording, front-door name and threshold document."""


@dataclass(frozen=True, slots=True)
class Directory:
    """The local-authority directory: who covers which postcodes and how to reach them."""

    authorities: dict[str, AuthorityEntry]
    police: RouteEntry
    postcodes: PostcodeLookup | None = None
    """The postcode lookup named by ``[trust] postcode_lookup``, when there is one."""
    file: str = ""
    """The file the directory was read from, which the go-live check names."""

    def get(self, authority_id: str) -> AuthorityEntry | None:
        return self.authorities.get(authority_id)

    def by_gss(self, code: str) -> AuthorityEntry | None:
        """The authority with this ONS code, or None when the directory has none."""
        return next((a for a in self.authorities.values() if a.gss == code), None)


# Models ------------------------------------------------------------------------------------

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


# Reading -----------------------------------------------------------------------------------

NEEDED_ROUTES = (Route.FRONT_DOOR, Route.OUT_OF_HOURS, Route.EARLY_HELP, Route.LADO)
_ROUTE_NAMES = frozenset(r.value for r in Route)
_ROUTES = ", ".join(r.value for r in Route)


def read_directory(path: Path) -> tuple[Directory | None, list[ConfigIssue]]:
    """The directory, or None when it has errors; and every issue found in it."""
    issues = Issues(path)
    data = read_toml(path, issues)
    if data is None:
        return None, issues.found
    context = SettingsContext(path)
    top = validate(DirectoryFile, data, issues, context=context)
    if top is None:  # its faults are listed: read on with the tables that are tables
        top = valid_fields(DirectoryFile, data)
    police: RouteEntry | None = None
    if "police" not in data:
        issues.error(("police",), "is required (the number for immediate danger)")
    elif top.police is not None:
        table = validate(RouteTable, top.police, issues, at=("police",), context=context)
        police = table.entry() if table is not None else None
    if not data.get("authorities"):
        issues.error(("authorities",), "must list at least one local authority")
    authorities: dict[str, AuthorityEntry] = {}
    gss_of: dict[str, str] = {}
    for auth_id, raw in top.authorities.items():
        entry = _authority(auth_id, raw, issues, context)
        if entry is None:
            continue
        if entry.gss and entry.gss in gss_of:
            issues.error(
                ("authorities", auth_id, "gss"),
                f"{entry.gss} is also given for authorities.{gss_of[entry.gss]}",
            )
        elif entry.gss:
            gss_of[entry.gss] = auth_id
        authorities[auth_id] = entry
    if police is None or issues.has_errors:
        return None, issues.found
    return Directory(authorities, police, file=str(path)), issues.found


def _authority(
    auth_id: str, raw: Any, issues: Issues, context: SettingsContext
) -> AuthorityEntry | None:
    at = ("authorities", auth_id)
    table = validate(AuthorityTable, raw, issues, at=at, context=context)
    raw_routes = raw.get("routes") if isinstance(raw, dict) else None
    routes: dict[Route, RouteEntry] = {}
    given: set[str] = set()
    for name, route_raw in (raw_routes if isinstance(raw_routes, dict) else {}).items():
        route_at = (*at, "routes", name)
        if name not in _ROUTE_NAMES:
            issues.error(route_at, f"{shown(name)} is not a route ({_ROUTES})")
            continue
        if name == Route.POLICE:
            issues.error(route_at, "police is set once, in [police]")
            continue
        given.add(name)
        own_hours = route_raw.get("office_hours") if isinstance(route_raw, dict) else None
        if isinstance(route_raw, dict):
            route_raw = {k: v for k, v in route_raw.items() if k != "office_hours"}
        route = validate(RouteTable, route_raw, issues, at=route_at, context=context)
        hours: OfficeHours | None = None
        if own_hours is not None and name == Route.OUT_OF_HOURS:
            issues.error(
                (*route_at, "office_hours"),
                "the emergency duty team takes the front door's work whenever the front door "
                "is closed; give the front door's hours instead",
            )
        elif own_hours is not None:
            at_hours = (*route_at, "office_hours")
            table_hours = validate(
                OfficeHoursTable, own_hours, issues, at=at_hours, context=context
            )
            if table_hours is not None:
                hours = OfficeHours(table_hours.opens, table_hours.closes)
        if route is not None:
            routes[Route(name)] = replace(route.entry(), office_hours=hours)
    for needed in NEEDED_ROUTES:
        found = routes.get(needed)
        if found is None and needed.value not in given:
            issues.warn(
                (*at, "routes", needed.value),
                "not configured: referrals on this route will need a phone call to be confirmed",
            )
        elif found is not None and found.missing:
            issues.warn((*at, "routes", needed.value), f"no contact given: {found.missing}")
    if table is None:
        return None
    hours = OfficeHours(table.office_hours.opens, table.office_hours.closes)
    threshold = with_overrides(
        {n: (level.title, level.descriptor) for n, level in table.levels.items()},
        table.front_door_name,
        table.threshold_url,
    )
    return AuthorityEntry(
        auth_id, table.name, tuple(table.postcodes), hours, routes, table.gss, threshold
    )


# The go-live check --------------------------------------------------------------------------

STALE_AFTER = timedelta(days=183)
"""A contact not verified for six months is checked again before it is relied on."""

NOT_CONFIGURED = "not configured"
NO_CONTACT = "no contact given"


def go_live_gaps(directory: Directory, today: date) -> list[tuple[str, str]]:
    """Every ``(key, reason)`` that should stop a directory going live.

    Each needed route of each authority must have a contact at every hour, a phone number for
    when someone must call, and a ``verified_on`` date within the last six months.
    """
    gaps: list[tuple[str, str]] = []
    gaps += _contact_gaps("police", directory.police, today)
    for auth_id, authority in directory.authorities.items():
        for needed in NEEDED_ROUTES:
            key = f"authorities.{auth_id}.routes.{needed.value}"
            found = authority.routes.get(needed)
            if found is None:
                gaps.append((key, f"{NOT_CONFIGURED}: give a contact for this route"))
            elif found.missing:
                gaps.append((key, f"{NO_CONTACT}: {found.missing}"))
            else:
                gaps += _contact_gaps(key, found, today)
    return gaps


def _contact_gaps(key: str, entry: RouteEntry, today: date) -> list[tuple[str, str]]:
    gaps: list[tuple[str, str]] = []
    if entry.channel is not None and entry.channel is not Channel.PHONE and not entry.phone:
        gaps.append((f"{key}.phone", "missing: give a number for when someone must call"))
    if entry.verified_on is None:
        gaps.append((f"{key}.verified_on", "missing: give the date the contact was last checked"))
    elif today - entry.verified_on > STALE_AFTER:
        gaps.append(
            (
                f"{key}.verified_on",
                f"{entry.verified_on.isoformat()} is more than six months ago; check the "
                "contact again",
            )
        )
    return gaps
