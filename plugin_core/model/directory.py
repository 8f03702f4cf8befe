"""Where referrals go: authorities from the trust's directory, routes, channels, numbers to ring."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from plugin_core.model.levels import Threshold
from plugin_core.model_checks import check_fields


class Route(StrEnum):
    """Where a referral goes within (or beside) the local authority."""

    EARLY_HELP = "early_help"
    FRONT_DOOR = "front_door"
    OUT_OF_HOURS = "out_of_hours"
    POLICE = "police"
    LADO = "lado"


class Channel(StrEnum):
    """How a referral travels to its destination.

    The four members are ThinkFamily's own. A host's own channel (a file drop, a vendor's API)
    is any name of ``x-`` then lower-case letters, digits and hyphens, up to 64 characters:
    ``Channel("x-acme-filedrop")`` gives a member made for that name (the same object each
    time), so a route, a destination, a receipt and the audit trail carry the true channel.
    Such members are not listed when iterating the class. The plugin that declares the name
    with ``thinkfamily_channels`` delivers it.
    """

    FHIR = "fhir"
    HL7 = "hl7"
    EMAIL = "email"
    PHONE = "phone"

    @classmethod
    def _missing_(cls, value: object) -> Channel | None:
        if isinstance(value, str) and len(value) <= 64 and _HOST_CHANNEL.fullmatch(value):
            member = str.__new__(cls, value)
            member._name_ = value
            member._value_ = value
            found: Channel = cls._value2member_map_.setdefault(value, member)  # type: ignore[assignment]
            return found
        return None

    @property
    def is_host(self) -> bool:
        """True for a host's own channel (``x-...``), delivered by the plugin declaring it."""
        return self.value.startswith("x-")


_HOST_CHANNEL = re.compile(r"x-[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class Authority:
    """A local authority from the trust's directory, as chosen for a contact."""

    id: str
    """The authority's key in the trust's directory (``[authorities.<id>]``): an id that is
    not there is not taken, and the professional is asked to confirm the authority."""
    name: str
    """Shown to the professional; the directory's name replaces a plugin's."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class AuthorityMatch:
    """Result of locating the responsible authority: one, several (ambiguous) or none."""

    authority: Authority | None
    """The one responsible authority, or ``None`` when it is ambiguous or not known."""
    candidates: tuple[Authority, ...] = ()
    """The authorities it could be, offered to the professional to choose from."""
    reason: str = ""
    """How it was found (``from postcode``), or why not, in plain words."""

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def known(self) -> bool:
        return self.authority is not None


@dataclass(frozen=True, slots=True)
class Destination:
    """Where and how one referral is delivered, for the time it is sent."""

    authority: Authority | None
    """``None`` for the police, and when the authority was never confirmed."""
    route: Route
    """The route in effect now: ``front_door`` out of office hours becomes ``out_of_hours``."""
    channel: Channel
    """The route's channel in the directory; a host channel (``x-...``) as named there."""
    address: str
    """The route's ``address`` (a URL, ``host:port``, an email address or the host channel's
    own); for the phone channel, the number."""
    in_hours: bool
    """Whether the route is open at the time of sending: its own office hours in the directory,
    or else the authority's."""
    phones: tuple[str, ...] = ()
    """Numbers to ring when delivery fails or a call is needed; for a route that is closed,
    the numbers to ring once it opens."""
    label: str = ""
    """The route's label in the directory, or why there is no contact."""
    opens_at: datetime | None = None
    """For a route that is closed and not urgent: when it next opens (Europe/London). The
    referral is sent now and waits for then; a call, if one is needed, is for then."""
    threshold: Threshold | None = None
    """The authority's level-of-need wording and front-door name, which the referral uses;
    None for the product's own wording."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class Call:
    """A number to ring about a referral, and whether anyone answers it now."""

    number: str
    label: str
    """Who answers: the route's label in the directory, or the authority and route."""
    available_now: bool
    available_from: datetime | None = None
    """When not available now: when the route is next staffed (Europe/London)."""

    def __post_init__(self) -> None:
        check_fields(self)
