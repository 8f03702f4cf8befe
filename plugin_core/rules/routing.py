"""Which authority is responsible, which route a referral takes, and how it is reached now.

The responsible authority comes from the children's postcodes where recorded, otherwise the
adult's. Where the trust has a postcode lookup (ONS data), it settles each full postcode it
holds; otherwise the directory's sectors and districts do, but only where one authority covers
them. A postcode covered by two authorities, or by none, is never guessed: the professional is
asked to confirm.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from plugin_core.model import (
    Authority,
    AuthorityMatch,
    Call,
    Channel,
    Child,
    Decision,
    Destination,
    FirstContact,
    Route,
)
from plugin_core.rules.clock import OfficeHours
from plugin_core.rules.directory import AuthorityEntry, Directory, RouteEntry

_OUTWARD = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})?$")


def normalise_postcode(raw: str) -> tuple[str, str | None] | None:
    """(district, sector) of a UK postcode, or None when it is not one.

    The sector is the district plus the first digit of the inward code ("N7 8").
    """
    text = re.sub(r"\s+", "", raw.upper())
    if len(text) > 4 and text[-3].isdigit():
        text = f"{text[:-3]} {text[-3:]}"
    match = _OUTWARD.match(text)
    if not match:
        return None
    district, inward = match.group(1), match.group(2)
    return district, (f"{district} {inward[0]}" if inward else None)


def authorities_for_postcode(directory: Directory, postcode: str) -> tuple[AuthorityEntry, ...]:
    """Authorities covering a postcode: a sector match beats a district match."""
    parts = normalise_postcode(postcode)
    if parts is None:
        return ()
    district, sector = parts
    if sector is not None:
        by_sector = tuple(
            a for a in directory.authorities.values() if sector in a.postcode_prefixes
        )
        if by_sector:
            return by_sector
    return tuple(a for a in directory.authorities.values() if district in a.postcode_prefixes)


def locate_authority(
    directory: Directory, contact: FirstContact, children: Iterable[Child]
) -> AuthorityMatch:
    """The authority responsible for the children, or why it cannot be told."""
    postcodes = [c.postcode for c in children if c.postcode and not c.unborn]
    if not postcodes and contact.patient.postcode:
        postcodes = [contact.patient.postcode]
    if not postcodes:
        return AuthorityMatch(None, (), "no postcode is recorded")
    found: dict[str, AuthorityEntry] = {}
    by_lookup = True
    for postcode in postcodes:
        if normalise_postcode(postcode) is None:
            return AuthorityMatch(None, (), "a recorded postcode is not a valid UK postcode")
        codes = directory.postcodes.codes_for(postcode) if directory.postcodes else ()
        if codes:
            entry = next(filter(None, map(directory.by_gss, codes)), None)
            if entry is None:
                return AuthorityMatch(None, (), _outside_directory(codes))
            found[entry.id] = entry
            continue
        # Not in the lookup (none configured, a partial or terminated postcode, a new one).
        by_lookup = False
        matches = authorities_for_postcode(directory, postcode)
        if not matches:
            return AuthorityMatch(None, (), "a postcode is outside the trust's directory")
        for entry in matches:
            found[entry.id] = entry
    candidates = tuple(Authority(e.id, e.name) for e in found.values())
    if len(candidates) == 1:
        reason = "from postcode lookup" if by_lookup else "from postcode"
        return AuthorityMatch(candidates[0], candidates, reason)
    return AuthorityMatch(None, candidates, "the postcode is covered by more than one authority")


def _outside_directory(codes: tuple[str, ...]) -> str:
    """Why the lookup's answer cannot be used: names the ONS area (never the postcode)."""
    area = codes[0] if len(codes) == 1 else f"{codes[0]} (county {codes[1]})"
    return (
        f"a postcode is in ONS local authority area {area}, which is not in the trust's directory"
    )


def routes_for(decision: Decision) -> tuple[Route, ...]:
    """The routes a sharing decision takes, most urgent first.

    Immediate danger goes to the police and to children's services; a concern about someone
    who works with children goes to the LADO; otherwise the level of need decides.
    """
    if not decision.share:
        return ()
    routes: list[Route] = []
    if decision.immediate_danger:
        routes.append(Route.POLICE)
    if decision.concerns_person_working_with_children:
        routes.append(Route.LADO)
    level = decision.level_of_need
    if decision.immediate_danger or (level is not None and level >= 3):
        routes.append(Route.FRONT_DOOR)
    elif level == 2:
        routes.append(Route.EARLY_HELP)
    return tuple(routes)


ROUTE_WORDS = {
    Route.FRONT_DOOR: "children's services",
    Route.OUT_OF_HOURS: "emergency duty team",
    Route.EARLY_HELP: "early help",
    Route.LADO: "LADO",
    Route.POLICE: "police",
}
"""How a route is named to a professional when the directory gives it no label."""


def route_hours(entry: AuthorityEntry, route: Route) -> OfficeHours:
    """When a route of an authority is staffed: its own hours if the directory gives them,
    otherwise the authority's."""
    own = entry.routes.get(route)
    if own is not None and own.office_hours is not None:
        return own.office_hours
    return entry.office_hours


def hours_for(directory: Directory, authority_id: str | None, route: Route) -> OfficeHours:
    """A route's hours; the default weekday hours when the authority is not yet known."""
    entry = directory.get(authority_id) if authority_id else None
    return route_hours(entry, route) if entry is not None else OfficeHours()


@dataclass(frozen=True, slots=True)
class _Reached:
    destination: Destination
    numbers: tuple[tuple[str, str], ...]
    """(number, who answers) for each of the destination's phones."""


def destination(
    directory: Directory,
    authority_id: str | None,
    route: Route,
    at: datetime,
    *,
    urgent: bool = True,
) -> Destination:
    """How to reach ``route`` of an authority at time ``at``.

    A route is used in its hours. Out of hours, urgent work for the front door goes to the
    emergency duty team; anything else is still sent to its route at once, marked with when
    the route next opens (``opens_at``), as is any call it needs. A route with no configured
    contact becomes a phone destination with the numbers that are known, so the professional
    is told to call rather than the referral silently going nowhere. ``urgent`` defaults to
    the emergency duty team's side, the safe one when urgency is not known.
    """
    return _reach(directory, authority_id, route, at, urgent).destination


def calls_for(
    directory: Directory,
    authority_id: str | None,
    route: Route,
    at: datetime,
    *,
    urgent: bool = True,
) -> tuple[Call, ...]:
    """The numbers to ring about a referral at ``at``: those answered now first, then, when
    the referral's own route is closed, its numbers from when it next opens."""
    now = _reach(directory, authority_id, route, at, urgent)
    calls: list[Call] = []
    if now.destination.opens_at is None:
        calls.extend(Call(number, label, True) for number, label in now.numbers)
    if not now.destination.in_hours:
        opens = hours_for(directory, authority_id, route).next_open(at)
        later = _reach(directory, authority_id, route, opens, urgent)
        known = {c.number for c in calls}
        calls.extend(
            Call(number, label, False, opens)
            for number, label in later.numbers
            if number not in known
        )
    return tuple(calls)


def _reach(
    directory: Directory, authority_id: str | None, route: Route, at: datetime, urgent: bool
) -> _Reached:
    if route is Route.POLICE:
        police = directory.police
        return _Reached(
            _from_entry(None, route, police, True),
            ((police.phone, police.label or "Police"),) if police.phone else (),
        )
    entry = directory.get(authority_id) if authority_id else None
    if entry is None:
        where = Destination(None, route, Channel.PHONE, "", False, (), "authority not confirmed")
        return _Reached(where, ())
    authority = Authority(entry.id, entry.name)
    hours = route_hours(entry, route)
    in_hours = hours.is_open(at)
    effective = route
    opens_at = None
    if not in_hours:
        if route is Route.FRONT_DOOR and urgent:
            effective = Route.OUT_OF_HOURS
        else:
            opens_at = hours.next_open(at)
    # The numbers are for when the call can be made: now, or when the route opens.
    when = opens_at or at
    routed = entry.routes.get(effective)
    # In its hours children's services can take any call, so the front door's number is
    # offered for a route with no number of its own; the duty team's is offered only for the
    # front door's own work, never for early help or the LADO.
    door = entry.routes.get(Route.FRONT_DOOR)
    fallback = door if route_hours(entry, Route.FRONT_DOOR).is_open(when) else None
    if routed is None or routed.missing or routed.channel is None:
        numbers = _numbers(entry, ((fallback, Route.FRONT_DOOR), (routed, effective)))
        where = Destination(
            authority,
            effective,
            Channel.PHONE,
            "",
            in_hours,
            tuple(n for n, _ in numbers),
            "no contact configured",
            opens_at,
            entry.threshold,
        )
        return _Reached(where, numbers)
    numbers = _numbers(entry, ((routed, effective),)) or _numbers(
        entry, ((fallback, Route.FRONT_DOOR),)
    )
    where = _from_entry(authority, effective, routed, in_hours, opens_at)
    phones = tuple(n for n, _ in numbers)
    return _Reached(replace(where, phones=phones, threshold=entry.threshold), numbers)


def _numbers(
    entry: AuthorityEntry, routes: Iterable[tuple[RouteEntry | None, Route]]
) -> tuple[tuple[str, str], ...]:
    """Each number once (the same route twice, or one number for two routes), in order."""
    found: dict[str, str] = {}
    for routed, route in routes:
        if routed is not None and routed.phone and routed.phone not in found:
            found[routed.phone] = routed.label or f"{entry.name} {ROUTE_WORDS[route]}"
    return tuple(found.items())


def _from_entry(
    authority: Authority | None,
    route: Route,
    entry: RouteEntry,
    in_hours: bool,
    opens_at: datetime | None = None,
) -> Destination:
    channel = entry.channel if isinstance(entry.channel, Channel) else Channel.PHONE
    address = entry.phone if channel is Channel.PHONE else entry.address
    phones = (entry.phone,) if entry.phone else ()
    return Destination(authority, route, channel, address, in_hours, phones, entry.label, opens_at)
