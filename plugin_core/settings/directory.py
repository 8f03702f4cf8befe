"""The local-authority directory: who covers which postcodes, and how each route is reached.

Each authority and each route table is read with its own model, so a fault in one never hides
the faults, or the warnings about missing contacts, of another.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from plugin_core.model import Channel, Route
from plugin_core.rules.clock import OfficeHours
from plugin_core.rules.directory import AuthorityEntry, Directory, RouteEntry
from plugin_core.rules.levels import with_overrides
from plugin_core.settings.directory_tables import (
    HOST_CHANNEL_PREFIX,
    AuthorityTable,
    DirectoryFile,
    LevelTable,
    OfficeHoursTable,
    RouteTable,
)
from plugin_core.settings.faults import shown
from plugin_core.settings.issues import ConfigIssue, Issues
from plugin_core.settings.reader import read_toml, valid_fields, validate
from plugin_core.settings.section import SettingsContext

__all__ = [
    "HOST_CHANNEL_PREFIX",
    "NEEDED_ROUTES",
    "NOT_CONFIGURED",
    "NO_CONTACT",
    "STALE_AFTER",
    "AuthorityEntry",
    "AuthorityTable",
    "Directory",
    "DirectoryFile",
    "LevelTable",
    "OfficeHoursTable",
    "RouteEntry",
    "RouteTable",
    "go_live_gaps",
    "read_directory",
]


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
