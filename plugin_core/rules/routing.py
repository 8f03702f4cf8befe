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
from datetime import datetime

from plugin_core.model import (
    Authority,
    AuthorityMatch,
    Channel,
    Child,
    Decision,
    Destination,
    FirstContact,
    Route,
)
from plugin_core.settings.directory import AuthorityEntry, Directory, RouteEntry

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


def destination(
    directory: Directory, authority_id: str | None, route: Route, at: datetime
) -> Destination:
    """How to reach ``route`` of an authority at time ``at``.

    The front door is used in office hours and the emergency duty team out of hours. A route
    with no configured contact becomes a phone destination with the numbers that are known,
    so the professional is told to call rather than the referral silently going nowhere.
    """
    if route is Route.POLICE:
        return _from_entry(None, route, directory.police, True)
    entry = directory.get(authority_id) if authority_id else None
    if entry is None:
        return Destination(None, route, Channel.PHONE, "", False, (), "authority not confirmed")
    authority = Authority(entry.id, entry.name)
    in_hours = entry.office_hours.is_open(at)
    effective = route
    if route is Route.FRONT_DOOR and not in_hours:
        effective = Route.OUT_OF_HOURS
    routed = entry.routes.get(effective)
    if routed is None or routed.missing or not isinstance(routed.channel, Channel):
        # dict.fromkeys keeps order and drops a number given twice (the same route twice).
        phones = tuple(
            dict.fromkeys(
                r.phone
                for r in (
                    # In office hours children's services can take any call; out of hours the
                    # duty team's number is offered only for the front door, not for early help.
                    entry.routes.get(Route.FRONT_DOOR)
                    if in_hours
                    else entry.routes.get(Route.OUT_OF_HOURS)
                    if route is Route.FRONT_DOOR
                    else None,
                    routed,
                )
                if r and r.phone
            )
        )
        return Destination(
            authority, effective, Channel.PHONE, "", in_hours, phones, "no contact configured"
        )
    return _from_entry(authority, effective, routed, in_hours)


def _from_entry(
    authority: Authority | None, route: Route, entry: RouteEntry, in_hours: bool
) -> Destination:
    channel = entry.channel if isinstance(entry.channel, Channel) else Channel.PHONE
    address = entry.phone if channel is Channel.PHONE else entry.address
    phones = (entry.phone,) if entry.phone else ()
    return Destination(authority, route, channel, address, in_hours, phones, entry.label)
