"""The local-authority directory as the routing rule reads it: who covers where, how to reach them.

Built from the trust's directory file by ``plugin_core.settings.directory``; frozen, so a rule can
never change what the trust configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from plugin_core.model import Channel, Route
from plugin_core.rules.clock import OfficeHours
from plugin_core.rules.levels import DEFAULT_THRESHOLD, Threshold
from plugin_core.rules.postcodes import PostcodeLookup


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
